"""`POST .../bulk` views: one transaction per request, audited as an IngestBatch."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.parsers import RawJSONParser
from production.models import IngestBatch
from production.services import ingest_batch_run, production_bulk_ingest

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
                enum=[choice for choice, _ in IngestBatch.OnConflict.choices],
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


class BulkIngestView(APIView):
    """Reads its body itself (bounded by the body-limit middleware) and hands it to a service."""

    resource: str
    document_key: str
    parser_classes = [RawJSONParser]
    on_conflict_modes: tuple[str, ...] = tuple(IngestBatch.OnConflict.values)
    change_permission: str | None = None

    def write(self, body, *, on_conflict: str, user):
        raise NotImplementedError

    def post(self, request):
        on_conflict = request.query_params.get("on_conflict", IngestBatch.OnConflict.ERROR)
        if on_conflict not in self.on_conflict_modes:
            choices = ", ".join(self.on_conflict_modes)
            raise ValidationError({"on_conflict": [f"Choose one of: {choices}."]})
        if on_conflict == IngestBatch.OnConflict.UPDATE and not request.user.has_perm(
            self.change_permission
        ):
            raise PermissionDenied(
                "on_conflict=update changes existing rows: it needs change rights."
            )
        idempotency_key = request.headers.get("Idempotency-Key")
        if idempotency_key is not None and not 0 < len(idempotency_key) <= 200:
            raise ValidationError({"Idempotency-Key": ["Send 1 to 200 characters."]})
        # An empty body leaves DRF's own empty data, not bytes.
        raw = request.data if isinstance(request.data, bytes) else b""
        outcome = ingest_batch_run(
            resource=self.resource,
            raw=raw,
            on_conflict=on_conflict,
            user=request.user,
            idempotency_key=idempotency_key,
            document_key=self.document_key,
            write=lambda body: self.write(body, on_conflict=on_conflict, user=request.user),
        )
        headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
        return Response(outcome.body, status=status.HTTP_201_CREATED, headers=headers)


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


class ProductionBulkView(BulkIngestView):
    """Ingest many production records in one transaction (operator, manager)."""

    resource = IngestBatch.Resource.PRODUCTION
    document_key = "factories"
    required_permissions = {"POST": ["production.add_productionrecord"]}
    change_permission = "production.change_productionrecord"

    @bulk_schema(
        item_schema=RECORD_ITEM,
        document_schema=CHART_DOCUMENT,
        summary="Ingest many production records",
        on_conflict=True,
    )
    def post(self, request):
        return super().post(request)

    def write(self, body, *, on_conflict: str, user):
        return production_bulk_ingest(body=body, on_conflict=on_conflict, user=user)
