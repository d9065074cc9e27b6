"""GET /production/summary (DESIGN §4 Summary): bucket labels and boundaries in each zone, written
out by hand: offsets, DST changes, Monday weeks, local starts."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from inventory.tests.factories import FactoryFactory
from production.tests.summary_helpers import ONE_MINUTE, bucket_start, get_summary, store

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("bucket", "tz", "label"),
    [
        ("hour", "UTC", "2021-01-21T02:00:00+00:00"),
        ("day", "UTC", "2021-01-21T00:00:00+00:00"),
        ("week", "UTC", "2021-01-18T00:00:00+00:00"),
        ("month", "UTC", "2021-01-01T00:00:00+00:00"),
        ("hour", "Asia/Kolkata", "2021-01-21T07:00:00+05:30"),
        ("day", "Asia/Kolkata", "2021-01-21T00:00:00+05:30"),
        ("hour", "Asia/Kathmandu", "2021-01-21T07:00:00+05:45"),
        ("week", "Asia/Kathmandu", "2021-01-18T00:00:00+05:45"),
        ("day", "America/Chicago", "2021-01-20T00:00:00-06:00"),
        ("month", "Europe/Berlin", "2021-01-01T00:00:00+01:00"),
    ],
)
def test_bucket_label_is_the_iso_local_start_with_its_offset(api_client, bucket, tz, label):
    plant = FactoryFactory()
    store([(plant.pk, ONE_MINUTE, 30, 32)])

    response = get_summary(api_client, bucket=bucket, tz=tz)

    assert [row["bucket"] for row in response.json()] == [label, None]


def test_the_repeated_hour_of_a_dst_change_is_two_buckets_with_their_offsets(api_client):
    plant = FactoryFactory(timezone="Europe/Berlin")
    # 02:30 local twice on 2021-10-31: first in summer time, then in winter time.
    store(
        [
            (plant.pk, datetime(2021, 10, 31, 0, 30, tzinfo=UTC), 1, 2),
            (plant.pk, datetime(2021, 10, 31, 1, 30, tzinfo=UTC), 3, 4),
        ]
    )

    response = get_summary(api_client, bucket="hour")

    assert [(row["bucket"], row["sprocket_production_actual"]) for row in response.json()] == [
        ("2021-10-31T02:00:00+02:00", 1),
        ("2021-10-31T02:00:00+01:00", 3),
        (None, 4),
    ]


def test_a_day_with_a_dst_change_is_one_bucket_of_twenty_five_hours(api_client):
    plant = FactoryFactory(timezone="Europe/Berlin")
    # 00:10 and 23:50 local on the 25-hour day, and 00:10 local the day after.
    store(
        [
            (plant.pk, datetime(2021, 10, 30, 22, 10, tzinfo=UTC), 1, 1),
            (plant.pk, datetime(2021, 10, 31, 22, 50, tzinfo=UTC), 2, 2),
            (plant.pk, datetime(2021, 10, 31, 23, 10, tzinfo=UTC), 4, 4),
        ]
    )

    response = get_summary(api_client, bucket="day")

    assert [(row["bucket"], row["sprocket_production_actual"]) for row in response.json()] == [
        ("2021-10-31T00:00:00+02:00", 3),
        ("2021-11-01T00:00:00+01:00", 4),
        (None, 7),
    ]


def test_weeks_start_on_monday_in_the_zone_used(api_client):
    plant = FactoryFactory()
    # Sunday 23:30 UTC is already Monday in Kolkata.
    store([(plant.pk, datetime(2021, 1, 24, 23, 30, tzinfo=UTC), 5, 5)])

    utc = get_summary(api_client, bucket="week", tz="UTC").json()
    kolkata = get_summary(api_client, bucket="week", tz="Asia/Kolkata").json()

    assert (utc[0]["bucket"], kolkata[0]["bucket"]) == (
        "2021-01-18T00:00:00+00:00",
        "2021-01-25T00:00:00+05:30",
    )


@pytest.mark.parametrize(
    ("tz", "bucket", "boundary"),
    [
        ("Asia/Kolkata", "day", datetime(2021, 1, 20, 18, 30, tzinfo=UTC)),
        ("Asia/Kathmandu", "hour", datetime(2021, 1, 21, 2, 15, tzinfo=UTC)),
        ("America/Chicago", "month", datetime(2021, 2, 1, 6, 0, tzinfo=UTC)),
        ("Europe/Berlin", "week", datetime(2021, 1, 24, 23, 0, tzinfo=UTC)),
    ],
    ids=["kolkata-midnight", "kathmandu-hour", "chicago-month", "berlin-monday"],
)
def test_a_record_at_a_local_bucket_start_opens_that_bucket(api_client, tz, bucket, boundary):
    plant = FactoryFactory()
    store(
        [
            (plant.pk, boundary - timedelta(seconds=1), 1, 1),
            (plant.pk, boundary, 10, 10),
        ]
    )

    rows = get_summary(api_client, bucket=bucket, tz=tz).json()

    assert [
        (
            datetime.fromisoformat(row["bucket"]) if row["bucket"] else None,
            row["sprocket_production_actual"],
        )
        for row in rows
    ] == [
        (bucket_start(boundary - timedelta(seconds=1), bucket, ZoneInfo(tz)), 1),
        (boundary, 10),
        (None, 11),
    ]


def test_a_window_bound_on_a_bucket_start_keeps_before_exclusive(api_client):
    plant = FactoryFactory()
    midnight = datetime(2021, 1, 20, 18, 30, tzinfo=UTC)  # 00:00 in Kolkata
    store([(plant.pk, midnight - timedelta(seconds=1), 1, 1), (plant.pk, midnight, 10, 10)])

    rows = get_summary(
        api_client, bucket="day", tz="Asia/Kolkata", before="2021-01-20T18:30:00Z"
    ).json()

    assert [(row["bucket"], row["sprocket_production_actual"]) for row in rows] == [
        ("2021-01-20T00:00:00+05:30", 1),
        (None, 1),
    ]
