"""Backtest of today's forecast (issue 15) on generated days with known rates.

    .venv/bin/python benchmarks/backtest_forecast.py [--days 400] [--seed 7]

Each generated factory-day has a goal of 32 a minute and a line that runs at an efficiency
drawn from 0.80-1.10 of it, minute by minute with noise (each minute's count is drawn
around the rate), after a steady day before it at the same efficiency, in one of four
scenarios: steady; a breakdown (nothing made for 30-120 minutes at a random time); a
slowdown (from a random time on, 70% of the rate); a shift (goal and production only from
06:00 to 22:00, the factory's working hours). At 04:00, 08:00, 12:00, 16:00 and 20:00 the
forecast (production.selectors.forecast.forecast_of, with the sums summary_sums would give:
so far, and the last FORECAST_RATE_MINUTES of working time) projects the day's end; the day
then runs to its end and the projection is compared with what was made: the absolute
percentage error of the projected actual, and whether "on track" / "behind" came true
(actual >= goal at the end of the day). Deterministic for a seed.
"""

import argparse
import os
import random
import statistics
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sprocket_factory.settings")
os.environ.setdefault("DEBUG", "true")

import django

django.setup()

from django.conf import settings

from benchmarks.common import record
from inventory.hours import WorkingHours
from production.selectors.forecast import forecast_of, recent_start_of

SCENARIOS = ("steady", "breakdown", "slowdown", "shift")
HOURS = (4, 8, 12, 16, 20)
GOAL = 32
DAY = datetime(2024, 3, 12, tzinfo=UTC)
ALWAYS = WorkingHours(zone="UTC")
SHIFT = WorkingHours(zone="UTC", start=time(6), end=time(22))


def day_series(rng: random.Random, scenario: str, rate: float) -> list[tuple[int, int]]:
    """(actual, goal) for each of a day's 1,440 minutes."""
    stop = rng.randrange(0, 1440 - 120)
    stop_length = rng.randrange(30, 121)
    slow_from = rng.randrange(0, 1440)
    minutes = []
    for minute in range(1440):
        goal, mean = GOAL, rate
        if scenario == "breakdown" and stop <= minute < stop + stop_length:
            mean = 0
        elif scenario == "slowdown" and minute >= slow_from:
            mean = rate * 0.7
        if scenario == "shift" and not 6 * 60 <= minute < 22 * 60:
            goal, mean = 0, 0
        actual = max(0, round(rng.gauss(mean, mean * 0.15))) if mean else 0
        minutes.append((actual, goal))
    return minutes


def forecast_at(two_days: list[tuple[int, int]], hour: int, hours: WorkingHours) -> dict:
    """The forecast at `hour` of the second day; minutes index from the first day's start."""
    yesterday = DAY - timedelta(days=1)
    now_end = DAY + timedelta(hours=hour)
    recent_start = recent_start_of(hours, now_end, settings.FORECAST_RATE_MINUTES)

    def sums(start: datetime) -> tuple[int, int]:
        first = max(0, int((start - yesterday) / timedelta(minutes=1)))
        part = two_days[first : 1440 + hour * 60]
        return sum(a for a, _ in part), sum(g for _, g in part)

    actual, goal = sums(DAY)
    recent_actual, recent_goal = sums(recent_start)
    return forecast_of(
        actual=actual,
        goal=goal,
        recent_actual=recent_actual,
        recent_goal=recent_goal,
        recent_minutes=hours.minutes(recent_start, now_end),
        now_end=now_end,
        start=DAY,
        end=DAY + timedelta(days=1),
        hours=hours,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    errors = {(s, h): [] for s in SCENARIOS for h in HOURS}
    right = {(s, h): 0 for s in SCENARIOS for h in HOURS}
    for index in range(options.days):
        scenario = SCENARIOS[index % len(SCENARIOS)]
        rate = GOAL * rng.uniform(0.80, 1.10)
        before = day_series(rng, "shift" if scenario == "shift" else "steady", rate)
        series = day_series(rng, scenario, rate)
        made = sum(a for a, _ in series)
        met = made >= sum(g for _, g in series)
        hours = SHIFT if scenario == "shift" else ALWAYS
        for hour in HOURS:
            forecast = forecast_at(before + series, hour, hours)
            errors[(scenario, hour)].append(abs(forecast["projected_actual"] - made) / made)
            right[(scenario, hour)] += (forecast["status"] == "on_track") == met
    per_day = options.days // len(SCENARIOS)
    table = {
        scenario: {
            f"{hour:02d}:00": {
                "mape_percent": round(100 * statistics.fmean(errors[(scenario, hour)]), 2),
                "p90_ape_percent": round(
                    100 * statistics.quantiles(errors[(scenario, hour)], n=10)[-1], 2
                ),
                "status_right_percent": round(100 * right[(scenario, hour)] / per_day, 1),
            }
            for hour in HOURS
        }
        for scenario in SCENARIOS
    }
    record(
        "forecast_backtest",
        {
            "days": options.days,
            "seed": options.seed,
            "rate_minutes": settings.FORECAST_RATE_MINUTES,
            "by_scenario_and_hour": table,
        },
    )


if __name__ == "__main__":
    main()
