"""`POST /production/bulk`: production records, or the original chart-data document."""

from drf_spectacular.utils import extend_schema_view

from ingest.api.schema import bulk_schema
from ingest.api.views import BulkIngestView
from production.models import PRODUCTION
from production.services import production_bulk_ingest

RECORD_ITEM = {"$ref": "#/components/schemas/ProductionRecordRequest"}
CHART_DOCUMENT = {
    "type": "object",
    "description": "The original seed_factory_data.json, or a chart-data document. A factory "
    'given by `id` must exist; one given by `name` is matched or created; one with neither is "Factory {position}".',
    "properties": {
        "factories": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "factory": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "integer"},
                            "name": {"type": "string"},
                            "chart_data": {
                                "type": "object",
                                "properties": {
                                    "sprocket_production_actual": {
                                        "type": "array",
                                        "items": {"type": "integer"},
                                    },
                                    "sprocket_production_goal": {
                                        "type": "array",
                                        "items": {"type": "integer"},
                                    },
                                    "time": {"type": "array", "items": {"type": "integer"}},
                                },
                                "required": [
                                    "sprocket_production_actual",
                                    "sprocket_production_goal",
                                    "time",
                                ],
                            },
                        },
                        "required": ["chart_data"],
                    }
                },
                "required": ["factory"],
            },
        }
    },
    "required": ["factories"],
}


@extend_schema_view(
    post=bulk_schema(
        item_schema=RECORD_ITEM,
        document_schema=CHART_DOCUMENT,
        summary="Ingest many production records",
        on_conflict=True,
    )
)
class ProductionBulkView(BulkIngestView):
    """Ingest many production records in one transaction (operator, manager)."""

    resource = PRODUCTION
    document_key = "factories"
    write = staticmethod(production_bulk_ingest)
    required_permissions = {"POST": ["production.add_productionrecord"]}
    change_permission = "production.change_productionrecord"
