"""Which bucket `bucket=auto` stands for: the smallest that gives each factory at most
AUTO_MAX_POINTS points over the span of its data asked for.

A factory's span is [max(after, its first record), min(before, one minute after its last
record)): a record stands for its minute, so 20 records one minute apart span 20 minutes. Auto
is the smallest of minute, hour, day and week whose count of buckets over the longest span of
the selected factories, ceil(span / its length), is at most AUTO_MAX_POINTS — and whose rows
for every selected factory (that count plus an edge bucket and the overall row, each) stay
within SUMMARY_MAX_ROWS, so that the default does not ask for a 400; month when none is. With
no span (no records, or none between after and before) it is AUTO_WITHOUT_DATA.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Max, Min

from inventory.models import Factory
from production.models import ProductionRecord
from production.selectors.buckets import AUTO, DAY, HOUR, MINUTE, bucket_check, plus

AUTO_MAX_POINTS = 500
AUTO_WITHOUT_DATA = "day"
AUTO_STEPS = (("minute", MINUTE), ("hour", HOUR), ("day", DAY), ("week", 7 * DAY))
AUTO_LAST = "month"
# Each factory's first and last record: two index probes on (factory_id, time) per factory.
# The factory `f` (a row with its `id`): its first and last record as `s.first`, `s.last`.
FIRST_AND_LAST_RECORD = f"""
CROSS JOIN LATERAL (
    SELECT
        (SELECT t.time FROM {ProductionRecord._meta.db_table} t
         WHERE t.factory_id = f.id ORDER BY t.time LIMIT 1) AS first,
        (SELECT t.time FROM {ProductionRecord._meta.db_table} t
         WHERE t.factory_id = f.id ORDER BY t.time DESC LIMIT 1) AS last
) AS s"""  # noqa: S608 (the table name is the model's; values are parameters)
DATA_SPANS = f"""
SELECT s.first, s.last
FROM unnest(%s::bigint[]) AS f(id){FIRST_AND_LAST_RECORD}
"""  # noqa: S608 (the table name is the model's; values are parameters)


def _firsts_and_lasts(factory_ids: list[int]) -> list[tuple[datetime, datetime]]:
    """The first and last record of each of these factories that has any."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(DATA_SPANS, [factory_ids])
            return [(first, last) for first, last in cursor.fetchall() if first is not None]
    bounds = (
        ProductionRecord.objects.filter(factory_id__in=factory_ids)
        .order_by()
        .values("factory_id")
        .annotate(first=Min("time"), last=Max("time"))
    )
    return [(bound["first"], bound["last"]) for bound in bounds]


def _longest_span(
    spans: list[tuple[datetime, datetime]], after: datetime | None, before: datetime | None
) -> timedelta:
    longest = timedelta(0)
    for first, last in spans:
        lo = max(after, first) if after else first
        end = plus(last, MINUTE)
        hi = min(before, end) if before else end
        longest = max(longest, hi - lo)
    return longest


def _buckets_over(span: timedelta, length: timedelta) -> int:
    return -(span // -length)


def auto_bucket(
    factory_ids: list[int],
    after: datetime | None,
    before: datetime | None,
    *,
    spans: list[tuple[datetime, datetime]] | None = None,
) -> str:
    """What `bucket=auto` stands for over these factories' data between after and before;
    `spans`, each factory's first and last record, when the caller has read them already."""
    if spans is None:
        spans = _firsts_and_lasts(factory_ids) if factory_ids else []
    span = _longest_span(spans, after, before)
    if not span:
        return AUTO_WITHOUT_DATA
    for bucket, length in AUTO_STEPS:
        count = _buckets_over(span, length)
        rows = len(factory_ids) * (count + 2)
        if count <= AUTO_MAX_POINTS and rows <= settings.SUMMARY_MAX_ROWS:
            return bucket
    return AUTO_LAST


def summary_bucket_resolve(
    *,
    bucket: str,
    factory_ids: list[int] | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
) -> str:
    """The bucket a summary with these parameters is summed by: `bucket` itself, or what
    `auto` stands for (minute, hour, day, week or month)."""
    bucket_check(bucket)
    if bucket != AUTO:
        return bucket
    factories = Factory.objects.all()
    if factory_ids:
        factories = factories.filter(pk__in=factory_ids)
    return auto_bucket(list(factories.values_list("id", flat=True)), after, before)
