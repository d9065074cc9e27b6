"""GET /production/summary with bucket=auto, the default: the smallest of minute, hour, day, week
and month giving each factory at most 500 buckets over the span of its data asked for,
[max(after, its first record), min(before, one minute after its last record)); day without
data."""

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import InvalidInput
from inventory.tests.factories import FactoryFactory
from production.selectors import summary_bucket_resolve
from production.tests.summary_helpers import (
    ONE_MINUTE,
    bucket_of,
    get_summary,
    oracle,
    store,
    summary_row,
    zones_of,
)

pytestmark = pytest.mark.django_db

MINUTE = timedelta(minutes=1)
START = datetime(2021, 1, 4, 0, 0, 30, tzinfo=UTC)  # a Monday


def minutes_apart(factory_id: int, count: int, start: datetime = START) -> list:
    return store((factory_id, start + i * MINUTE, 1, 2) for i in range(count))


def first_and_last(factory_id: int, span: timedelta) -> list:
    """Records whose data spans `span`: the last stands for the minute before its end."""
    last = START + span - MINUTE
    return store(
        [(factory_id, START, 1, 2)] + ([(factory_id, last, 3, 4)] if span > MINUTE else [])
    )


def test_the_original_data_is_summed_by_minute_by_default(api_client, original_data):
    response = api_client.get("/sprocketFactory/v1/production/summary")

    assert bucket_of(response) == "minute"
    rows = response.json()
    for factory_id in (1, 2, 3):
        own = [row for row in rows if row["factory_id"] == factory_id]
        assert len(own) == 21
        assert own[-1]["bucket"] is None


def test_auto_gives_what_the_bucket_it_chose_gives(api_client):
    plant = FactoryFactory(timezone="Asia/Kathmandu")
    records = minutes_apart(plant.pk, 30)

    auto = get_summary(api_client, bucket="auto")

    assert bucket_of(auto) == "minute"
    assert auto.json() == oracle(records, zones_of([plant]), bucket="minute")


@pytest.mark.parametrize(
    ("span", "bucket"),
    [
        (timedelta(minutes=1), "minute"),
        (timedelta(minutes=500), "minute"),
        (timedelta(minutes=501), "hour"),
        (timedelta(hours=500), "hour"),
        (timedelta(hours=500, minutes=1), "day"),
        (timedelta(days=500), "day"),
        (timedelta(days=500, minutes=1), "week"),
        (timedelta(weeks=500), "week"),
        (timedelta(weeks=500, minutes=1), "month"),
    ],
    ids=lambda value: str(value).replace(" ", "") if isinstance(value, timedelta) else value,
)
def test_auto_is_the_smallest_bucket_with_at_most_500_over_the_span(api_client, span, bucket):
    plant = FactoryFactory(timezone="UTC")
    records = first_and_last(plant.pk, span)

    response = get_summary(api_client)

    assert bucket_of(response) == bucket
    assert response.json() == oracle(records, zones_of([plant]), bucket=bucket)


def test_500_records_a_minute_apart_are_500_minutes(api_client):
    plant = FactoryFactory(timezone="UTC")
    minutes_apart(plant.pk, 500)

    response = get_summary(api_client)

    assert bucket_of(response) == "minute"
    assert len(response.json()) == 501


def test_501_records_a_minute_apart_are_summed_by_hour(api_client):
    plant = FactoryFactory(timezone="UTC")
    minutes_apart(plant.pk, 501)

    response = get_summary(api_client)

    assert bucket_of(response) == "hour"
    assert len(response.json()) == 10  # 00:00 to 08:20, and the overall row


@pytest.mark.parametrize(
    ("window", "bucket", "rows"),
    [
        ({"after": START + 500 * MINUTE}, "minute", 500),
        ({"after": START + 499 * MINUTE}, "hour", 9),
        ({"before": START + 500 * MINUTE}, "minute", 500),
        ({"before": START + 501 * MINUTE}, "hour", 9),
        ({"after": START + 100 * MINUTE, "before": START + 600 * MINUTE}, "minute", 500),
        ({"after": START - timedelta(days=30), "before": START + 300 * MINUTE}, "minute", 300),
    ],
    ids=["after", "after-one-more", "before", "before-one-more", "both", "before-the-data"],
)
def test_auto_spans_only_the_data_between_after_and_before(api_client, window, bucket, rows):
    plant = FactoryFactory(timezone="UTC")
    minutes_apart(plant.pk, 1000)

    response = get_summary(
        api_client, **{name: moment.isoformat() for name, moment in window.items()}
    )

    assert bucket_of(response) == bucket
    assert len(response.json()) == rows + 1


def test_auto_is_decided_by_the_longest_span_of_the_chosen_factories(api_client):
    short, long = FactoryFactory(), FactoryFactory()
    minutes_apart(short.pk, 20)
    minutes_apart(long.pk, 600, start=START + timedelta(hours=10))

    both = get_summary(api_client)
    one = get_summary(api_client, factory_id=short.pk)

    assert (bucket_of(both), bucket_of(one)) == ("hour", "minute")


def test_factories_whose_data_lie_apart_each_get_their_minutes(api_client):
    early, late = FactoryFactory(), FactoryFactory()
    minutes_apart(early.pk, 20)
    minutes_apart(late.pk, 20, start=START + timedelta(days=3))

    response = get_summary(api_client)

    assert bucket_of(response) == "minute"
    assert len(response.json()) == 42


def test_auto_without_data_is_day(api_client):
    plant = FactoryFactory()

    response = get_summary(api_client)

    assert bucket_of(response) == "day"
    assert response.json() == [summary_row(plant.pk, None, 0, 0)]


def test_auto_over_a_window_without_data_is_day(api_client):
    plant = FactoryFactory()
    minutes_apart(plant.pk, 20)

    response = get_summary(api_client, after="2022-01-01")

    assert bucket_of(response) == "day"
    assert response.json() == [summary_row(plant.pk, None, 0, 0)]


def test_auto_takes_a_larger_bucket_rather_than_pass_summary_max_rows(api_client, settings):
    plant = FactoryFactory(timezone="UTC")
    store((plant.pk, ONE_MINUTE + i * MINUTE, 1, 1) for i in range(20))
    settings.SUMMARY_MAX_ROWS = 20  # 20 minutes and the overall row would be one too many

    response = get_summary(api_client)

    assert response.status_code == 200
    assert bucket_of(response) == "hour"
    assert [row["bucket"] for row in response.json()] == ["2021-01-21T02:00:00+00:00", None]


# The selector, as other callers (the dashboard) use it.


@pytest.mark.parametrize("bucket", ["minute", "hour", "day", "week", "month"])
def test_a_fixed_bucket_resolves_to_itself_without_a_query(bucket, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert summary_bucket_resolve(bucket=bucket) == bucket


def test_auto_resolves_over_the_chosen_factories_and_window():
    short, long = FactoryFactory(), FactoryFactory()
    minutes_apart(short.pk, 20)
    minutes_apart(long.pk, 600)

    assert summary_bucket_resolve(bucket="auto") == "hour"
    assert summary_bucket_resolve(bucket="auto", factory_ids=[short.pk]) == "minute"
    assert summary_bucket_resolve(bucket="auto", before=START + timedelta(hours=1)) == "minute"


def test_an_unknown_bucket_is_refused_naming_the_choices():
    with pytest.raises(InvalidInput) as refused:
        summary_bucket_resolve(bucket="fortnight")

    assert "auto, minute, hour, day, week, month" in refused.value.detail["bucket"][0]
