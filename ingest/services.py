"""Bulk requests run as one transaction each and audited as an IngestBatch."""

import hashlib
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction

from core.errors import Conflict
from core.ops.db import statement_timeout_set_local
from ingest.body import BulkBody, Counts, bulk_body_parse
from ingest.models import IngestBatch, OnConflict

User = AbstractBaseUser | AnonymousUser


class BulkWriter(Protocol):
    """The service that validates and writes one resource's bulk body."""

    def __call__(self, *, body: BulkBody, on_conflict: OnConflict, user: User) -> Counts: ...


@dataclass
class BatchOutcome:
    """What a bulk request answers: its body, and whether it replays an earlier answer."""

    body: dict
    replayed: bool = False


def ingest_batch_prepare(
    *,
    resource: str,
    raw: bytes,
    on_conflict: OnConflict,
    user: User,
    idempotency_key: str | None,
) -> IngestBatch:
    """The audit row of a bulk request, not yet saved."""
    return IngestBatch(
        user=user if user.is_authenticated else None,
        resource=resource,
        on_conflict=on_conflict,
        idempotency_key=idempotency_key or None,
        request_hash=hashlib.sha256(on_conflict.encode() + b"\n" + raw).hexdigest(),
        status_code=201,
    )


def _replay(batch: IngestBatch) -> BatchOutcome | None:
    previous = IngestBatch.objects.filter(
        user=batch.user, resource=batch.resource, idempotency_key=batch.idempotency_key
    ).first()
    if previous is None:
        return None
    if previous.request_hash != batch.request_hash:
        raise Conflict(
            "This Idempotency-Key was already used with another body; use a new key for it."
        )
    return BatchOutcome(body=_success_body(previous), replayed=True)


def _success_body(batch: IngestBatch) -> dict:
    """The answer to a written batch, from its own columns: a replay answers the same bytes
    (the copy kept in `response` is jsonb, which reorders keys)."""
    return {
        "created": batch.created,
        "updated": batch.updated,
        "skipped": batch.skipped,
        "batch": batch.pk,
    }


def ingest_batch_run(
    *, batch: IngestBatch, raw: bytes, document_key: str, write: BulkWriter
) -> BatchOutcome:
    """Parse the body and `write` it in one transaction that also saves `batch`.

    With an Idempotency-Key, a retry of the same body answers the first success again and
    writes nothing; the same key with another body is a conflict.
    """
    if batch.idempotency_key:
        replay = _replay(batch)
        if replay is not None:
            return replay
    body = bulk_body_parse(raw, document_key=document_key)
    batch.shape = body.shape
    with transaction.atomic():
        statement_timeout_set_local(settings.BULK_STATEMENT_TIMEOUT)
        try:
            with transaction.atomic():
                batch.save()
        except IntegrityError:
            # The same key is being used by a request that committed meanwhile.
            replay = _replay(batch)
            if replay is not None:
                return replay
            raise
        counts = write(body=body, on_conflict=OnConflict(batch.on_conflict), user=batch.user)
        batch.created, batch.updated, batch.skipped = (
            counts.created,
            counts.updated,
            counts.skipped,
        )
        batch.rows = counts.created + counts.updated + counts.skipped
        batch.response = _success_body(batch)
        batch.save(update_fields=["rows", "created", "updated", "skipped", "response"])
    return BatchOutcome(body=batch.response)


def _jsonb_safe(value):
    """`value` with U+0000 replaced: PostgreSQL's jsonb cannot store it, and error details
    repeat a client's field names, which may hold it."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_jsonb_safe(key): _jsonb_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonb_safe(item) for item in value]
    return value


def ingest_batch_failure_record(*, batch: IngestBatch, status_code: int, detail: object) -> None:
    """Failures are audited too, in their own transaction, without claiming the key."""
    detail = _jsonb_safe(detail)
    IngestBatch.objects.create(
        user=batch.user,
        resource=batch.resource,
        shape=batch.shape,
        on_conflict=batch.on_conflict,
        idempotency_key=None,
        request_hash=batch.request_hash,
        status_code=status_code,
        response=detail if isinstance(detail, dict | list) else {"detail": str(detail)},
    )
