"""Retention of raw records (issue 14, item 3): with PRODUCTION_RAW_RETENTION, whole partitions
older than it are detached and dropped; the rollups keep them, so summaries of those periods
still answer exactly where whole hours suffice, and refuse clearly (400) where they would need
the minutes that are gone; raw reads say where raw records begin."""

from datetime import UTC, datetime, timedelta

import pytest

from inventory.tests.factories import FactoryFactory
from production.models import ProductionRecord
from production.partitions import production_partitions_maintain, production_records_kept_since

pytestmark = pytest.mark.usefixtures("on_postgresql")

API = "/sprocketFactory/v1"
SUMMARY = f"{API}/production/summary"


@pytest.mark.parametrize(
    ("retention", "interval", "now", "since"),
    [
        (
            "24 months",
            "month",
            datetime(2026, 11, 30, 18, tzinfo=UTC),
            datetime(2024, 11, 1, tzinfo=UTC),
        ),
        ("1 year", "month", datetime(2024, 2, 29, tzinfo=UTC), datetime(2023, 2, 1, tzinfo=UTC)),
        ("1 month", "day", datetime(2024, 3, 31, 5, tzinfo=UTC), datetime(2024, 2, 29, tzinfo=UTC)),
        ("90 days", "day", datetime(2024, 3, 31, 5, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)),
        (
            "2 weeks",
            "week",
            datetime(2024, 3, 31, 5, tzinfo=UTC),
            datetime(2024, 3, 11, tzinfo=UTC),
        ),
    ],
)
def test_raw_records_are_kept_from_the_period_the_retention_reaches_into(
    settings, retention, interval, now, since
):
    settings.PRODUCTION_RAW_RETENTION = retention
    settings.PRODUCTION_PARTITION_INTERVAL = interval

    assert production_records_kept_since(now) == since


def test_without_a_retention_every_record_is_kept(settings):
    settings.PRODUCTION_RAW_RETENTION = ""

    assert production_records_kept_since() is None
    assert production_partitions_maintain().dropped == []


@pytest.fixture
def retained(settings):
    """Two years of raw records kept; returns where they begin."""
    settings.PRODUCTION_RAW_RETENTION = "24 months"
    return production_records_kept_since()


def record(factory, time: datetime, actual: int = 30) -> ProductionRecord:
    return ProductionRecord.objects.create(
        factory=factory, time=time, sprocket_production_actual=actual, sprocket_production_goal=32
    )


def test_partitions_wholly_before_the_retention_are_dropped_at_their_boundary(retained):
    factory = FactoryFactory()
    last_dropped = record(factory, retained - timedelta(seconds=1))
    first_kept = record(factory, retained)

    done = production_partitions_maintain()

    assert done.dropped == [f"production_productionrecord_p{retained - timedelta(days=1):%Y%m01}"]
    assert not ProductionRecord.objects.filter(pk=last_dropped.pk).exists()
    assert ProductionRecord.objects.filter(pk=first_kept.pk).exists()


def summary(client, factory, day: datetime, **query) -> object:
    window = {
        "after": day.isoformat().replace("+00:00", "Z"),
        "before": (day + timedelta(days=2)).isoformat().replace("+00:00", "Z"),
    }
    return client.get(SUMMARY, {"factory_id": factory.pk, **window, **query})


def test_summaries_of_dropped_periods_answer_as_before_where_whole_hours_suffice(
    api_client, retained
):
    factory = FactoryFactory()
    day = retained - timedelta(days=20)
    for minute in range(0, 36 * 60, 7):  # a day and a half, every seventh minute
        record(factory, day + timedelta(minutes=minute), actual=minute % 50)
    queries = [
        {"bucket": "day", "tz": "UTC"},
        {"bucket": "day", "tz": "Europe/Berlin"},
        {"bucket": "hour", "tz": "America/New_York"},
        {"bucket": "week"},
        {"bucket": "auto"},
    ]
    before = [summary(api_client, factory, day, **query).json() for query in queries]

    production_partitions_maintain()

    assert not ProductionRecord.objects.filter(factory=factory).exists()
    after = [summary(api_client, factory, day, **query) for query in queries]
    assert [answer.status_code for answer in after] == [200] * len(queries)
    assert [answer.json() for answer in after] == before
    assert before[-1] == summary(api_client, factory, day, bucket="hour").json()  # auto: hours


@pytest.mark.parametrize(
    ("query", "field"),
    [({"bucket": "minute"}, "bucket"), ({"bucket": "day", "tz": "Asia/Kolkata"}, "detail")],
)
def test_a_summary_that_needs_dropped_minutes_is_refused_with_what_to_ask(
    api_client, retained, query, field
):
    factory = FactoryFactory()
    day = retained - timedelta(days=20)
    # Kolkata's midnight (18:30 UTC) falls between them: its days cut an hour.
    record(factory, day + timedelta(hours=3))
    record(factory, day + timedelta(hours=30))
    production_partitions_maintain()

    answer = summary(api_client, factory, day, **query)

    assert answer.status_code == 400
    message = str(answer.json()[field])
    assert "kept summarised by the hour only (PRODUCTION_RAW_RETENTION)" in message
    assert retained.isoformat().replace("+00:00", "Z") in message


@pytest.mark.parametrize(
    "path",
    [
        "/production",
        "/production/{factory_id}",
        "/production/{factory_id}?format=csv",
        "/production/records/{record_id}",
        "/factories/chart-data",
        "/factories/{factory_id}/chart-data",
    ],
)
def test_raw_reads_say_where_raw_records_begin(manager, retained, path):
    factory = FactoryFactory()
    kept = record(factory, retained + timedelta(days=1))

    answer = manager.get(API + path.format(factory_id=factory.pk, record_id=kept.pk))

    assert answer.status_code == 200
    assert answer["Production-Records-Since"] == retained.isoformat().replace("+00:00", "Z")


def test_without_a_retention_raw_reads_send_no_such_header(manager, settings):
    settings.PRODUCTION_RAW_RETENTION = ""

    answer = manager.get(f"{API}/production")

    assert "Production-Records-Since" not in answer


def test_a_dropped_partition_leaves_no_cached_read_of_its_records(
    api_client, retained, django_capture_on_commit_callbacks
):
    factory = FactoryFactory()
    record(factory, retained - timedelta(days=3))
    url = f"{API}/production/{factory.pk}"
    assert len(api_client.get(url).json()) == 1  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        production_partitions_maintain()

    assert api_client.get(url).json() == []
