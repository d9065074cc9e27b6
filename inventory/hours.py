"""A factory's working hours: the same local times every day, in its own zone (an end before
the start is a night shift that runs past midnight); none set means always working.

A moment is working time when its wall-clock time of day, in the zone, is within the hours:
so a DST day's shift is as long as its clocks make it, a start in the hour the clocks skip
begins when they land, and a repeated hour is worked twice. Intervals are computed per span
of constant UTC offset (cut where the zone's offset changes), not minute by minute.
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class WorkingHours:
    zone: str
    start: time | None = None
    end: time | None = None

    @classmethod
    def of(cls, factory) -> "WorkingHours":
        return cls(
            zone=factory.timezone,
            start=factory.working_hours_start,
            end=factory.working_hours_end,
        )

    @property
    def always(self) -> bool:
        return self.start is None or self.end is None

    def _offset_spans(self, after: datetime, before: datetime) -> list[tuple]:
        """[after, before) cut where the zone's UTC offset changes: (low, high, offset)."""
        zone = ZoneInfo(self.zone)
        spans, low = [], after
        offset = after.astimezone(zone).utcoffset()
        probe = after
        while probe < before:
            step = min(probe + HOUR, before)
            if step.astimezone(zone).utcoffset() != offset:
                # The change is in (probe, step]: bisect on whole seconds to its first second.
                old, new = math.floor(probe.timestamp()), math.ceil(step.timestamp())
                while new - old > 1:
                    middle = (old + new) // 2
                    if datetime.fromtimestamp(middle, zone).utcoffset() == offset:
                        old = middle
                    else:
                        new = middle
                new = datetime.fromtimestamp(new, UTC)
                spans.append((low, new, offset))
                low, offset = new, new.astimezone(zone).utcoffset()
            probe = step
        spans.append((low, before, offset))
        return spans

    def intervals(self, after: datetime, before: datetime) -> list[tuple[datetime, datetime]]:
        """The working parts of [after, before), in UTC, in order."""
        if after >= before:
            return []
        if self.always:
            return [(after, before)]
        found = []
        for low, high, offset in self._offset_spans(after, before):
            wall_low, wall_high = (
                (low + offset).replace(tzinfo=None),
                (high + offset).replace(tzinfo=None),
            )
            day = wall_low.date() - timedelta(days=1)
            while day <= wall_high.date():
                shift_end_day = day + timedelta(days=1) if self.end <= self.start else day
                start = datetime.combine(day, self.start).replace(tzinfo=UTC) - offset
                end = datetime.combine(shift_end_day, self.end).replace(tzinfo=UTC) - offset
                start, end = max(start, low), min(end, high)
                if start < end:
                    if found and found[-1][1] == start:  # continues across an offset change
                        found[-1] = (found[-1][0], end)
                    else:
                        found.append((start, end))
                day += timedelta(days=1)
        return found

    def minutes(self, after: datetime, before: datetime) -> float:
        return sum((high - low) / MINUTE for low, high in self.intervals(after, before))

    def covers(self, after: datetime, before: datetime) -> bool:
        """Whether every moment of [after, before) is working time."""
        return self.minutes(after, before) == (before - after) / MINUTE

    def after_working(self, moment: datetime, minutes: float, until: datetime) -> datetime | None:
        """When `minutes` of working time have passed after `moment`; None if not by `until`."""
        left = minutes
        for low, high in self.intervals(moment, until):
            length = (high - low) / MINUTE
            if left <= length:
                return low + left * MINUTE
            left -= length
        return None

    def last_end(self, after: datetime, before: datetime) -> datetime:
        """Where the working time of [after, before) ends (its end when there is none)."""
        shifts = self.intervals(after, before)
        return shifts[-1][1] if shifts else before
