"""A factory's working hours (issue 15): local times every day in its own zone, night shifts
past midnight, DST days as long as the clocks make them; set through the API (both or
neither) and kept by a database constraint."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError
from hypothesis import assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from inventory.hours import WorkingHours
from inventory.models import Factory
from inventory.tests.factories import FactoryFactory

FACTORIES = "/sprocketFactory/v1/factories"
DAY = datetime(2024, 3, 12, tzinfo=UTC)
H = timedelta(hours=1)


def test_always_working_without_hours():
    hours = WorkingHours(zone="UTC")

    assert hours.intervals(DAY, DAY + 24 * H) == [(DAY, DAY + 24 * H)]
    assert hours.covers(DAY, DAY + 3 * H)


def test_a_day_shift_is_its_hours_in_the_factorys_zone():
    hours = WorkingHours(zone="Asia/Tokyo", start=time(6), end=time(22))  # UTC+9

    assert hours.intervals(DAY, DAY + 24 * H) == [
        (DAY, DAY + 13 * H),  # 09:00-22:00 Tokyo on the 12th
        (DAY + 21 * H, DAY + 24 * H),  # from 06:00 Tokyo on the 13th
    ]
    assert hours.minutes(DAY, DAY + 24 * H) == 16 * 60


def test_a_night_shift_runs_past_midnight():
    hours = WorkingHours(zone="UTC", start=time(22), end=time(6))

    assert hours.intervals(DAY, DAY + 24 * H) == [(DAY, DAY + 6 * H), (DAY + 22 * H, DAY + 24 * H)]
    assert hours.covers(DAY + 23 * H, DAY + 26 * H)
    assert not hours.covers(DAY + 5 * H, DAY + 7 * H)


@pytest.mark.parametrize(
    ("day", "length"), [(datetime(2024, 3, 31), 3), (datetime(2024, 10, 27), 5)]
)
def test_a_shift_across_a_dst_change_is_as_long_as_the_clocks_make_it(day, length):
    hours = WorkingHours(zone="Europe/Berlin", start=time(1), end=time(5))
    start = day.replace(tzinfo=UTC) - 2 * H

    assert hours.minutes(start, start + 24 * H) == length * 60


def test_working_time_is_counted_forward_across_the_break():
    hours = WorkingHours(zone="UTC", start=time(6), end=time(22))

    assert hours.after_working(DAY + 21 * H, 120, DAY + 48 * H) == DAY + 31 * H
    assert hours.after_working(DAY + 21 * H, 120, DAY + 24 * H) is None
    assert hours.last_end(DAY, DAY + 24 * H) == DAY + 22 * H


@pytest.mark.django_db
def test_working_hours_are_set_through_the_api_and_read_back(api_client_as):
    factory = FactoryFactory()
    client = api_client_as("manager")

    response = client.patch(
        f"{FACTORIES}/{factory.pk}",
        {"working_hours_start": "06:00", "working_hours_end": "22:00"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["working_hours_start"] == "06:00:00"
    assert response.json()["working_hours_end"] == "22:00:00"
    cleared = client.patch(
        f"{FACTORIES}/{factory.pk}",
        {"working_hours_start": None, "working_hours_end": None},
        format="json",
    )
    assert cleared.json()["working_hours_start"] is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"working_hours_start": "06:00"}, "working_hours_end"),
        ({"working_hours_end": "06:00"}, "working_hours_start"),
        ({"working_hours_start": "06:00", "working_hours_end": "06:00"}, "working_hours_end"),
        ({"working_hours_start": "25:00", "working_hours_end": "06:00"}, "working_hours_start"),
    ],
)
def test_half_or_empty_working_hours_are_a_400(api_client_as, body, field):
    factory = FactoryFactory()

    response = api_client_as("manager").patch(f"{FACTORIES}/{factory.pk}", body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    factory.refresh_from_db()
    assert factory.working_hours_start is None


@pytest.mark.django_db
def test_the_database_refuses_half_working_hours():
    factory = FactoryFactory()

    with pytest.raises(IntegrityError):
        Factory.objects.filter(pk=factory.pk).update(working_hours_start=time(6))


# Each zone around one of its 2024 DST changes (Berlin's in March and October, Chicago's in
# March and November); Kathmandu (+05:45) and Kolkata (+05:30) keep odd offsets all year.
ZONES_AROUND = [
    ("Europe/Berlin", datetime(2024, 3, 31, 1, tzinfo=UTC)),
    ("Europe/Berlin", datetime(2024, 10, 27, 1, tzinfo=UTC)),
    ("America/Chicago", datetime(2024, 3, 10, 8, tzinfo=UTC)),
    ("America/Chicago", datetime(2024, 11, 3, 7, tzinfo=UTC)),
    ("Asia/Kathmandu", datetime(2024, 3, 31, 1, tzinfo=UTC)),
    ("Asia/Kolkata", datetime(2024, 10, 27, 1, tzinfo=UTC)),
    ("UTC", datetime(2024, 3, 10, 8, tzinfo=UTC)),
]


def wall_clock_working(hours: WorkingHours, moment: datetime) -> bool:
    """The oracle: the moment's wall-clock time of day is within the hours."""
    if hours.always:
        return True
    of_day = moment.astimezone(ZoneInfo(hours.zone)).time()
    if hours.start < hours.end:
        return hours.start <= of_day < hours.end
    return of_day >= hours.start or of_day < hours.end


quarter_hours = st.builds(lambda q: time(q // 4, (q % 4) * 15), st.integers(0, 95))


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    zone_around=st.sampled_from(ZONES_AROUND),
    start=quarter_hours,
    end=quarter_hours,
    offset_minutes=st.integers(-24 * 60, 12 * 60),
    length_minutes=st.integers(1, 30 * 60),
)
def test_working_minutes_are_the_minutes_whose_wall_clock_is_within_the_hours(
    zone_around, start, end, offset_minutes, length_minutes
):
    zone, around = zone_around
    assume(start != end)
    hours = WorkingHours(zone=zone, start=start, end=end)
    after = around + timedelta(minutes=offset_minutes)
    before = after + timedelta(minutes=length_minutes)

    expected = sum(
        wall_clock_working(hours, after + timedelta(minutes=m)) for m in range(length_minutes)
    )

    assert hours.minutes(after, before) == expected
    assert hours.covers(after, before) == (expected == length_minutes)
