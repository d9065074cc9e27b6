"""Every write to production records: one path for rows in bulk, and single records."""

from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from core.cache import cache_generations_bump_on_commit
from core.errors import Conflict, NotAllowed
from core.ops.concurrency import deadlock_retried
from core.times import time_format
from ingest.body import BulkBody, Counts, ItemErrors, bulk_rows_check
from ingest.models import OnConflict
from inventory.models import FACTORIES, Factory
from production.columns import ProductionColumns, production_row_count, production_rows_read
from production.copy import RowConflicts, production_rows_copy
from production.events import (
    DELETE,
    production_changed_on_commit,
    production_deletes_changed_on_commit,
    production_rows_changed_on_commit,
)
from production.models import ProductionRecord
from production.partition_windows import production_partitions_empty, production_partitions_inside


def _conflict(factory_id: int, time: datetime) -> Conflict:
    return Conflict(
        f"Factory {factory_id} already has a record at {time_format(time)}; "
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
        deadlock_retried(lambda: _saved(record, force_insert=True))
    except IntegrityError:
        raise _conflict(factory_id, time) from None
    return record


def _saved(record: ProductionRecord, **options) -> None:
    # A transaction (or savepoint) of its own: a deadlock's victim is rolled back and run again.
    with transaction.atomic():
        record.save(**options)


def production_record_update(*, record: ProductionRecord, **changes) -> ProductionRecord:
    """Change one record's fields; moving it onto another record's (factory, time) conflicts."""
    for name, value in changes.items():
        setattr(record, name, value)
    try:
        deadlock_retried(lambda: _saved(record))
    except IntegrityError:
        raise _conflict(record.factory_id, record.time) from None
    return record


def production_window_delete(*, factory_id: int | None, after: datetime, before: datetime) -> int:
    """Delete the records with after <= time < before of one factory, or of every factory
    (None); return how many. Every factory's window empties the time partitions wholly
    inside it at once and deletes only the rest row by row."""
    if factory_id is not None:
        window = ProductionRecord.objects.filter(
            factory_id=factory_id, time__gte=after, time__lt=before
        )
        return production_records_delete(queryset=window)
    return deadlock_retried(lambda: _every_factory_window_delete(after, before))


def _every_factory_window_delete(after: datetime, before: datetime) -> int:
    with transaction.atomic():
        inside = production_partitions_inside(after, before)
        # Row by row first, then the whole partitions: they stay locked only until commit.
        rest, low = Q(), after
        for _, start, end in [*inside, (before, before, before)]:
            if low < start:
                rest |= Q(time__gte=low, time__lt=start)
            low = end
        deleted = (
            production_records_delete(queryset=ProductionRecord.objects.filter(rest)) if rest else 0
        )
        emptied = production_partitions_empty(inside)
        for factory_id, first, last, rows in emptied.spans:
            production_changed_on_commit(
                factory_id=factory_id, first=first, last=last, rows=rows, action=DELETE
            )
    return deleted + emptied.rows


def production_record_delete(*, record: ProductionRecord) -> None:
    production_records_delete(queryset=ProductionRecord.objects.filter(pk=record.pk))


def production_records_delete(*, queryset: QuerySet[ProductionRecord]) -> int:
    """Delete the records of a queryset (e.g. the admin's selection); return how many."""

    def delete() -> int:
        with transaction.atomic():
            production_deletes_changed_on_commit(queryset)
            deleted, _ = queryset.delete()
        return deleted

    return deadlock_retried(delete)


def production_rows_write(*, columns: ProductionColumns, on_conflict: OnConflict) -> Counts:
    """Write validated rows, every one or none: the one path for production rows in bulk.

    COPY (or an upsert through a staging table) in one transaction; the rollups follow in
    the same transaction by trigger; the cache generation is bumped after commit. Rows that
    conflict with `on_conflict=error` raise RowsConflict, listing up to BULK_MAX_ERRORS of
    them, and nothing is written. A write that PostgreSQL fails to break a deadlock (with a
    single-record write that took its locks in another order) is rolled back to its
    savepoint and run again, carefully (`production.copy`).
    """

    def write(*, careful: bool) -> Counts:
        with transaction.atomic():
            counts = production_rows_copy(
                columns,
                on_conflict=on_conflict,
                conflict_limit=settings.BULK_MAX_ERRORS,
                careful=careful,
            )
            production_rows_changed_on_commit(columns)
        return counts

    try:
        counts = deadlock_retried(lambda: write(careful=False), again=lambda: write(careful=True))
    except RowConflicts as conflicts:
        raise _conflicts_error(columns, conflicts) from None
    return counts


class RowsConflict(Conflict):
    """Rows of a bulk write that repeat existing records or each other; `count` says how many."""

    def __init__(self, detail: dict, *, count: int) -> None:
        super().__init__(detail)
        self.count = count


def _conflicts_error(columns: ProductionColumns, conflicts: RowConflicts) -> RowsConflict:
    listed: dict[str, str] = {}
    for position in conflicts.existing:
        listed[columns.label(position)] = "A record for this factory and time already exists."
    for position, first in conflicts.duplicates[: settings.BULK_MAX_ERRORS]:
        listed[columns.label(position)] = (
            f"Same factory and time as item {columns.label(first)} of this body."
        )
    return RowsConflict(
        {
            "detail": f"{conflicts.count} items conflict (listed up to BULK_MAX_ERRORS); nothing "
            "was written. Resend with on_conflict=skip or on_conflict=update.",
            "conflicts": listed,
        },
        count=conflicts.count,
    )


def production_bulk_ingest(
    *, body: BulkBody, on_conflict: OnConflict, user: AbstractBaseUser | AnonymousUser
) -> Counts:
    """Validate a whole production body, create the factories it names, write every row."""
    errors = ItemErrors()
    bulk_rows_check(production_row_count(body))
    columns = production_rows_read(body, errors)
    errors.raise_if_any()
    body.items = []  # the parsed JSON is no longer needed: keep only the columns
    # No savepoint of its own: any error here fails the whole request's transaction anyway.
    with transaction.atomic(savepoint=False):
        if columns.factory_names_to_create:
            _factories_create_for(columns, user=user)
        return production_rows_write(columns=columns, on_conflict=on_conflict)


def _factories_create_for(
    columns: ProductionColumns, *, user: AbstractBaseUser | AnonymousUser
) -> None:
    names = columns.factory_names_to_create
    if not user.has_perm("inventory.add_factory"):
        raise NotAllowed(
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
