"""Production summed per factory per bucket (hour, day, week, month) in a time zone.

Buckets are cut in the zone's local time (weeks start on Monday). On PostgreSQL the whole
UTC days inside a bucket come from the daily rollup, the whole hours at its edges from the
hourly rollup, and only what is left — a window that cuts an hour, or a zone whose midnight
is not on a UTC hour (+05:30, +05:45) — from raw records. SQLite, the embedded default, sums raw records. SQL text here is built only from
this module's constants and model table names; values always go as parameters.
"""

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Max, Min

from core.api.exceptions import BadRequest
from inventory.models import Factory
from production.models import ProductionDailyRollup, ProductionHourlyRollup, ProductionRecord

BUCKETS = ("hour", "day", "week", "month")
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# The last moment a datetime holds: what ends the last hour, day or bucket of year 9999.
END_OF_TIME = datetime.max.replace(tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
    try:
        start = local_start.replace(tzinfo=zone).astimezone(UTC)
    except OverflowError:
        # The first bucket begins before year 1 in UTC; the window begins later anyway.
        start = lo
    while start < hi:
        if len(ranges) >= limit:
            raise BadRequest(
                f"More than SUMMARY_MAX_ROWS ({settings.SUMMARY_MAX_ROWS}) rows: ask for a "
                "larger bucket, fewer factories or a narrower window."
            )
        if bucket == "hour":
            # One-hour steps of elapsed time: local clock hours repeat or vanish at DST changes.
            end = _plus(start, HOUR)
            label = start.astimezone(zone).isoformat()
        else:
            label = local_start.replace(tzinfo=zone).isoformat()
            try:
                local_end = _local_next(local_start, bucket)
                end = local_end.replace(tzinfo=zone).astimezone(UTC)
            except (OverflowError, ValueError):
                # The next bucket would begin in local year 10000: this one is the last,
                # and it ends with the window if the window ends before year 10000 does.
                if not _local_year_holds(hi - timedelta(microseconds=1), zone):
                    raise
                local_end, end = None, hi
            local_start = local_end
        ranges.append(BucketRange(label, max(start, lo), min(end, hi)))
        start = end
    return ranges


def _local_year_holds(moment: datetime, zone: ZoneInfo) -> bool:
    """Whether `moment` in `zone` is still a datetime (not in local year 10000)."""
    try:
        moment.astimezone(zone)
    except OverflowError:
        return False
    return True


def _plus(moment: datetime, delta: timedelta) -> datetime:
    """`moment + delta`, or END_OF_TIME past year 9999."""
    try:
        return moment + delta
    except OverflowError:
        return END_OF_TIME


def _floor(moment: datetime, unit: timedelta) -> datetime:
    """The start of the UTC `unit` (hour, day) holding `moment`."""
    # timedelta arithmetic is exact: a float timestamp rounds END_OF_TIME up into year 10000.
    return EPOCH + (moment - EPOCH) // unit * unit


def _ceil(moment: datetime, unit: timedelta) -> datetime:
    floor = _floor(moment, unit)
    return floor if floor == moment else _plus(floor, unit)


def _split(start: datetime, end: datetime, units=(DAY, HOUR)) -> tuple[dict, list]:
    """[start, end) as whole UTC days, then whole hours at its edges, then raw edges."""
    if not units:
        return {}, [(start, end)]
    unit, finer = units[0], units[1:]
    first, last = _ceil(start, unit), _floor(end, unit)
    if first >= last:
        return _split(start, end, finer)
    parts, raw = {unit: [(first, last)]}, []
    for lo, hi in ((start, first), (last, end)):
        if lo < hi:
            finer_parts, finer_raw = _split(lo, hi, finer)
            for finer_unit, pieces in finer_parts.items():
                parts.setdefault(finer_unit, []).extend(pieces)
            raw.extend(finer_raw)
    return parts, raw


# Per (range, factory) sums from a rollup: an index range scan on its period per range.
ROLLUP_SUMS = """
SELECT s.factory_id, x.bucket, s.actual, s.goal
FROM unnest(%s::integer[], %s::timestamptz[], %s::timestamptz[]) AS x(bucket, lo, hi)
CROSS JOIN LATERAL (
    SELECT t.factory_id, sum(t.sprocket_production_actual) AS actual,
           sum(t.sprocket_production_goal) AS goal
    FROM {table} t WHERE t.{period} >= x.lo AND t.{period} < x.hi {factories}
    GROUP BY t.factory_id
) AS s
"""
ROLLUPS = {DAY: ProductionDailyRollup, HOUR: ProductionHourlyRollup}
# The raw edges: one index range scan on (factory_id, time) per factory and edge.
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
    by_unit: dict[timedelta, tuple[list, list, list]] = {unit: ([], [], []) for unit in ROLLUPS}
    raw_parts: tuple[list, list, list] = ([], [], [])
    for index, bucket_range in enumerate(ranges):
        parts, raw = _split(bucket_range.start, bucket_range.end)
        for unit, pieces in [*parts.items(), (None, raw)]:
            columns = raw_parts if unit is None else by_unit[unit]
            for lo, hi in pieces:
                columns[0].append(index)
                columns[1].append(lo)
                columns[2].append(hi)

    sums: dict = defaultdict(lambda: [0, 0])
    with connection.cursor() as cursor:
        for unit, columns in by_unit.items():
            if not columns[0]:
                continue
            model = ROLLUPS[unit]
            period = "day" if unit == DAY else "hour"
            # Every factory: no filter, so the scan reads each period's rows straight through.
            factories = "" if every_factory else "AND t.factory_id = ANY(%s)"
            sql = ROLLUP_SUMS.format(table=model._meta.db_table, period=period, factories=factories)
            cursor.execute(sql, [*columns] if every_factory else [*columns, factory_ids])
            _add(sums, cursor.fetchall())
        if raw_parts[0]:
            cursor.execute(RAW_SUMS, [factory_ids, *raw_parts])
            _add(sums, cursor.fetchall())
    return sums


def _add(sums: dict, rows) -> None:
    for factory_id, index, actual, goal in rows:
        # PostgreSQL sums bigints as numeric.
        total = sums[(factory_id, index)]
        total[0] += int(actual)
        total[1] += int(goal)


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
        return bounds["lo"], _plus(bounds["hi"], HOUR)
    bounds = ProductionRecord.objects.filter(factory_id__in=factory_ids).aggregate(
        lo=Min("time"), hi=Max("time")
    )
    if bounds["lo"] is None:
        return None
    return bounds["lo"], _plus(bounds["hi"], timedelta(seconds=1))


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
        try:
            ranges = bucket_ranges(lo, hi, ZoneInfo(zone_name), bucket, max(budget, 0) // len(ids))
        except (OverflowError, ValueError):
            # A bucket that starts in local year 0 or 10000 has no ISO 8601 label to give.
            raise BadRequest(
                f"Buckets in {zone_name} this close to year 1 or year 9999 cannot be labelled: "
                "narrow the window with after and before, or ask for another tz."
            ) from None
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
