"""The month summary for the FastAPI reference (fastapi_reference.py), hand-written over asyncpg.

It runs the queries our summary runs for `bucket=month` (production/selectors/summary.py): the
factories and their zones, the span of the hourly rollup, then one query per rollup (whole UTC
days from the daily one, whole hours at the edges from the hourly one) and one over raw records
for what is left. Month buckets are cut in the zone's local time in Python, as ours are. Left
out, as a user's first version would: the SUMMARY_MAX_ROWS bound and buckets near year 1 or
9999.
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

FACTORY_ZONES = "SELECT id, timezone FROM inventory_factory ORDER BY id"
FACTORY_ZONES_OF = "SELECT id, timezone FROM inventory_factory WHERE id = ANY($1) ORDER BY id"
DATA_SPAN = (
    "SELECT min(hour), max(hour) FROM production_productionhourlyrollup WHERE factory_id = ANY($1)"
)
# Per (bucket, factory) sums from a rollup: one index range scan on its period per piece.
ROLLUP_SUMS = """
SELECT s.factory_id, x.bucket, s.actual, s.goal
FROM unnest($1::integer[], $2::timestamptz[], $3::timestamptz[]) AS x(bucket, lo, hi)
CROSS JOIN LATERAL (
    SELECT t.factory_id, sum(t.sprocket_production_actual) AS actual,
           sum(t.sprocket_production_goal) AS goal
    FROM {table} t WHERE t.{period} >= x.lo AND t.{period} < x.hi {factories}
    GROUP BY t.factory_id
) AS s
"""
ROLLUPS = {
    DAY: ("production_productiondailyrollup", "day"),
    HOUR: ("production_productionhourlyrollup", "hour"),
}
RAW_SUMS = """
SELECT f.id, x.bucket, s.actual, s.goal
FROM unnest($1::bigint[]) AS f(id)
CROSS JOIN unnest($2::integer[], $3::timestamptz[], $4::timestamptz[]) AS x(bucket, lo, hi)
CROSS JOIN LATERAL (
    SELECT sum(t.sprocket_production_actual) AS actual, sum(t.sprocket_production_goal) AS goal
    FROM production_productionrecord t
    WHERE t.factory_id = f.id AND t.time >= x.lo AND t.time < x.hi
) AS s
WHERE s.actual IS NOT NULL
"""


def _row(factory_id: int, label: str | None, actual: int, goal: int) -> dict:
    return {
        "factory_id": factory_id,
        "bucket": label,
        "sprocket_production_actual": actual,
        "sprocket_production_goal": goal,
        "attainment": round(actual / goal, 4) if goal else None,
    }


def month_ranges(
    lo: datetime, hi: datetime, zone: ZoneInfo
) -> list[tuple[str, datetime, datetime]]:
    """The local months of [lo, hi) in `zone`: label, then UTC start and end clipped to it."""
    local = lo.astimezone(zone).replace(
        tzinfo=None, day=1, hour=0, minute=0, second=0, microsecond=0
    )
    start = local.replace(tzinfo=zone).astimezone(UTC)
    ranges = []
    while start < hi:
        following = local.replace(year=local.year + local.month // 12, month=local.month % 12 + 1)
        end = following.replace(tzinfo=zone).astimezone(UTC)
        ranges.append((local.replace(tzinfo=zone).isoformat(), max(start, lo), min(end, hi)))
        local, start = following, end
    return ranges


def _floor(moment: datetime, unit: timedelta) -> datetime:
    return EPOCH + (moment - EPOCH) // unit * unit


def _ceil(moment: datetime, unit: timedelta) -> datetime:
    floor = _floor(moment, unit)
    return floor if floor == moment else floor + unit


def periods_split(start: datetime, end: datetime, units=(DAY, HOUR)) -> list[tuple]:
    """[start, end) as whole UTC days, whole hours at its edges, and raw edges (unit None)."""
    if not units:
        return [(None, start, end)]
    unit = units[0]
    first, last = _ceil(start, unit), _floor(end, unit)
    if first >= last:
        return periods_split(start, end, units[1:])
    pieces = [(unit, first, last)]
    for lo, hi in ((start, first), (last, end)):
        if lo < hi:
            pieces += periods_split(lo, hi, units[1:])
    return pieces


async def _sums(
    connection: asyncpg.Connection, factory_ids: list[int], ranges: list, *, every_factory: bool
) -> dict:
    columns: dict = defaultdict(lambda: ([], [], []))
    for index, (_, start, end) in enumerate(ranges):
        for unit, lo, hi in periods_split(start, end):
            for column, value in zip(columns[unit], (index, lo, hi), strict=True):
                column.append(value)
    sums: dict = defaultdict(lambda: [0, 0])
    for unit, (indexes, los, his) in columns.items():
        if unit is None:
            rows = await connection.fetch(RAW_SUMS, factory_ids, indexes, los, his)
        else:
            table, period = ROLLUPS[unit]
            # Every factory: no filter, so the scan reads each period's rows straight through.
            factories = "" if every_factory else "AND t.factory_id = ANY($4)"
            sql = ROLLUP_SUMS.format(table=table, period=period, factories=factories)
            arguments = (indexes, los, his) if every_factory else (indexes, los, his, factory_ids)
            rows = await connection.fetch(sql, *arguments)
        for factory_id, index, actual, goal in rows:
            total = sums[(factory_id, index)]
            total[0] += int(actual)  # PostgreSQL sums bigints as numeric
            total[1] += int(goal)
    return sums


async def _month_rows(
    connection: asyncpg.Connection,
    by_factory: dict[int, list[dict]],
    zone_of: dict[int, str],
    lo: datetime,
    hi: datetime,
    *,
    tz: str | None,
    every: bool,
) -> None:
    """Each factory's months of [lo, hi) that hold records, added to `by_factory`."""
    by_zone: dict[str, list[int]] = defaultdict(list)
    for pk, zone in zone_of.items():
        by_zone[tz or zone].append(pk)
    for zone_name, ids in by_zone.items():
        ranges = month_ranges(lo, hi, ZoneInfo(zone_name))
        sums = await _sums(connection, ids, ranges, every_factory=every and len(by_zone) == 1)
        for pk in ids:
            for index, (label, _, _) in enumerate(ranges):
                if (pk, index) in sums:
                    by_factory[pk].append(_row(pk, label, *sums[(pk, index)]))


async def month_summary(
    connection: asyncpg.Connection,
    *,
    factory_ids: list[int] | None,
    after: datetime | None,
    before: datetime | None,
    tz: str | None,
) -> list[dict]:
    """Actual and goal per factory per local month, then one overall row per factory."""
    if factory_ids:
        zone_of = dict(await connection.fetch(FACTORY_ZONES_OF, factory_ids))
    else:
        zone_of = dict(await connection.fetch(FACTORY_ZONES))
    if not zone_of:
        return []
    first_hour, last_hour = await connection.fetchrow(DATA_SPAN, list(zone_of))
    by_factory: dict[int, list[dict]] = defaultdict(list)
    if first_hour is not None:
        lo = max(after, first_hour) if after else first_hour
        hi = min(before, last_hour + HOUR) if before else last_hour + HOUR
        if lo < hi:
            await _month_rows(connection, by_factory, zone_of, lo, hi, tz=tz, every=not factory_ids)
    rows: list[dict] = []
    for pk in zone_of:
        buckets = by_factory.get(pk, [])
        rows += buckets
        rows.append(
            _row(
                pk,
                None,
                sum(row["sprocket_production_actual"] for row in buckets),
                sum(row["sprocket_production_goal"] for row in buckets),
            )
        )
    return rows
