"""Where each factory's day will end: today's projected actual at the end of its local day,
from the day so far and the recent run rate, against the day's goal.

- so far: actual and goal from the local midnight to the current minute (included);
- the run rate: actual per minute over the last FORECAST_RATE_MINUTES (or the day so far,
  when it is shorter);
- the day's goal: the goal so far, and for the rest of the day the goal per minute of the
  same recent minutes (the plan goes on as it has lately);
- projected actual: actual so far + run rate times the minutes left;
- `goal_met_at`: when actual reaches the day's goal at that rate (already met: when the
  forecast was made; not within the day: null).
Sums come from the rollups and the raw edges (`summary_sums`). Days are local (DST days are
23 or 25 hours long).
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from core.times import time_format
from inventory.models import Factory
from production.selectors.buckets import BucketRange
from production.selectors.summary import summary_sums

MINUTE = timedelta(minutes=1)


def local_day(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC bounds of the local day holding `now`."""
    local = now.astimezone(zone)
    midnight = datetime(local.year, local.month, local.day)
    start = midnight.replace(tzinfo=zone).astimezone(UTC)
    end = (midnight + timedelta(days=1)).replace(tzinfo=zone).astimezone(UTC)
    return start, end


def forecast_of(
    *,
    actual: int,
    goal: int,
    recent_actual: int,
    recent_goal: int,
    recent_minutes: int,
    now_end: datetime,
    end: datetime,
) -> dict:
    remaining = (end - now_end) / MINUTE
    rate = recent_actual / recent_minutes if recent_minutes else 0.0
    goal_rate = recent_goal / recent_minutes if recent_minutes else 0.0
    day_goal = round(goal + goal_rate * remaining)
    projected = round(actual + rate * remaining)
    if actual >= day_goal:
        met_at = now_end
    elif rate > 0 and (met := now_end + (day_goal - actual) / rate * MINUTE) <= end:
        met_at = met
    else:
        met_at = None
    return {
        "projected_actual": projected,
        "day_goal": day_goal,
        "status": "on_track" if projected >= day_goal else "behind",
        "behind_by": max(0, day_goal - projected),
        "run_rate_per_minute": round(rate, 3),
        "goal_met_at": None if met_at is None else time_format(met_at),
        "day_ends_at": time_format(end),
    }


def production_forecasts(*, zones: dict[int, str], now: datetime) -> dict[int, dict]:
    """Each factory's forecast for its local day holding `now` (zones by factory id)."""
    now_end = now.replace(second=0, microsecond=0) + MINUTE
    by_zone: dict[str, list[int]] = defaultdict(list)
    for factory_id, zone in zones.items():
        by_zone[zone].append(factory_id)
    forecasts = {}
    for zone_name, factory_ids in by_zone.items():
        start, end = local_day(now, ZoneInfo(zone_name))
        recent_start = max(start, now_end - settings.FORECAST_RATE_MINUTES * MINUTE)
        # In order and apart, as summary_sums takes ranges: earlier today, then recent.
        recent = BucketRange(label="recent", start=recent_start, end=now_end)
        ranges = [BucketRange(label="earlier", start=start, end=recent_start), recent]
        if start == recent_start:
            ranges = [recent]
        sums = summary_sums(factory_ids, ranges)
        last = len(ranges) - 1
        for factory_id in factory_ids:
            earlier = sums.get((factory_id, 0), (0, 0)) if last else (0, 0)
            recent_actual, recent_goal = sums.get((factory_id, last), (0, 0))
            actual, goal = earlier[0] + recent_actual, earlier[1] + recent_goal
            forecasts[factory_id] = forecast_of(
                actual=actual,
                goal=goal,
                recent_actual=recent_actual,
                recent_goal=recent_goal,
                recent_minutes=round((now_end - recent_start) / MINUTE),
                now_end=now_end,
                end=end,
            )
    return forecasts


def production_summary_forecasts_attach(*, rows: list[dict], tz: str | None, now: datetime) -> None:
    """Add `forecast` to each factory's day bucket that holds `now` (rows summed by day, in
    `tz` or each factory's zone); a factory without records today has no such row."""
    factory_ids = {row["factory_id"] for row in rows if row["bucket"] is not None}
    zones = {
        pk: tz or zone
        for pk, zone in Factory.objects.filter(pk__in=factory_ids).values_list("pk", "timezone")
    }
    current: dict[int, dict] = {}
    for row in rows:
        if row["bucket"] is None:
            continue
        start, _ = local_day(now, ZoneInfo(zones[row["factory_id"]]))
        if datetime.fromisoformat(row["bucket"]) == start:
            current[row["factory_id"]] = row
    forecasts = production_forecasts(zones={pk: zones[pk] for pk in current}, now=now)
    for factory_id, row in current.items():
        row["forecast"] = forecasts[factory_id]
