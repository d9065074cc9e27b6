"""Production summed per factory per bucket (hour, day, week, month) in a time zone.

Buckets are cut in the zone's local time (weeks start on Monday). On PostgreSQL the whole
UTC hours inside a bucket come from the hourly rollup and only the edges — a window that
cuts an hour, or a zone whose midnight is not on a UTC hour (+05:30, +05:45) — from raw
records. SQLite, the embedded default, sums raw records. SQL text here is built only from
this module's constants and model table names; values always go as parameters.
"""

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Max, Min

from inventory.models import Factory
from production.models import ProductionHourlyRollup, ProductionRecord
from sprocket_factory.exceptions import BadRequest

BUCKETS = ("hour", "day", "week", "month")
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class BucketRange:
    label: str
    start: datetime  # UTC, clipped to the window
    end: datetime


def _local_floor(moment: datetime, bucket: str) -> datetime:
    """The naive local start of the bucket holding an aware local moment."""
    local = moment.replace(tzinfo=None, minute=0, second=0, microsecond=0)
    if bucket == "hour":
        return local
    local = local.replace(hour=0)
    if bucket == "week":
        return local - timedelta(days=local.weekday())
    if bucket == "month":
        return local.replace(day=1)
    return local


def _local_next(local_start: datetime, bucket: str) -> datetime:
    if bucket == "day":
        return local_start + timedelta(days=1)
    if bucket == "week":
        return local_start + timedelta(days=7)
    if local_start.month == 12:
        return local_start.replace(year=local_start.year + 1, month=1)
    return local_start.replace(month=local_start.month + 1)


def bucket_ranges(
    lo: datetime, hi: datetime, zone: ZoneInfo, bucket: str, limit: int
) -> list[BucketRange]:
    """The buckets of [lo, hi) in `zone`, clipped to the window; more than `limit` → 400."""
    ranges: list[BucketRange] = []
    local_start = _local_floor(lo.astimezone(zone), bucket)
    start = local_start.replace(tzinfo=zone).astimezone(UTC)
    while start < hi:
        if len(ranges) >= limit:
            raise BadRequest(
                f"More than SUMMARY_MAX_ROWS ({settings.SUMMARY_MAX_ROWS}) rows: ask for a "
                "larger bucket, fewer factories or a narrower window."
            )
        if bucket == "hour":
            # Hours are counted in UTC: local hours repeat or vanish at DST changes.
            end = start + HOUR
            label = start.astimezone(zone).isoformat()
        else:
            local_end = _local_next(local_start, bucket)
            end = local_end.replace(tzinfo=zone).astimezone(UTC)
            label = local_start.replace(tzinfo=zone).isoformat()
            local_start = local_end
        ranges.append(BucketRange(label, max(start, lo), min(end, hi)))
        start = end
    return ranges


def _ceil_hour(moment: datetime) -> datetime:
    floor = moment.replace(minute=0, second=0, microsecond=0)
    return floor if floor == moment else floor + HOUR


def _split(bucket_range: BucketRange) -> tuple[list[tuple], list[tuple]]:
    """(rollup parts, raw parts) of one bucket: whole UTC hours, and the edges around them."""
    first_hour = _ceil_hour(bucket_range.start)
    last_hour = bucket_range.end.replace(minute=0, second=0, microsecond=0)
    if first_hour >= last_hour:
        return [], [(bucket_range.start, bucket_range.end)]
    raw = []
    if bucket_range.start < first_hour:
        raw.append((bucket_range.start, first_hour))
    if last_hour < bucket_range.end:
        raw.append((last_hour, bucket_range.end))
    return [(first_hour, last_hour)], raw


# The whole hours of every bucket in one pass over the rollup: width_bucket numbers each hour
# by the bucket it starts in, and the hours a bucket boundary cuts are left to the raw rows.
ROLLUP_SUMS = f"""
SELECT factory_id, width_bucket(hour, %s::timestamptz[]), sum(sprocket_production_actual),
       sum(sprocket_production_goal)
FROM {ProductionHourlyRollup._meta.db_table}
WHERE hour >= %s AND hour < %s AND NOT (hour = ANY(%s::timestamptz[])) {{factories}}
GROUP BY 1, 2
"""
# The edges: one index range scan on (factory_id, time) per factory and edge.
RAW_SUMS = f"""
SELECT f.id, x.bucket, s.actual, s.goal
FROM unnest(%s::bigint[]) AS f(id)
CROSS JOIN unnest(%s::integer[], %s::timestamptz[], %s::timestamptz[]) AS x(bucket, lo, hi)
CROSS JOIN LATERAL (
    SELECT sum(t.sprocket_production_actual) AS actual, sum(t.sprocket_production_goal) AS goal
    FROM {ProductionRecord._meta.db_table} t
    WHERE t.factory_id = f.id AND t.time >= x.lo AND t.time < x.hi
) AS s
WHERE s.actual IS NOT NULL
"""


