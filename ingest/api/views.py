"""The generic `POST .../bulk` view: one transaction per request, audited as an IngestBatch."""

from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.exceptions import error_status_and_detail
from core.api.parsers import RawJSONParser
from ingest.models import OnConflict
from ingest.services import (
    BulkWriter,
    ingest_batch_failure_record,
    ingest_batch_prepare,
    ingest_batch_run,
)

IDEMPOTENCY_KEY_MAX = 200


class BulkIngestView(APIView):
    """Reads its body itself (bounded by the body-limit middleware) and hands it to a service.

    Subclasses declare `resource`, `document_key` (the original document's list), `write`
    (the service that validates and writes a body), `required_permissions`, and, when
    `on_conflict=update` is offered, the `change_permission` it needs. `write` is declared
    as a `staticmethod`.
    """

    resource: str
    document_key: str
    write: BulkWriter
    parser_classes = [RawJSONParser]
    on_conflict_modes: tuple[OnConflict, ...] = tuple(OnConflict)
    change_permission: str | None = None

    def post(self, request):
        on_conflict = self._on_conflict(request)
        idempotency_key = request.headers.get("Idempotency-Key")
        if idempotency_key is not None and not (
            0 < len(idempotency_key) <= IDEMPOTENCY_KEY_MAX and idempotency_key.isprintable()
        ):
            # Control characters and lone surrogates cannot be stored (PostgreSQL refuses NUL).
            raise ValidationError({"Idempotency-Key": ["Send 1 to 200 printable characters."]})
        # An empty body leaves DRF's own empty data, not bytes.
        raw = request.data if isinstance(request.data, bytes) else b""
        batch = ingest_batch_prepare(
            resource=self.resource,
            raw=raw,
            on_conflict=on_conflict,
            user=request.user,
            idempotency_key=idempotency_key,
        )
        try:
            outcome = ingest_batch_run(
                batch=batch, raw=raw, document_key=self.document_key, write=self.write
            )
        except Exception as error:
            status_code, detail = error_status_and_detail(error)
            ingest_batch_failure_record(batch=batch, status_code=status_code, detail=detail)
            raise
        headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
        return Response(outcome.body, status=status.HTTP_201_CREATED, headers=headers)

    def _on_conflict(self, request) -> OnConflict:
        value = request.query_params.get("on_conflict", OnConflict.ERROR)
        if value not in self.on_conflict_modes:
            choices = ", ".join(self.on_conflict_modes)
            raise ValidationError({"on_conflict": [f"Choose one of: {choices}."]})
        on_conflict = OnConflict(value)
        if on_conflict is OnConflict.UPDATE and not request.user.has_perm(self.change_permission):
            raise PermissionDenied(
                "on_conflict=update changes existing rows: it needs change rights."
            )
        return on_conflict
