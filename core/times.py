"""The one way a time is read from a client: ISO 8601 date or datetime, or unix seconds."""

import re
from datetime import UTC, date, datetime, time

from django.core.exceptions import ValidationError

UNIX_SECONDS = re.compile(r"^-?\d{1,12}$")
TIME_FORMAT_HELP = (
    "Enter an ISO 8601 date or datetime (no offset means UTC), e.g. 2021-01-21 or "
    "2021-01-21T02:06:58Z, or unix seconds, e.g. 1611194818."
)


def parse_time(value: object) -> datetime:
    """An aware UTC datetime, kept to the whole second, from any accepted time input."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, int) and not isinstance(value, bool):
        parsed = _from_unix_seconds(value)
    elif isinstance(value, str) and UNIX_SECONDS.match(value.strip()):
        parsed = _from_unix_seconds(int(value))
    elif isinstance(value, str):
        parsed = _from_iso(value.strip())
    else:
        raise ValidationError(TIME_FORMAT_HELP, code="invalid")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC).replace(microsecond=0)
    except OverflowError:
        # An offset that carries a time just past year 1 or year 9999.
        raise ValidationError(TIME_FORMAT_HELP, code="invalid") from None


def _from_unix_seconds(seconds: int) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValidationError(TIME_FORMAT_HELP, code="invalid") from None


def _from_iso(text: str) -> datetime:
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time.min)
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(TIME_FORMAT_HELP, code="invalid") from None
