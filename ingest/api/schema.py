"""The OpenAPI description every bulk endpoint shares."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from ingest.models import OnConflict

BULK_RESULT = {
    "type": "object",
    "properties": {
        "created": {"type": "integer"},
        "updated": {"type": "integer"},
        "skipped": {"type": "integer"},
        "batch": {"type": "integer", "description": "The IngestBatch that audits this request."},
    },
    "required": ["created", "updated", "skipped", "batch"],
}
ERRORS_BY_ITEM = OpenApiResponse(
    description='Every failing item by index, then field: `{"3": {"time": ["..."]}}`; for a '
    'chart-data document the index is "<entry>.<point>".'
)


def bulk_schema(
    *,
    item_schema: dict,
    summary: str,
    on_conflict: bool,
    document_key: str | None = None,
    document_schema: dict | None = None,
):
    """The OpenAPI description of a bulk endpoint; the document is `{document_key: [items]}`
    unless a `document_schema` is given."""
    if document_schema is None:
        document_schema = {
            "type": "object",
            "properties": {document_key: {"type": "array", "items": item_schema}},
            "required": [document_key],
        }
    parameters = [
        OpenApiParameter(
            "Idempotency-Key",
            str,
            OpenApiParameter.HEADER,
            description="A retry with the same key and body answers the first response and "
            "writes nothing; the same key with another body is a 409.",
        )
    ]
    if on_conflict:
        parameters.append(
            OpenApiParameter(
                "on_conflict",
                str,
                enum=list(OnConflict.values),
                description="Rows whose (factory, time) exists or repeats: `error` (409, "
                "default), `skip` (the existing row, or the first in the body, stays), "
                "`update` (the last in the body wins).",
            )
        )
    body = {
        "oneOf": [
            {"type": "array", "items": item_schema},
            {
                "type": "object",
                "properties": {"items": {"type": "array", "items": item_schema}},
                "required": ["items"],
            },
            document_schema,
        ]
    }
    return extend_schema(
        summary=summary,
        request={"application/json": body},
        parameters=parameters,
        responses={
            201: OpenApiResponse(response=BULK_RESULT, description="Written."),
            400: ERRORS_BY_ITEM,
            403: OpenApiResponse(description="Not allowed."),
            409: OpenApiResponse(description="Conflicting rows, or a reused Idempotency-Key."),
            411: OpenApiResponse(description="No Content-Length."),
            413: OpenApiResponse(description="Over BULK_MAX_BYTES or BULK_MAX_ROWS."),
        },
    )
