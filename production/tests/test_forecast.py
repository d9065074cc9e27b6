"""Today's forecast (issue 15): where each factory's local day will end at the recent run
rate, against the day's goal; on the summary's current day bucket with forecast=true,
computed fresh (never from the cache)."""

from datetime import UTC, datetime, timedelta

import pytest

from inventory.hours import WorkingHours
from inventory.tests.factories import FactoryFactory
from production.models import ProductionRecord
from production.selectors.forecast import forecast_of, local_day
from production.tests.summary_helpers import store

SUMMARY = "/sprocketFactory/v1/production/summary"
MINUTE = timedelta(minutes=1)
NOW = datetime(2024, 3, 12, 12, 0, 30, tzinfo=UTC)  # 12:00 UTC, noon in the day
ALWAYS = WorkingHours(zone="UTC")
DAY_START, DAY_END = datetime(2024, 3, 12, tzinfo=UTC), datetime(2024, 3, 13, tzinfo=UTC)


def at_noon(*, actual: int, goal: int, recent_actual: int) -> dict:
    """The forecast at noon of an always-working UTC day, the last hour's goal 32 a minute."""
    return forecast_of(
        actual=actual,
        goal=goal,
        recent_actual=recent_actual,
        recent_goal=60 * 32,
        recent_minutes=60,
        now_end=DAY_START + 720 * MINUTE,
        start=DAY_START,
        end=DAY_END,
        hours=ALWAYS,
    )


def test_a_steady_line_is_projected_at_its_rate_to_the_end_of_the_day():
    forecast = at_noon(actual=720 * 30, goal=720 * 32, recent_actual=60 * 30)

    assert forecast == {
        "projected_actual": 1440 * 30,
        "day_goal": 1440 * 32,
        "status": "behind",
        "behind_by": 1440 * 2,
        "run_rate_per_minute": 30.0,
        "goal_met_at": None,
        "day_ends_at": "2024-03-13T00:00:00Z",
    }


def test_a_fast_line_says_when_it_meets_the_goal_and_a_met_goal_says_now():
    fast = at_noon(actual=720 * 40, goal=720 * 32, recent_actual=60 * 40)
    done = at_noon(actual=1440 * 32, goal=720 * 32, recent_actual=0)

    # 46,080 to make, 28,800 made: 17,280 more at 40 a minute is 432 minutes after noon.
    assert fast["goal_met_at"] == "2024-03-12T19:12:00Z"
    assert (fast["status"], fast["behind_by"]) == ("on_track", 0)
    assert done["goal_met_at"] == "2024-03-12T12:00:00Z"


def test_a_stopped_line_is_projected_to_stay_where_it_is():
    forecast = at_noon(actual=1000, goal=2000, recent_actual=0)

    assert forecast["projected_actual"] == 1000
    assert forecast["goal_met_at"] is None


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("Europe/Berlin", datetime(2024, 3, 31, 12, tzinfo=UTC), 23),  # summer time begins
        ("Europe/Berlin", datetime(2024, 10, 27, 12, tzinfo=UTC), 25),  # and ends
        ("Asia/Kathmandu", datetime(2024, 3, 12, 12, tzinfo=UTC), 24),
    ],
)
def test_a_local_day_is_as_long_as_the_zone_makes_it(zone, day, hours):
    from zoneinfo import ZoneInfo

    start, end = local_day(day, ZoneInfo(zone))

    assert end - start == timedelta(hours=hours)


@pytest.fixture
def morning(db):
    """A factory in UTC that made 30 a minute against 32 from midnight to noon (NOW)."""
    factory = FactoryFactory(timezone="UTC")
    start = datetime(2024, 3, 12, tzinfo=UTC)
    store((factory.pk, start + m * MINUTE, 30, 32) for m in range(720))
    store([(factory.pk, start - timedelta(days=1), 10, 10)])  # yesterday: no forecast there
    return factory


def summary(client, factory, **query):
    return client.get(
        SUMMARY,
        {"factory_id": factory.pk, "bucket": "day", "after": "2024-03-11", "forecast": "true"}
        | query,
    )


def test_the_current_day_bucket_carries_the_forecast(api_client, morning, monkeypatch):
    monkeypatch.setattr("production.api.summary.timezone.now", lambda: NOW)

    rows = summary(api_client, morning).json()

    yesterday, today, overall = rows
    assert "forecast" not in yesterday
    assert "forecast" not in overall
    forecast = today["forecast"]
    # 720 minutes of 30 so far; the last hour (11:01-12:00, 59 records) ran 29.5 a minute
    assert forecast["projected_actual"] == round(720 * 30 + 29.5 * 719)
    assert forecast["status"] == "behind"
    assert forecast["day_ends_at"] == "2024-03-13T00:00:00Z"


def test_without_forecast_or_by_hour_there_is_none(api_client, morning, monkeypatch):
    monkeypatch.setattr("production.api.summary.timezone.now", lambda: NOW)

    plain = summary(api_client, morning, forecast="false").json()
    hourly = summary(api_client, morning, bucket="hour").json()

    assert not any("forecast" in row for row in plain + hourly)


def test_a_bad_forecast_value_is_a_400(api_client, morning):
    response = summary(api_client, morning, forecast="maybe")

    assert response.status_code == 400
    assert "forecast" in response.json()


def test_a_forecast_is_computed_afresh_not_served_from_the_cache(api_client, morning, monkeypatch):
    monkeypatch.setattr("production.api.summary.timezone.now", lambda: NOW)
    at_noon = summary(api_client, morning).json()[1]["forecast"]
    later = NOW + timedelta(hours=2)  # no record since noon: the run rate falls
    monkeypatch.setattr("production.api.summary.timezone.now", lambda: later)

    at_two = summary(api_client, morning).json()[1]["forecast"]

    assert at_two["run_rate_per_minute"] < at_noon["run_rate_per_minute"]
    assert ProductionRecord.objects.count() == 721


def test_a_shift_is_projected_to_its_end_not_to_midnight(db):
    from datetime import time

    factory = FactoryFactory(
        timezone="UTC", working_hours_start=time(6), working_hours_end=time(22)
    )
    start = datetime(2024, 3, 12, 6, tzinfo=UTC)
    store((factory.pk, start + m * MINUTE, 30, 32) for m in range(360))  # 06:00-11:59
    from production.selectors.forecast import production_forecasts

    forecast = production_forecasts(
        hours={factory.pk: WorkingHours.of(factory)}, zones={factory.pk: "UTC"}, now=NOW
    )[factory.pk]

    # 12:01-22:00 left: 599 working minutes at 29.5 (the last hour, noon empty) and 32 a minute.
    assert forecast["day_ends_at"] == "2024-03-12T22:00:00Z"
    assert forecast["projected_actual"] == round(360 * 30 + 29.5 * 599)
    assert forecast["day_goal"] == round(360 * 32 + 59 * 32 / 60 * 599)
