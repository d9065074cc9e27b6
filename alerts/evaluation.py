"""Whether a rule is broken at a factory over its window, and what that changes.

Pure functions of a reading: the state machine the services apply (and the oracle tests
check). Attainment is actual / goal over the window; a window whose goal is 0 (or that has
no record) gives no verdict, so it neither opens nor resolves an alert. An open
attainment alert resolves only at threshold + hysteresis: a value hovering at the threshold
does not flap. A `no_production` alert opens when a window wholly within the factory's
working hours has no record, and resolves with the first record.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from alerts.models import AlertRule, RuleKind

OPEN, RESOLVE = "open", "resolve"
PLACES = Decimal("0.0001")
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Reading:
    """A factory's production over a rule's window."""

    actual: int
    goal: int
    wrote: bool  # any record in the window
    working: bool = True  # the whole window in the factory's working hours


def attainment(reading: Reading) -> Decimal | None:
    """actual / goal to four places; None when the window's goal is 0."""
    if reading.goal <= 0:
        return None
    return (Decimal(reading.actual) / Decimal(reading.goal)).quantize(PLACES, ROUND_HALF_EVEN)


def window_of(window_minutes: int, now: datetime) -> tuple[datetime, datetime]:
    """The last `window_minutes` whole minutes, the current one included: [start, end)."""
    end = now.replace(second=0, microsecond=0) + MINUTE
    return end - window_minutes * MINUTE, end


def verdict(rule: AlertRule, reading: Reading, *, alert_open: bool) -> str | None:
    """OPEN, RESOLVE, or None (no change)."""
    if rule.kind == RuleKind.NO_PRODUCTION:
        if not alert_open and not reading.wrote and reading.working:
            return OPEN
        if alert_open and reading.wrote:
            return RESOLVE
        return None
    value = attainment(reading)
    if value is None:
        return None
    if not alert_open and value < rule.threshold:
        return OPEN
    if alert_open and value >= rule.threshold + rule.hysteresis:
        return RESOLVE
    return None
