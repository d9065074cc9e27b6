"""Production's events: each commit that changes a factory's records tells the live streams
which factory, which time range, how many rows, and whether they were written or deleted.

Every write path calls `production_changed_on_commit` (services, the model's save signal for
the admin and `loaddata`): it bumps the cache generation, then adds the event, so both happen
at the same after-commit point and a client refetching on the event reads fresh data.

Each also sends `production_written` inside the write's transaction, with the factories it
changed: what must follow every committed write (alert evaluation) is queued in the same
transaction, so it is neither lost after a commit nor run for a write that rolled back.
"""

from collections import defaultdict
from datetime import UTC, datetime

from django.db.models import Count, Max, Min, QuerySet
from django.dispatch import Signal

from core.cache import cache_generations_bump_on_commit
from core.events.publish import events_add_on_commit
from core.times import time_format
from production.columns import ProductionColumns
from production.models import PRODUCTION

STREAM = "production"
WRITE, DELETE = "write", "delete"

# Sent inside the transaction of every production write: `factory_ids`, the factories changed.
production_written = Signal()


def _merged(earlier: dict, later: dict) -> dict:
    return {
        **earlier,
        "first": min(earlier["first"], later["first"]),
        "last": max(earlier["last"], later["last"]),
        "rows": earlier["rows"] + later["rows"],
    }


def production_changed_on_commit(
    *, factory_id: int, first: datetime, last: datetime, rows: int, action: str = WRITE
) -> None:
    """After commit: bump the production cache generation, then publish the change."""
    cache_generations_bump_on_commit(PRODUCTION)
    production_written.send(sender=STREAM, factory_ids=[factory_id])
    _event_add(factory_id=factory_id, first=first, last=last, rows=rows, action=action)


def _event_add(*, factory_id: int, first: datetime, last: datetime, rows: int, action: str):
    events_add_on_commit(
        STREAM,
        key=(factory_id, action),
        kind="production",
        data={
            "factory_id": factory_id,
            "action": action,
            "first": time_format(first),
            "last": time_format(last),
            "rows": rows,
        },
        merge=_merged,
    )


def _spans(columns: ProductionColumns) -> dict[int, list[int]]:
    """Per factory written to: its first and last time, and how many rows."""
    factory_ids = set(columns.factory_ids)
    if len(factory_ids) == 1:  # the common body, one factory: read in C
        times = columns.times
        return {factory_ids.pop(): [min(times), max(times), len(times)]}
    spans: dict[int, list[int]] = defaultdict(lambda: [2**63, -(2**63), 0])
    for factory_id, time in zip(columns.factory_ids, columns.times, strict=True):
        span = spans[factory_id]
        if time < span[0]:
            span[0] = time
        if time > span[1]:
            span[1] = time
        span[2] += 1
    return spans


def production_rows_changed_on_commit(columns: ProductionColumns) -> None:
    """A bulk write's events: one per factory it wrote to (and one cache bump)."""
    cache_generations_bump_on_commit(PRODUCTION)
    spans = _spans(columns)
    production_written.send(sender=STREAM, factory_ids=sorted(spans))
    for factory_id, (first, last, rows) in sorted(spans.items()):
        _event_add(
            factory_id=factory_id,
            first=datetime.fromtimestamp(first, UTC),
            last=datetime.fromtimestamp(last, UTC),
            rows=rows,
            action=WRITE,
        )


def production_deletes_changed_on_commit(queryset: QuerySet) -> None:
    """The events of deleting a queryset of records, read before it is deleted (and the
    cache bump, also when it holds no records)."""
    cache_generations_bump_on_commit(PRODUCTION)
    spans = (
        queryset.order_by()
        .values("factory_id")
        .annotate(first=Min("time"), last=Max("time"), rows=Count("pk"))
    )
    spans = list(spans)
    if spans:
        production_written.send(sender=STREAM, factory_ids=[span["factory_id"] for span in spans])
    for span in spans:
        _event_add(action=DELETE, **span)
