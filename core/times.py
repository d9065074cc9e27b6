"""The one way a time is read from a client (ISO 8601 date or datetime, or unix seconds), and
the one way a time is written out as text (ISO 8601 in UTC with Z)."""

import re
from datetime import UTC, date, datetime, time

from django.core.exceptions import ValidationError

# ASCII digits only: `\d` and int() also take other scripts' digits.
UNIX_SECONDS = re.compile(r"-?[0-9]{1,12}")
# Every accepted form is printable ASCII. Checked before parsing: CPython's fromisoformat stops
# reading at a NUL, so "2023-01-01T00:00:00Z\x00junk" would be read as a time.
PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+")
# Around a time only spaces and tabs (HTTP's own whitespace) are let go.
SURROUNDING_BLANKS = " \t"
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
    elif isinstance(value, str):
        parsed = _from_text(value.strip(SURROUNDING_BLANKS))
    else:
        raise ValidationError(TIME_FORMAT_HELP, code="invalid")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC).replace(microsecond=0)
    except OverflowError:
        # An offset that carries a time just past year 1 or year 9999.
        raise ValidationError(TIME_FORMAT_HELP, code="invalid") from None


def time_format(moment: datetime) -> str:
    """A time as every output writes it: ISO 8601 in UTC with Z, to the second, the year in
    four digits (strftime's %Y drops the zeros of a year before 1000). Naive means UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _from_text(text: str) -> datetime:
    if not PRINTABLE_ASCII.fullmatch(text):
        raise ValidationError(TIME_FORMAT_HELP, code="invalid")
    if UNIX_SECONDS.fullmatch(text):
        return _from_unix_seconds(int(text))
    return _from_iso(text)


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