def _sums_postgresql(
    factory_ids: list[int], ranges: list[BucketRange], *, every_factory: bool
) -> dict:
    rollup_buckets: list[int] = []
    rollup_starts: list[datetime] = []
    covered_hours: list[tuple[datetime, datetime]] = []
    raw_parts: tuple[list, list, list] = ([], [], [])
    for index, bucket_range in enumerate(ranges):
        rollup, raw = _split(bucket_range)
        for lo, hi in rollup:
            rollup_buckets.append(index)
            rollup_starts.append(lo)
            covered_hours.append((lo, hi))
        for lo, hi in raw:
            raw_parts[0].append(index)
            raw_parts[1].append(lo)
            raw_parts[2].append(hi)

    sums: dict = defaultdict(lambda: [0, 0])

    def add(factory_id: int, index: int, actual: int, goal: int) -> None:
        # PostgreSQL sums bigints as numeric.
        total = sums[(factory_id, index)]
        total[0] += int(actual)
        total[1] += int(goal)

    with connection.cursor() as cursor:
        if covered_hours:
            lo, hi = covered_hours[0][0], covered_hours[-1][1]
            cut_hours = [
                previous_end + HOUR * step
                for (_, previous_end), (next_start, _) in pairwise(covered_hours)
                for step in range(int((next_start - previous_end) / HOUR))
            ]
            # Every factory: no filter, so PostgreSQL reads the rollup straight through.
            factories_sql = "" if every_factory else "AND factory_id = ANY(%s)"
            params = [rollup_starts, lo, hi, cut_hours]
            if not every_factory:
                params.append(factory_ids)
            cursor.execute(ROLLUP_SUMS.format(factories=factories_sql), params)
            for factory_id, position, actual, goal in cursor.fetchall():
                add(factory_id, rollup_buckets[position - 1], actual, goal)
        if raw_parts[0]:
            cursor.execute(RAW_SUMS, [factory_ids, *raw_parts])
            for factory_id, index, actual, goal in cursor.fetchall():
                add(factory_id, index, actual, goal)
    return sums


def _sums_from_records(factory_ids: list[int], ranges: list[BucketRange], **_options) -> dict:
    starts = [r.start for r in ranges]
    sums: dict = defaultdict(lambda: [0, 0])
    records = ProductionRecord.objects.filter(
        factory_id__in=factory_ids, time__gte=ranges[0].start, time__lt=ranges[-1].end
    ).values_list("factory_id", "time", "sprocket_production_actual", "sprocket_production_goal")
    for factory_id, time, actual, goal in records.iterator(chunk_size=5000):
        total = sums[(factory_id, bisect_right(starts, time) - 1)]
        total[0] += actual
        total[1] += goal
    return sums


def _data_window(factory_ids: list[int]) -> tuple[datetime, datetime] | None:
    if connection.vendor == "postgresql":
        bounds = ProductionHourlyRollup.objects.filter(factory_id__in=factory_ids).aggregate(
            lo=Min("hour"), hi=Max("hour")
        )
        if bounds["lo"] is None:
            return None
        return bounds["lo"], bounds["hi"] + HOUR
    bounds = ProductionRecord.objects.filter(factory_id__in=factory_ids).aggregate(
        lo=Min("time"), hi=Max("time")
    )
    if bounds["lo"] is None:
        return None
    return bounds["lo"], bounds["hi"] + timedelta(seconds=1)


def _row(factory_id: int, label: str | None, actual: int, goal: int) -> dict:
    return {
        "factory_id": factory_id,
        "bucket": label,
        "sprocket_production_actual": actual,
        "sprocket_production_goal": goal,
        "attainment": round(actual / goal, 4) if goal else None,
    }


def production_summary(
    *,
    bucket: str,
    factory_id: list[int] | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
    tz: str | None = None,
) -> list[dict]:
    """Summed actual and goal per factory per bucket, then one overall row per factory."""
    factories = Factory.objects.order_by("id")
    if factory_id:
        factories = factories.filter(pk__in=factory_id)
    zone_of = dict(factories.values_list("id", "timezone"))
    if not zone_of:
        return []
    window = _data_window(list(zone_of))
    if window is None:
        return [_row(factory_id, None, 0, 0) for factory_id in zone_of]
    lo = max(after, window[0]) if after else window[0]
    hi = min(before, window[1]) if before else window[1]

    by_zone: dict[str, list[int]] = defaultdict(list)
    for factory_id, zone in zone_of.items():
        by_zone[tz or zone].append(factory_id)
    budget = settings.SUMMARY_MAX_ROWS - len(zone_of)
    sums_of = _sums_postgresql if connection.vendor == "postgresql" else _sums_from_records
    rows_by_factory: dict[int, list[dict]] = defaultdict(list)
    for zone_name, ids in by_zone.items():
        if lo >= hi:
            break
        ranges = bucket_ranges(lo, hi, ZoneInfo(zone_name), bucket, max(budget, 0) // len(ids))
        budget -= len(ranges) * len(ids)
        sums = sums_of(ids, ranges, every_factory=not factory_id and len(by_zone) == 1)
        for factory_id in ids:
            for index, bucket_range in enumerate(ranges):
                if (factory_id, index) in sums:
                    actual, goal = sums[(factory_id, index)]
                    rows_by_factory[factory_id].append(
                        _row(factory_id, bucket_range.label, actual, goal)
                    )

    rows: list[dict] = []
    for factory_id in zone_of:
        buckets = rows_by_factory[factory_id]
        actual = sum(row["sprocket_production_actual"] for row in buckets)
        goal = sum(row["sprocket_production_goal"] for row in buckets)
        rows.extend(buckets)
        rows.append(_row(factory_id, None, actual, goal))
    return rows
