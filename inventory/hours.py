"""A factory's working hours: the same local times every day, in its own zone (an end before
the start is a night shift that runs past midnight); none set means always working. Local
times become UTC intervals day by day, so a DST day's shift is as long as its clocks make it.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class WorkingHours:
    zone: str
    start: time | None = None
    end: time | None = None

    @classmethod
    def of(cls, factory, zone: str | None = None) -> "WorkingHours":
        return cls(
            zone=zone or factory.timezone,
            start=factory.working_hours_start,
            end=factory.working_hours_end,
        )

    @property
    def always(self) -> bool:
        return self.start is None or self.end is None

    def _at(self, day: date, moment: time) -> datetime:
        local = datetime.combine(day, moment).replace(tzinfo=ZoneInfo(self.zone))
        return local.astimezone(UTC)

    def intervals(self, after: datetime, before: datetime) -> list[tuple[datetime, datetime]]:
        """The working parts of [after, before), in UTC, in order."""
        if after >= before:
            return []
        if self.always:
            return [(after, before)]
        zone = ZoneInfo(self.zone)
        first = after.astimezone(zone).date() - timedelta(days=1)
        last = before.astimezone(zone).date()
        shifts = []
        day = first
        while day <= last:
            ends_next_day = self.end <= self.start
            shift_end_day = day + timedelta(days=1) if ends_next_day else day
            low = max(after, self._at(day, self.start))
            high = min(before, self._at(shift_end_day, self.end))
            if low < high:
                shifts.append((low, high))
            day += timedelta(days=1)
        return shifts

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
