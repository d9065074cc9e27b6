"""Minute buckets: only the minutes that hold records, summed from raw records.

Minute buckets are not listed ahead as the others are (a year has 525,600 of them): the records
of the window are counted against the row budget, then read and summed by the local minute each
falls in. Every minute row holds at least one record, so a window whose records fit the budget
gives rows that fit it; a window with more records is refused even when some share a minute.
On the original data, one record a minute, records and rows are the same count.

On PostgreSQL the count comes from the rollups' record counts (whole UTC days, then whole hours,
then the raw edges, as the sums of other buckets do), so a refusal reads no records; SQLite, the
embedded default, reads at most one record more than the budget.
"""

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Sum

from production.models import ProductionDailyRollup, ProductionHourlyRollup, ProductionRecord
from production.selectors.buckets import DAY, HOUR, periods_split, rows_over_budget, unlabelled

ROLLUPS = {DAY: (ProductionDailyRollup, "day"), HOUR: (ProductionHourlyRollup, "hour")}

# One index range scan on (factory_id, time) per factory; counted first, so the limit only
# guards against records written since.
MINUTE_RECORDS = f"""
SELECT f.id, t.time, t.sprocket_production_actual, t.sprocket_production_goal
FROM unnest(%s::bigint[]) AS f(id)
CROSS JOIN LATERAL (
    SELECT r.time, r.sprocket_production_actual, r.sprocket_production_goal
    FROM {ProductionRecord._meta.db_table} r
    WHERE r.factory_id = f.id AND r.time >= %s AND r.time < %s
    ORDER BY r.time
) AS t
LIMIT %s
"""  # noqa: S608 (the table name is the model's; values are parameters)

MinuteRow = tuple[str, int, int]  # label, actual, goal


def _records_counted(
    factory_ids: list[int], lo: datetime, hi: datetime, *, every_factory: bool
) -> int:
    """How many records of these factories [lo, hi) holds, from the rollups where it can."""
    parts, raw = periods_split(lo, hi)
    counted = 0
    for unit, ranges in parts.items():
        model, period = ROLLUPS[unit]
        for start, end in ranges:
            rollup = model.objects.filter(**{f"{period}__gte": start, f"{period}__lt": end})
            if not every_factory:
                rollup = rollup.filter(factory_id__in=factory_ids)
            counted += rollup.aggregate(n=Sum("records"))["n"] or 0
    for start, end in raw:
        # The records themselves are read by factory, through their (factory_id, time) index.
        counted += ProductionRecord.objects.filter(
            factory_id__in=factory_ids, time__gte=start, time__lt=end
        ).count()
    return counted


def _records(factory_ids: list[int], lo: datetime, hi: datetime, limit: int) -> list[tuple]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(MINUTE_RECORDS, [factory_ids, lo, hi, limit])
            return cursor.fetchall()
    records = ProductionRecord.objects.filter(
        factory_id__in=factory_ids, time__gte=lo, time__lt=hi
    ).order_by()
    return list(
        records.values_list(
            "factory_id", "time", "sprocket_production_actual", "sprocket_production_goal"
        )[:limit]
    )


def _too_many_records(budget: int):
    return rows_over_budget(
        ": bucket=minute answers a row per minute holding records, and the window holds "
        f"more than {budget} records"
    )


def minute_rows(
    zone_of: dict[int, str], lo: datetime, hi: datetime, budget: int, *, every_factory: bool
) -> dict[int, list[MinuteRow]]:
    """Each factory's minutes in [lo, hi) that hold records, in time order, labelled in its
    zone (`zone_of`); more records than `budget` → 400. `every_factory`: `zone_of` holds every
    factory, so the rollups need no factory filter."""
    ids, limit = list(zone_of), max(budget, 0) + 1
    if (
        connection.vendor == "postgresql"
        and _records_counted(ids, lo, hi, every_factory=every_factory) >= limit
    ):
        raise _too_many_records(limit - 1)
    records = _records(ids, lo, hi, limit)
    if len(records) >= limit:
        raise _too_many_records(limit - 1)
    zones = {name: ZoneInfo(name) for name in set(zone_of.values())}
    # Keyed by the minute's UTC start: a repeated local hour holds two minutes of each label.
    sums: dict[tuple[int, datetime], list] = {}
    for factory_id, time, actual, goal in records:
        try:
            local = time.astimezone(zones[zone_of[factory_id]])
            start = time - timedelta(seconds=local.second, microseconds=local.microsecond)
        except OverflowError:
            raise unlabelled(zone_of[factory_id]) from None
        label = local.replace(second=0, microsecond=0).isoformat()
        total = sums.setdefault((factory_id, start), [label, 0, 0])
        total[1] += actual
        total[2] += goal
    rows: dict[int, list[MinuteRow]] = defaultdict(list)
    for (factory_id, _), (label, actual, goal) in sorted(sums.items()):
        rows[factory_id].append((label, actual, goal))
    return rows
