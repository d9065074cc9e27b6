"""Where each factory's day will end: today's projected actual at the end of its working
hours (or its local day), from the day so far and the recent run rate, against the day's goal.

- so far: actual and goal from the local midnight to the current minute (included);
- the run rate: actual per minute over the last FORECAST_RATE_MINUTES of working time (they
  may reach back into yesterday's shift);
- the day's goal: the goal so far, and for the working minutes left the goal per minute of
  those same recent minutes (the plan goes on as it has lately);
- projected actual: actual so far + run rate times the working minutes left today;
- `goal_met_at`: when actual reaches the day's goal at that rate, counting working time
  (already met: the current minute; not today: null).
Sums come from the rollups and the raw edges (`summary_sums`). Days are local (DST days are
23 or 25 hours long); working hours are the factory's own, in its own zone.
"""

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from core.times import time_format
from inventory.hours import WorkingHours
from inventory.models import Factory
from production.selectors.buckets import BucketRange
from production.selectors.summary import summary_sums

MINUTE = timedelta(minutes=1)
LOOK_BACK = timedelta(days=8)  # how far back the recent working minutes are looked for


def local_day(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC bounds of the local day holding `now`."""
    local = now.astimezone(zone)
    midnight = datetime(local.year, local.month, local.day)
    start = midnight.replace(tzinfo=zone).astimezone(UTC)
    end = (midnight + timedelta(days=1)).replace(tzinfo=zone).astimezone(UTC)
    return start, end


def recent_start_of(hours: WorkingHours, now_end: datetime, minutes: int) -> datetime:
    """Where the last `minutes` of working time before `now_end` begin."""
    needed = minutes
    for low, high in reversed(hours.intervals(now_end - LOOK_BACK, now_end)):
        length = (high - low) / MINUTE
        if needed <= length:
            return high - needed * MINUTE
        needed -= length
    return now_end - LOOK_BACK


def forecast_of(
    *,
    actual: int,
    goal: int,
    recent_actual: int,
    recent_goal: int,
    recent_minutes: float,
    now_end: datetime,
    start: datetime,
    end: datetime,
    hours: WorkingHours,
) -> dict:
    remaining = hours.minutes(now_end, end)
    rate = recent_actual / recent_minutes if recent_minutes else 0.0
    goal_rate = recent_goal / recent_minutes if recent_minutes else 0.0
    day_goal = round(goal + goal_rate * remaining)
    projected = round(actual + rate * remaining)
    if actual >= day_goal:
        met_at = now_end
    elif rate > 0:
        met_at = hours.after_working(now_end, (day_goal - actual) / rate, end)
    else:
        met_at = None
    return {
        "projected_actual": projected,
        "day_goal": day_goal,
        "status": "on_track" if projected >= day_goal else "behind",
        "behind_by": max(0, day_goal - projected),
        "run_rate_per_minute": round(rate, 3),
        "goal_met_at": None if met_at is None else time_format(met_at),
        "day_ends_at": time_format(hours.last_end(start, end)),
    }


def production_forecasts(
    *, hours: dict[int, WorkingHours], zones: dict[int, str], now: datetime
) -> dict[int, dict]:
    """Each factory's forecast for the local day (in `zones`) holding `now`."""
    now_end = now.replace(second=0, microsecond=0) + MINUTE
    windows: dict[tuple, list[int]] = defaultdict(list)
    for factory_id, zone in zones.items():
        start, end = local_day(now, ZoneInfo(zone))
        recent_start = recent_start_of(hours[factory_id], now_end, settings.FORECAST_RATE_MINUTES)
        windows[(start, end, recent_start)].append(factory_id)
    forecasts = {}
    for (start, end, recent_start), factory_ids in windows.items():
        # summary_sums takes ranges in order and apart: cut at every bound.
        cuts = sorted({start, recent_start, now_end})
        pieces = [BucketRange(label="", start=a, end=b) for a, b in itertools.pairwise(cuts)]
        sums = summary_sums(factory_ids, pieces)
        for factory_id in factory_ids:
            totals = {"so far": [0, 0], "recent": [0, 0]}
            for index, piece in enumerate(pieces):
                actual, goal = sums.get((factory_id, index), (0, 0))
                for part, since in (("so far", start), ("recent", recent_start)):
                    if piece.start >= since:
                        totals[part][0] += actual
                        totals[part][1] += goal
            factory_hours = hours[factory_id]
            forecasts[factory_id] = forecast_of(
                actual=totals["so far"][0],
                goal=totals["so far"][1],
                recent_actual=totals["recent"][0],
                recent_goal=totals["recent"][1],
                recent_minutes=factory_hours.minutes(recent_start, now_end),
                now_end=now_end,
                start=start,
                end=end,
                hours=factory_hours,
            )
    return forecasts


def production_summary_forecasts_attach(*, rows: list[dict], tz: str | None, now: datetime) -> None:
    """Add `forecast` to each factory's day bucket that holds `now` (rows summed by day, in
    `tz` or each factory's zone); a factory without records today has no such row."""
    factory_ids = {row["factory_id"] for row in rows if row["bucket"] is not None}
    factories = {factory.pk: factory for factory in Factory.objects.filter(pk__in=factory_ids)}
    current: dict[int, dict] = {}
    for row in rows:
        if row["bucket"] is None:
            continue
        start, _ = local_day(now, ZoneInfo(tz or factories[row["factory_id"]].timezone))
        if datetime.fromisoformat(row["bucket"]) == start:
            current[row["factory_id"]] = row
    forecasts = production_forecasts(
        hours={pk: WorkingHours.of(factories[pk]) for pk in current},
        zones={pk: tz or factories[pk].timezone for pk in current},
        now=now,
    )
    for factory_id, row in current.items():
        row["forecast"] = forecasts[factory_id]
