"""OpenAPI additions for production's raw-record reads."""

RECORDS_SINCE = "Production-Records-Since"
RECORDS_SINCE_HEADER = {
    RECORDS_SINCE: {
        "description": "Sent when PRODUCTION_RAW_RETENTION is set (PostgreSQL): where raw "
        "records begin (RFC 3339, UTC). Records before it have been dropped and are "
        "summarised only: GET /production/summary still answers for those periods, from "
        "the hourly and daily rollups.",
        "schema": {"type": "string", "format": "date-time"},
    }
}
# The operations that read raw records: lists, single records, exports and chart data.
RAW_READS = frozenset(
    {
        "production_list",
        "production_records_retrieve",
        "production_factory_list",
        "factories_chart_data_list",
        "factories_chart_data_retrieve",
    }
)


def describe_records_kept_since(result: dict, generator, request, public) -> dict:
    """Every raw-record read documents the header that says where raw records begin."""
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            raw = operation.get("operationId") in RAW_READS
            if method == "get" and raw and "200" in operation.get("responses", {}):
                operation["responses"]["200"].setdefault("headers", {}).update(RECORDS_SINCE_HEADER)
    return result
