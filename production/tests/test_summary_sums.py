"""GET /production/summary (DESIGN §4 Summary): sums per factory per bucket, in a zone, against the
oracle (summary_helpers.py); each factory's overall row and attainment; choosing factories; the
original data's totals."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings

from inventory.models import Factory
from inventory.tests.factories import FactoryFactory
from production.tests.summary_helpers import (
    BUCKETS,
    ONE_MINUTE,
    SUMMARY,
    ZONES,
    Record,
    get_summary,
    oracle,
    store,
    summary_row,
    zones_of,
)

SOURCE_DIR = django_settings.BASE_DIR / "fixtures" / "source"


# Berlin leaves summer time on 2021-10-31 at 01:00Z, Chicago on 2021-11-07 at 07:00Z; the span
# also crosses a month and several Mondays.
FALL_START = datetime(2021, 10, 24, 0, 7, 13, tzinfo=UTC)
FALL_SPAN = timedelta(days=16)
FALL_STEP = timedelta(minutes=37)
# Cuts an hour at :20, a day in its middle, a week on a Wednesday and one on a Thursday.
CUT_WINDOW = {"after": "2021-10-27T05:20:00Z", "before": "2021-11-04T13:20:00Z"}


pytestmark = pytest.mark.django_db


def fall_records(factories: list[Factory]) -> list[Record]:
    records = []
    for position, factory in enumerate(factories):
        moment, step = FALL_START + timedelta(minutes=11 * position), 0
        while moment < FALL_START + FALL_SPAN:
            # Goal 0 now and then: some hours sum to a goal of 0.
            records.append((factory.pk, moment, (step * 7) % 41, (step * 5) % 37))
            moment += FALL_STEP
            step += 1
    return records


def as_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def plants() -> list[Factory]:
    return [
        FactoryFactory(name="Plant Berlin", timezone="Europe/Berlin"),
        FactoryFactory(name="Plant Chicago", timezone="America/Chicago"),
        FactoryFactory(name="Plant Kathmandu", timezone="Asia/Kathmandu"),
    ]


# Sums against the oracle.


@pytest.mark.parametrize("bucket", BUCKETS)
@pytest.mark.parametrize("tz", [None, *ZONES], ids=["own-zone", *ZONES])
def test_summary_equals_the_records_summed_per_local_bucket(api_client, plants, bucket, tz):
    records = store(fall_records(plants))

    response = get_summary(api_client, bucket=bucket, tz=tz)

    assert response.status_code == 200
    assert response.json() == oracle(records, zones_of(plants), bucket=bucket, tz=tz)


@pytest.mark.parametrize("bucket", BUCKETS)
@pytest.mark.parametrize("tz", [None, *ZONES], ids=["own-zone", *ZONES])
def test_summary_of_a_window_that_cuts_buckets_sums_only_the_records_inside_it(
    api_client, plants, bucket, tz
):
    records = store(fall_records(plants))

    response = get_summary(api_client, bucket=bucket, tz=tz, **CUT_WINDOW)

    assert response.status_code == 200
    assert response.json() == oracle(
        records,
        zones_of(plants),
        bucket=bucket,
        tz=tz,
        after=as_utc(CUT_WINDOW["after"]),
        before=as_utc(CUT_WINDOW["before"]),
    )


@pytest.mark.parametrize(
    ("window", "after", "before"),
    [
        ({"after": "2021-10-26T09:20:00Z"}, "2021-10-26T09:20:00Z", None),
        ({"before": "2021-11-03T12:00:00Z"}, None, "2021-11-03T12:00:00Z"),
        # Unix seconds; `after` is 02:20 in Berlin's repeated hour.
        (
            {"after": "1635639600", "before": "1635730800"},
            "2021-10-31T00:20:00Z",
            "2021-11-01T01:40:00Z",
        ),
    ],
    ids=["after-only", "before-only", "unix-seconds"],
)
def test_summary_honours_one_sided_and_unix_second_windows(
    api_client, plants, window, after, before
):
    records = store(fall_records(plants))

    response = get_summary(api_client, bucket="hour", **window)

    assert response.json() == oracle(
        records,
        zones_of(plants),
        bucket="hour",
        after=as_utc(after) if after else None,
        before=as_utc(before) if before else None,
    )


# Rows.


def test_each_factory_ends_with_an_overall_row_that_sums_its_buckets(api_client, plants):
    store(fall_records(plants))

    rows = get_summary(api_client, bucket="day").json()

    for plant in plants:
        own = [row for row in rows if row["factory_id"] == plant.pk]
        *buckets, overall = own
        assert overall["bucket"] is None
        assert overall["sprocket_production_actual"] == sum(
            row["sprocket_production_actual"] for row in buckets
        )
        assert overall["sprocket_production_goal"] == sum(
            row["sprocket_production_goal"] for row in buckets
        )
        assert all(row["bucket"] is not None for row in buckets)


def test_attainment_is_actual_over_goal_rounded_to_four_places(api_client):
    plant = FactoryFactory()
    store([(plant.pk, ONE_MINUTE, 2, 3)])

    rows = get_summary(api_client, bucket="day").json()

    assert [row["attainment"] for row in rows] == [0.6667, 0.6667]


def test_attainment_is_null_when_the_goal_is_zero(api_client):
    plant = FactoryFactory()
    store([(plant.pk, ONE_MINUTE, 5, 0)])

    rows = get_summary(api_client, bucket="day").json()

    assert [(row["sprocket_production_actual"], row["attainment"]) for row in rows] == [
        (5, None),
        (5, None),
    ]


def test_without_tz_each_factory_is_summarised_in_its_own_zone(api_client):
    kolkata = FactoryFactory(timezone="Asia/Kolkata")
    chicago = FactoryFactory(timezone="America/Chicago")
    store([(kolkata.pk, ONE_MINUTE, 1, 1), (chicago.pk, ONE_MINUTE, 1, 1)])

    rows = get_summary(api_client, bucket="day").json()

    assert [row["bucket"] for row in rows] == [
        "2021-01-21T00:00:00+05:30",
        None,
        "2021-01-20T00:00:00-06:00",
        None,
    ]


def test_tz_overrides_every_factory_zone(api_client):
    kolkata = FactoryFactory(timezone="Asia/Kolkata")
    chicago = FactoryFactory(timezone="America/Chicago")
    store([(kolkata.pk, ONE_MINUTE, 1, 1), (chicago.pk, ONE_MINUTE, 1, 1)])

    rows = get_summary(api_client, bucket="day", tz="Europe/Berlin").json()

    assert [row["bucket"] for row in rows] == [
        "2021-01-21T00:00:00+01:00",
        None,
        "2021-01-21T00:00:00+01:00",
        None,
    ]


def test_a_factory_without_records_gets_only_an_overall_row_of_zeros(api_client):
    busy, idle = FactoryFactory(), FactoryFactory()
    store([(busy.pk, ONE_MINUTE, 3, 4)])

    rows = get_summary(api_client, bucket="hour").json()

    assert [row for row in rows if row["factory_id"] == idle.pk] == [
        summary_row(idle.pk, None, 0, 0)
    ]
    assert rows[-1]["attainment"] is None


def test_when_no_factory_has_records_each_gets_an_overall_row_of_zeros(api_client):
    first, second = FactoryFactory(), FactoryFactory()

    rows = get_summary(api_client, bucket="day").json()

    assert rows == [summary_row(first.pk, None, 0, 0), summary_row(second.pk, None, 0, 0)]


def test_a_window_without_records_gives_overall_rows_of_zeros(api_client):
    plant = FactoryFactory()
    store([(plant.pk, ONE_MINUTE, 3, 4)])

    rows = get_summary(api_client, bucket="day", after="2022-01-01").json()

    assert rows == [summary_row(plant.pk, None, 0, 0)]


# Choosing factories.


@pytest.mark.parametrize("style", ["repeated", "comma-list"])
def test_factory_id_narrows_the_summary_to_those_factories(api_client, plants, style):
    store(fall_records(plants))
    chosen = [plants[0].pk, plants[2].pk]
    query = (
        "&".join(f"factory_id={pk}" for pk in chosen)
        if style == "repeated"
        else f"factory_id={chosen[0]},{chosen[1]}"
    )

    rows = api_client.get(f"{SUMMARY}?bucket=week&{query}").json()

    assert {row["factory_id"] for row in rows} == set(chosen)
    assert [row for row in rows if row["bucket"] is None] == [
        row
        for row in oracle(fall_records(plants), zones_of(plants), bucket="week")
        if row["bucket"] is None and row["factory_id"] in chosen
    ]


# The original data.


def test_the_original_data_by_day_gives_the_totals_of_the_original_file(api_client, original_data):
    document = json.loads((SOURCE_DIR / "seed_factory_data.json").read_text())
    expected = [
        (
            sum(entry["factory"]["chart_data"]["sprocket_production_actual"]),
            sum(entry["factory"]["chart_data"]["sprocket_production_goal"]),
        )
        for entry in document["factories"]
    ]

    rows = get_summary(api_client, bucket="day").json()

    overall = [
        (row["sprocket_production_actual"], row["sprocket_production_goal"])
        for row in rows
        if row["bucket"] is None
    ]
    by_day = [
        (row["sprocket_production_actual"], row["sprocket_production_goal"])
        for row in rows
        if row["bucket"] is not None
    ]
    assert overall == expected
    assert by_day == expected  # each factory's 20 minutes fall within one UTC day
