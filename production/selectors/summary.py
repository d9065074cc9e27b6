"""Production summed per factory per bucket (minute, hour, day, week, month) in a time zone;
`auto` picks one of them (resolution.py).

Buckets are cut in the zone's local time (weeks start on Monday). On PostgreSQL the whole
UTC days inside a bucket come from the daily rollup, the whole hours at its edges from the
hourly rollup, and only what is left — a window that cuts an hour, or a zone whose midnight
is not on a UTC hour (+05:30, +05:45) — from raw records. Minute buckets, and everything on
SQLite, the embedded default, are summed from raw records (minutes.py). SQL text here is built
only from this module's constants and model table names; values always go as parameters.
"""

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Max, Min

from core.errors import InvalidInput
from inventory.models import Factory
from production.models import ProductionDailyRollup, ProductionHourlyRollup, ProductionRecord
from production.partitions import production_records_kept_since, summarised_only
from production.selectors.buckets import (
    AUTO,
    DAY,
    HOUR,
    BucketRange,
    bucket_check,
    bucket_ranges,
    periods_split,
    plus,
    unlabelled,
)
from production.selectors.minutes import minute_rows
from production.selectors.resolution import AUTO_WITHOUT_DATA, FIRST_AND_LAST_RECORD, auto_bucket

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
# The factories (all of them when the ids are NULL) with their zones, and the span of their
# hourly rollup on every row; for `auto`, each factory's first and last record too (two index
# probes each): one round trip.
FACTORIES_AND_WINDOW = """
WITH f AS (
    SELECT id, timezone FROM {factories}
    WHERE %s::bigint[] IS NULL OR id = ANY(%s::bigint[])
)
SELECT f.id, f.timezone, w.lo, w.hi{span_columns} FROM f CROSS JOIN (
    SELECT min(hour) AS lo, max(hour) AS hi FROM {hourly}
    WHERE factory_id = ANY(ARRAY(SELECT id FROM f))
) AS w{span_join}
ORDER BY f.id
"""
FACTORIES_AND_WINDOW_SQL = {
    spans: FACTORIES_AND_WINDOW.format(
        factories=Factory._meta.db_table,
        hourly=ProductionHourlyRollup._meta.db_table,
        span_columns=", s.first, s.last" if spans else "",
        span_join=FIRST_AND_LAST_RECORD if spans else "",
    )
    for spans in (False, True)
}
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
    factory_ids: list[int],
    ranges: list[BucketRange],
    *,
    every_factory: bool,
    kept_since: datetime | None,
) -> dict:
    by_unit: dict[timedelta, tuple[list, list, list]] = {unit: ([], [], []) for unit in ROLLUPS}
    raw_parts: tuple[list, list, list] = ([], [], [])
    for index, bucket_range in enumerate(ranges):
        parts, raw = periods_split(bucket_range.start, bucket_range.end)
        for unit, pieces in [*parts.items(), (None, raw)]:
            columns = raw_parts if unit is None else by_unit[unit]
            for lo, hi in pieces:
                columns[0].append(index)
                columns[1].append(lo)
                columns[2].append(hi)

    if kept_since is not None and any(lo < kept_since for lo in raw_parts[1]):
        remedy = "this window or zone cuts an hour there; use whole hours in a whole-hour zone"
        raise InvalidInput(summarised_only(kept_since, remedy))
    # Every part (days, hours, raw edges) in one statement: one round trip, not three.
    parts: list[str] = []
    params: list = []
    for unit, columns in by_unit.items():
        if not columns[0]:
            continue
        model = ROLLUPS[unit]
        period = "day" if unit == DAY else "hour"
        # Every factory: no filter, so the scan reads each period's rows straight through.
        factories = "" if every_factory else "AND t.factory_id = ANY(%s)"
        parts.append(
            ROLLUP_SUMS.format(table=model._meta.db_table, period=period, factories=factories)
        )
        params += [*columns] if every_factory else [*columns, factory_ids]
    if raw_parts[0]:
        parts.append(RAW_SUMS)
        params += [factory_ids, *raw_parts]
    sums: dict = defaultdict(lambda: [0, 0])
    if parts:
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(f"({part})" for part in parts), params)
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


def _factories_and_window(
    factory_ids: list[int] | None, *, spans: bool
) -> tuple[dict[int, str], tuple[datetime, datetime] | None, list | None]:
    """The factories' zones by id; the span of their records (None without any); with
    `spans` on PostgreSQL, each factory's first and last record (for `auto`), else None."""
    if connection.vendor == "postgresql":
        # Plain SQL: on every summary, the ORM's compile of these cost more than running them.
        with connection.cursor() as cursor:
            cursor.execute(FACTORIES_AND_WINDOW_SQL[spans], [factory_ids, factory_ids])
            rows = cursor.fetchall()
        zone_of = {row[0]: row[1] for row in rows}
        if not rows or rows[0][2] is None:
            return zone_of, None, None
        window = (rows[0][2], plus(rows[0][3], HOUR))
        return zone_of, window, [row[4:6] for row in rows if row[4] is not None] if spans else None
    factories = Factory.objects.order_by("id")
    if factory_ids is not None:
        factories = factories.filter(pk__in=factory_ids)
    zone_of = dict(factories.values_list("id", "timezone"))
    bounds = ProductionRecord.objects.filter(factory_id__in=list(zone_of)).aggregate(
        lo=Min("time"), hi=Max("time")
    )
    if bounds["lo"] is None:
        return zone_of, None, None
    return zone_of, (bounds["lo"], plus(bounds["hi"], timedelta(seconds=1))), None


