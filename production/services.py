import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from rest_framework.exceptions import APIException, PermissionDenied

from core.api.exceptions import Conflict
from core.cache import FACTORIES, PRODUCTION, cache_generations_bump_on_commit
from core.ops.db import statement_timeout_set_local
from ingest.body import BulkBody, Counts, ItemErrors, bulk_body_parse, bulk_rows_check
from inventory.models import Factory
from production.columns import ProductionColumns, production_row_count, production_rows_read
from production.copy import RowConflicts, production_rows_write
from production.models import IngestBatch, ProductionRecord


def _conflict(factory_id: int, time: datetime) -> Conflict:
    return Conflict(
        f"Factory {factory_id} already has a record at {time:%Y-%m-%dT%H:%M:%SZ}; "
        "change that record instead (PUT /production/records/{id})."
    )


def production_record_create(
    *,
    factory_id: int,
    time: datetime,
    sprocket_production_actual: int,
    sprocket_production_goal: int,
) -> ProductionRecord:
    """Create one record; a second record for the same factory and minute is a conflict."""
    record = ProductionRecord(
        factory_id=factory_id,
        time=time,
        sprocket_production_actual=sprocket_production_actual,
        sprocket_production_goal=sprocket_production_goal,
    )
    try:
        with transaction.atomic():
            record.save(force_insert=True)
    except IntegrityError:
        raise _conflict(factory_id, time) from None
    return record


def production_record_update(*, record: ProductionRecord, **changes) -> ProductionRecord:
    """Change one record's fields; moving it onto another record's (factory, time) conflicts."""
    for name, value in changes.items():
        setattr(record, name, value)
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        raise _conflict(record.factory_id, record.time) from None
    return record


def production_window_delete(*, factory: Factory, after: datetime, before: datetime) -> int:
    """Delete one factory's records with after <= time < before; return how many."""
    window = ProductionRecord.objects.filter(factory=factory, time__gte=after, time__lt=before)
    return production_records_delete(queryset=window)


def production_record_delete(*, record: ProductionRecord) -> None:
    production_records_delete(queryset=ProductionRecord.objects.filter(pk=record.pk))


def production_records_delete(*, queryset: QuerySet[ProductionRecord]) -> int:
    """Delete the records of a queryset (e.g. the admin's selection); return how many."""
    with transaction.atomic():
        deleted, _ = queryset.delete()
        cache_generations_bump_on_commit(PRODUCTION)
    return deleted


@dataclass
class BatchOutcome:
    """What a bulk request answers: its body, and whether it replays an earlier answer."""

    body: dict
    replayed: bool = False


def _request_hash(raw: bytes, on_conflict: str) -> str:
    return hashlib.sha256(on_conflict.encode() + b"\n" + raw).hexdigest()


def _replay(*, user, resource: str, idempotency_key: str, request_hash: str) -> BatchOutcome | None:
    previous = IngestBatch.objects.filter(
        user=user, resource=resource, idempotency_key=idempotency_key
    ).first()
    if previous is None:
        return None
    if previous.request_hash != request_hash:
        raise Conflict(
            "This Idempotency-Key was already used with another body; use a new key for it."
        )
    return BatchOutcome(body=previous.response, replayed=True)


def ingest_batch_run(
    *,
    resource: str,
    raw: bytes,
    on_conflict: str,
    user,
    idempotency_key: str | None,
    document_key: str,
    write: Callable[[BulkBody], Counts],
) -> BatchOutcome:
    """Run one bulk request as one transaction and record it as an IngestBatch.

    With an Idempotency-Key, a retry of the same body answers the first success again and
    writes nothing; the same key with another body is a conflict.
    """
    request_hash = _request_hash(raw, on_conflict)
    if idempotency_key:
        replay = _replay(
            user=user, resource=resource, idempotency_key=idempotency_key, request_hash=request_hash
        )
        if replay is not None:
            return replay
    batch = IngestBatch(
        user=user,
        resource=resource,
        on_conflict=on_conflict,
        idempotency_key=idempotency_key or None,
        request_hash=request_hash,
        status_code=201,
    )
    try:
        body = bulk_body_parse(raw, document_key=document_key)
        batch.shape = body.shape
        with transaction.atomic():
            statement_timeout_set_local(settings.BULK_STATEMENT_TIMEOUT)
            try:
                with transaction.atomic():
                    batch.save()
            except IntegrityError:
                # The same key is being used by a request that committed meanwhile.
                replay = _replay(
                    user=user,
                    resource=resource,
                    idempotency_key=idempotency_key,
                    request_hash=request_hash,
                )
                if replay is not None:
                    return replay
                raise
            counts = write(body)
            batch.created, batch.updated, batch.skipped = (
                counts.created,
                counts.updated,
                counts.skipped,
            )
            batch.rows = counts.created + counts.updated + counts.skipped
            batch.response = {
                "created": counts.created,
                "updated": counts.updated,
                "skipped": counts.skipped,
                "batch": batch.pk,
            }
            batch.save(update_fields=["rows", "created", "updated", "skipped", "response"])
    except APIException as error:
        _record_failure(batch, status_code=error.status_code, detail=error.detail)
        raise
    except Exception:
        _record_failure(batch, status_code=500, detail="Internal server error.")
        raise
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


def _record_failure(batch: IngestBatch, *, status_code: int, detail: object) -> None:
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


def production_bulk_ingest(*, body: BulkBody, on_conflict: str, user) -> Counts:
    """Validate a whole production body, create the factories it names, write every row."""
    errors = ItemErrors()
    bulk_rows_check(production_row_count(body))
    columns = production_rows_read(body, errors)
    errors.raise_if_any()
    body.items = []  # the parsed JSON is no longer needed: keep only the columns
    try:
        with transaction.atomic():
            if columns.factory_names_to_create:
                _factories_create_for(columns, user=user)
            counts = production_rows_write(
                columns, on_conflict=on_conflict, conflict_limit=settings.BULK_MAX_ERRORS
            )
            cache_generations_bump_on_commit(PRODUCTION)
    except RowConflicts as conflicts:
        raise _conflicts_error(columns, conflicts) from None
    return counts


def _factories_create_for(columns: ProductionColumns, *, user) -> None:
    names = columns.factory_names_to_create
    if not user.has_perm("inventory.add_factory"):
        raise PermissionDenied(
            f"The body names factories that do not exist ({', '.join(names[:10])}); creating "
            "them needs the permission to add factories (the manager role)."
        )
    Factory.objects.bulk_create([Factory(name=name) for name in names], ignore_conflicts=True)
    ids = dict(Factory.objects.filter(name__in=names).values_list("name", "pk"))
    placeholder_ids = {-(index + 1): ids[name] for index, name in enumerate(names)}
    factory_ids = columns.factory_ids
    for position, factory_id in enumerate(factory_ids):
        if factory_id < 0:
            factory_ids[position] = placeholder_ids[factory_id]
    cache_generations_bump_on_commit(FACTORIES)


def _conflicts_error(columns: ProductionColumns, conflicts: RowConflicts) -> Conflict:
    listed: dict[str, str] = {}
    for position in conflicts.existing:
        listed[columns.label(position)] = "A record for this factory and time already exists."
    for position, first in conflicts.duplicates:
        listed[columns.label(position)] = (
            f"Same factory and time as item {columns.label(first)} of this body."
        )
    total = len(conflicts.existing) + len(conflicts.duplicates)
    return Conflict(
        {
            "detail": f"{total} items conflict (listed up to BULK_MAX_ERRORS); nothing was "
            "written. Resend with on_conflict=skip or on_conflict=update.",
            "conflicts": listed,
        }
    )
