"""GET /production/summary?bucket=minute: a row per minute that holds records, labelled in the
zone used, summed from raw records, and bounded by SUMMARY_MAX_ROWS without listing the
minutes of the window ahead."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.tests.factories import FactoryFactory
from production.models import ProductionRecord
from production.tests.factories import source_charts
from production.tests.summary_helpers import (
    ONE_MINUTE,
    get_summary,
    store,
    summary_row,
)

pytestmark = pytest.mark.django_db

MINUTE = timedelta(minutes=1)


def twenty_minutes(factory_id: int) -> list:
    """Like the original data: 20 records one minute apart, at 58 seconds past the minute."""
    return [(factory_id, ONE_MINUTE + i * MINUTE, 30 + i, 32) for i in range(20)]


def test_minute_rows_are_the_records_of_the_original_data(api_client, original_data):
    rows = get_summary(api_client, bucket="minute").json()

    for factory_id, chart in enumerate(source_charts(), start=1):
        own = [row for row in rows if row["factory_id"] == factory_id]
        expected = [
            summary_row(
                factory_id,
                datetime.fromtimestamp(moment, UTC).replace(second=0).isoformat(),
                actual,
                goal,
            )
            for moment, actual, goal in zip(
                chart["time"],
                chart["sprocket_production_actual"],
                chart["sprocket_production_goal"],
                strict=True,
            )
        ]
        assert own[:-1] == expected
        assert own[-1]["bucket"] is None


def test_each_record_is_its_own_minute_labelled_by_the_minute_it_falls_in(api_client):
    plant = FactoryFactory(timezone="UTC")
    records = store(twenty_minutes(plant.pk))

    rows = get_summary(api_client, bucket="minute").json()

    assert rows[:-1] == [
        summary_row(plant.pk, moment.replace(second=0).isoformat(), actual, goal)
        for _, moment, actual, goal in records
    ]
    assert rows[0]["bucket"] == "2021-01-21T02:06:00+00:00"
    assert rows[-1] == summary_row(plant.pk, None, sum(30 + i for i in range(20)), 32 * 20)


def test_records_within_one_minute_are_summed_by_the_minute_floor(api_client):
    plant = FactoryFactory(timezone="UTC")
    store(
        [
            (plant.pk, datetime(2021, 1, 21, 2, 6, 0, tzinfo=UTC), 1, 1),
            (plant.pk, datetime(2021, 1, 21, 2, 6, 59, tzinfo=UTC), 2, 2),
            (plant.pk, datetime(2021, 1, 21, 2, 7, 0, tzinfo=UTC), 4, 4),
        ]
    )

    rows = get_summary(api_client, bucket="minute").json()

    assert [(row["bucket"], row["sprocket_production_actual"]) for row in rows] == [
        ("2021-01-21T02:06:00+00:00", 3),
        ("2021-01-21T02:07:00+00:00", 4),
        (None, 7),
    ]


@pytest.mark.parametrize(
    ("zone", "tz", "label"),
    [
        ("Asia/Kathmandu", None, "2021-01-21T07:51:00+05:45"),
        ("Asia/Kolkata", None, "2021-01-21T07:36:00+05:30"),
        ("America/Chicago", None, "2021-01-20T20:06:00-06:00"),
        ("Asia/Kathmandu", "America/Chicago", "2021-01-20T20:06:00-06:00"),
        ("America/Chicago", "UTC", "2021-01-21T02:06:00+00:00"),
    ],
    ids=["kathmandu", "kolkata", "chicago", "tz-over-kathmandu", "tz-utc"],
)
def test_a_minute_is_labelled_in_the_factory_zone_or_tz(api_client, zone, tz, label):
    plant = FactoryFactory(timezone=zone)
    store([(plant.pk, ONE_MINUTE, 30, 32)])

    rows = get_summary(api_client, bucket="minute", tz=tz).json()

    assert [row["bucket"] for row in rows] == [label, None]


def test_the_repeated_hour_of_a_dst_change_gives_two_minutes_of_one_local_time(api_client):
    plant = FactoryFactory(timezone="Europe/Berlin")
    store(
        [
            (plant.pk, datetime(2021, 10, 31, 0, 30, 15, tzinfo=UTC), 1, 2),
            (plant.pk, datetime(2021, 10, 31, 1, 30, 15, tzinfo=UTC), 3, 4),
        ]
    )

    rows = get_summary(api_client, bucket="minute").json()

    assert [row["bucket"] for row in rows] == [
        "2021-10-31T02:30:00+02:00",
        "2021-10-31T02:30:00+01:00",
        None,
    ]


def test_minutes_honour_after_and_before(api_client):
    plant = FactoryFactory(timezone="UTC")
    store(twenty_minutes(plant.pk))

    rows = get_summary(
        api_client, bucket="minute", after="2021-01-21T02:10:00Z", before="2021-01-21T02:12:58Z"
    ).json()

    assert [row["bucket"] for row in rows] == [
        "2021-01-21T02:10:00+00:00",
        "2021-01-21T02:11:00+00:00",
        None,
    ]


def test_a_window_of_the_whole_calendar_is_answered_with_only_the_minutes_holding_data(
    api_client,
):
    plant = FactoryFactory(timezone="UTC")
    store(twenty_minutes(plant.pk))

    response = get_summary(api_client, bucket="minute", after="0001-01-02", before="9999-12-30")

    assert response.status_code == 200
    assert len(response.json()) == 21


def test_minute_rows_of_exactly_summary_max_rows_are_answered(api_client, settings):
    plant = FactoryFactory()
    store(twenty_minutes(plant.pk)[:5])
    settings.SUMMARY_MAX_ROWS = 6  # five minutes and the overall row

    response = get_summary(api_client, bucket="minute")

    assert response.status_code == 200
    assert len(response.json()) == 6


def test_minute_rows_over_summary_max_rows_are_a_json_400_that_says_why(api_client, settings):
    plant = FactoryFactory()
    store(twenty_minutes(plant.pk)[:6])
    settings.SUMMARY_MAX_ROWS = 6

    response = get_summary(api_client, bucket="minute")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    message = json.dumps(response.json())
    assert "SUMMARY_MAX_ROWS (6)" in message
    assert "minute" in message


@pytest.mark.parametrize(("max_rows", "status"), [(6, 200), (5, 400)])
def test_the_row_budget_of_minutes_counts_only_the_records_inside_the_window(
    api_client, settings, max_rows, status
):
    plant = FactoryFactory()
    store(twenty_minutes(plant.pk))
    settings.SUMMARY_MAX_ROWS = max_rows

    response = get_summary(
        api_client, bucket="minute", after="2021-01-21T02:10:00Z", before="2021-01-21T02:15:00Z"
    )

    assert response.status_code == status


def test_the_row_budget_of_minutes_counts_every_factory(api_client, settings):
    first, second = FactoryFactory(), FactoryFactory()
    store(twenty_minutes(first.pk)[:3] + twenty_minutes(second.pk)[:3])
    settings.SUMMARY_MAX_ROWS = 7  # six minutes and two overall rows is one too many

    response = get_summary(api_client, bucket="minute")

    assert response.status_code == 400


def test_a_minute_before_local_year_1_is_a_400_not_a_500(api_client):
    plant = FactoryFactory(timezone="America/Chicago")
    store([(plant.pk, datetime(1, 1, 1, 0, 0, 30, tzinfo=UTC), 1, 1)])

    response = get_summary(api_client, bucket="minute")

    assert response.status_code == 400
    assert "year 1" in response.json()["detail"]


def test_minutes_are_read_from_raw_records_one_factory_at_a_time(api_client, on_postgresql):
    plant = FactoryFactory(timezone="UTC")
    store(twenty_minutes(plant.pk))

    with CaptureQueriesContext(connection) as queries:
        response = get_summary(api_client, bucket="minute", after="2021-01-21T02:10:00Z")

    assert response.status_code == 200
    (minutes,) = [q["sql"] for q in queries if "CROSS JOIN LATERAL" in q["sql"]]
    assert "WHERE r.factory_id = f.id AND r.time >=" in minutes


def test_too_many_minutes_are_refused_from_the_rollups_without_reading_records(
    api_client, on_postgresql, settings
):
    plant = FactoryFactory(timezone="UTC")
    store((plant.pk, datetime(2024, 1, 1, tzinfo=UTC) + i * MINUTE, 1, 1) for i in range(2880))
    settings.SUMMARY_MAX_ROWS = 1000

    with CaptureQueriesContext(connection) as queries:
        response = get_summary(
            api_client, bucket="minute", after="2024-01-01T00:00:00Z", before="2024-01-01T23:00Z"
        )

    assert response.status_code == 400
    assert not [q for q in queries if ProductionRecord._meta.db_table in q["sql"]]


@pytest.mark.parametrize("bucket", ["minute", "auto"])
def test_a_summary_at_either_end_of_the_calendar_is_answered(api_client, bucket):
    plant = FactoryFactory(timezone="UTC")
    store(
        [
            (plant.pk, datetime(1, 1, 1, tzinfo=UTC), 2, 1),
            (plant.pk, datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), 3, 1),
        ]
    )

    first = get_summary(api_client, bucket=bucket, before="0001-01-02")
    last = get_summary(api_client, bucket=bucket, after="9999-12-31")
    too_far_east = get_summary(
        api_client, bucket=bucket, after="9999-12-31", tz="Pacific/Kiritimati"
    )

    assert (first.status_code, first.json()[-1]["sprocket_production_actual"]) == (200, 2)
    assert (last.status_code, last.json()[-1]["sprocket_production_actual"]) == (200, 3)
    assert last.json()[0]["bucket"].startswith("9999-12-31T23:")
    assert too_far_east.status_code == 400
    assert "detail" in too_far_east.json()