def _row(factory_id: int, label: str | None, actual: int, goal: int) -> dict:
    return {
        "factory_id": factory_id,
        "bucket": label,
        "sprocket_production_actual": actual,
        "sprocket_production_goal": goal,
        "attainment": round(actual / goal, 4) if goal else None,
    }


@dataclass(frozen=True)
class Summary:
    """A summary's rows and the bucket they are summed by: the one asked for, or the one
    `auto` stood for."""

    bucket: str
    rows: list[dict]


def production_summary(
    *,
    bucket: str,
    factory_ids: list[int] | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
    tz: str | None = None,
) -> list[dict]:
    """Summed actual and goal per factory per bucket, then one overall row per factory."""
    return production_summary_with_bucket(
        bucket=bucket, factory_ids=factory_ids, after=after, before=before, tz=tz
    ).rows


def production_summary_with_bucket(
    *,
    bucket: str,
    factory_ids: list[int] | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
    tz: str | None = None,
) -> Summary:
    """`production_summary`'s rows, with the bucket they are summed by (`auto` resolved)."""
    bucket_check(bucket)
    every_factory = not factory_ids
    zone_of, window, spans = _factories_and_window(
        None if every_factory else factory_ids, spans=bucket == AUTO
    )
    if window is None:
        used = AUTO_WITHOUT_DATA if bucket == AUTO else bucket
        return Summary(used, [_row(pk, None, 0, 0) for pk in zone_of])
    lo = max(after, window[0]) if after else window[0]
    hi = min(before, window[1]) if before else window[1]
    kept_since = production_records_kept_since()
    before_kept = kept_since is not None and lo < kept_since
    if bucket == AUTO:
        bucket = auto_bucket(list(zone_of), after, before, spans=spans)
        if bucket == "minute" and before_kept:
            bucket = "hour"  # the minutes before kept_since are gone
    if bucket == "minute" and before_kept:
        raise InvalidInput({"bucket": [summarised_only(kept_since, "ask for hours or longer")]})
    budget = settings.SUMMARY_MAX_ROWS - len(zone_of)

    zones = {pk: tz or zone for pk, zone in zone_of.items()}
    if lo >= hi:
        rows_by_factory = {}
    elif bucket == "minute":
        rows_by_factory = {
            pk: [_row(pk, *minute) for minute in minutes]
            for pk, minutes in minute_rows(
                zones, lo, hi, budget, every_factory=every_factory
            ).items()
        }
    else:
        rows_by_factory = _range_rows(
            zones, lo, hi, bucket, budget, every_factory=every_factory, kept_since=kept_since
        )

    rows: list[dict] = []
    for pk in zone_of:
        buckets = rows_by_factory.get(pk, [])
        actual = sum(row["sprocket_production_actual"] for row in buckets)
        goal = sum(row["sprocket_production_goal"] for row in buckets)
        rows.extend(buckets)
        rows.append(_row(pk, None, actual, goal))
    return Summary(bucket, rows)


def _range_rows(
    zones: dict[int, str],
    lo: datetime,
    hi: datetime,
    bucket: str,
    budget: int,
    *,
    every_factory: bool,
    kept_since: datetime | None,
) -> dict[int, list[dict]]:
    """Each factory's buckets of [lo, hi) that hold records, listed ahead within `budget`."""
    by_zone: dict[str, list[int]] = defaultdict(list)
    for pk, zone in zones.items():
        by_zone[zone].append(pk)
    one_scan = every_factory and len(by_zone) == 1
    rows_by_factory: dict[int, list[dict]] = defaultdict(list)
    for zone_name, ids in by_zone.items():
        try:
            ranges = bucket_ranges(lo, hi, ZoneInfo(zone_name), bucket, max(budget, 0) // len(ids))
        except (OverflowError, ValueError):
            # A bucket that starts in local year 0 or 10000 has no ISO 8601 label to give.
            raise unlabelled(zone_name) from None
        budget -= len(ranges) * len(ids)
        sums = summary_sums(ids, ranges, every_factory=one_scan, kept_since=kept_since)
        for pk in ids:
            for index, bucket_range in enumerate(ranges):
                if (pk, index) in sums:
                    actual, goal = sums[(pk, index)]
                    rows_by_factory[pk].append(_row(pk, bucket_range.label, actual, goal))
    return rows_by_factory


def summary_sums(
    factory_ids: list[int],
    ranges: list[BucketRange],
    *,
    every_factory: bool = False,
    kept_since: datetime | None = None,
) -> dict:
    """Actual and goal summed per (factory id, index of the range) that has records."""
    if connection.vendor == "postgresql":
        return _sums_postgresql(
            factory_ids, ranges, every_factory=every_factory, kept_since=kept_since
        )
    return _sums_from_records(factory_ids, ranges)
