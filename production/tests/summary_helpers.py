"""What the summary's tests (production/tests/test_summary_*.py) share.

Every expectation is computed from the records a test wrote, by an oracle that knows nothing of
the rollup: a record's bucket is the local start (in the zone asked for, else the factory's own)
of its minute, hour, day, Monday week or month.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.cache import cache_generations_bump
from inventory.models import FACTORIES, Factory
from production.models import PRODUCTION, ProductionRecord

SUMMARY = "/sprocketFactory/v1/production/summary"
BUCKETS = ("minute", "hour", "day", "week", "month")
ZONES = ("UTC", "Europe/Berlin", "America/Chicago", "Asia/Kolkata", "Asia/Kathmandu")
ONE_MINUTE = datetime(2021, 1, 21, 2, 6, 58, tzinfo=UTC)  # a Thursday


Record = tuple[int, datetime, int, int]  # factory id, time, actual, goal


def bucket_start(moment: datetime, bucket: str, zone: ZoneInfo) -> datetime:
    """The aware local start of the bucket holding `moment` (fold kept in a repeated hour)."""
    local = moment.astimezone(zone)
    if bucket == "minute":
        return local.replace(second=0, microsecond=0)
    if bucket == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.date()
    if bucket == "week":
        day -= timedelta(days=day.weekday())
    elif bucket == "month":
        day = day.replace(day=1)
    return datetime.combine(day, time(), tzinfo=zone)


def summary_row(factory_id: int, label: str | None, actual: int, goal: int) -> dict:
    return {
        "factory_id": factory_id,
        "bucket": label,
        "sprocket_production_actual": actual,
        "sprocket_production_goal": goal,
        "attainment": round(actual / goal, 4) if goal else None,
    }


def oracle(
    records: Iterable[Record],
    zone_of: dict[int, str],
    *,
    bucket: str,
    tz: str | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
) -> list[dict]:
    """Each factory's buckets in time order, then its overall row, factories by id."""
    records = list(records)
    rows = []
    for factory_id in sorted(zone_of):
        zone = ZoneInfo(tz or zone_of[factory_id])
        # Keyed by the UTC instant: two local starts in a repeated hour compare equal.
        sums: dict[datetime, list] = {}
        for owner, moment, actual, goal in records:
            if owner != factory_id:
                continue
            if (after and moment < after) or (before and moment >= before):
                continue
            start = bucket_start(moment, bucket, zone)
            entry = sums.setdefault(start.astimezone(UTC), [start.isoformat(), 0, 0])
            entry[1] += actual
            entry[2] += goal
        rows.extend(summary_row(factory_id, *sums[key]) for key in sorted(sums))
        rows.append(
            summary_row(
                factory_id,
                None,
                sum(entry[1] for entry in sums.values()),
                sum(entry[2] for entry in sums.values()),
            )
        )
    return rows


def store(records: Iterable[Record]) -> list[Record]:
    records = list(records)
    ProductionRecord.objects.bulk_create(
        ProductionRecord(
            factory_id=factory_id,
            time=moment,
            sprocket_production_actual=actual,
            sprocket_production_goal=goal,
        )
        for factory_id, moment, actual, goal in records
    )
    # The test's transaction never commits, so the on-commit bumps of real writes never run.
    cache_generations_bump([PRODUCTION, FACTORIES])
    return records


def bucket_of(response) -> str | None:
    """The bucket a summary answer says its rows are summed by."""
    return response.headers.get("Bucket")


def get_summary(client, **params):
    return client.get(SUMMARY, {k: v for k, v in params.items() if v is not None})


def zones_of(factories: list[Factory]) -> dict[int, str]:
    return {factory.pk: factory.timezone for factory in factories}
