"""Buckets of a time window in a zone (hour, day, week, month), and the UTC days and hours
each is made of: what the summary sums from the rollups, and what from raw records. Minute
buckets are never listed: only the minutes that hold records become rows (minutes.py)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from core.errors import InvalidInput

# A bucket the summary sums by, smallest first; "auto" picks one of them (resolution.py).
FIXED_BUCKETS = ("minute", "hour", "day", "week", "month")
AUTO = "auto"
BUCKETS = (AUTO, *FIXED_BUCKETS)
DEFAULT_BUCKET = AUTO
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# The last moment a datetime holds: what ends the last hour, day or bucket of year 9999.
END_OF_TIME = datetime.max.replace(tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


BUCKET_INVALID = "%(value)s is not a bucket: choose one of " + ", ".join(BUCKETS) + "."


def bucket_check(bucket: str) -> None:
    """A bucket the summary does not know is a 400 naming `bucket` and its choices."""
    if bucket not in BUCKETS:
        raise InvalidInput({"bucket": [BUCKET_INVALID % {"value": bucket}]})


def unlabelled(zone_name: str) -> InvalidInput:
    """The 400 of a bucket whose local start is in year 0 or 10000: it has no ISO 8601 label."""
    return InvalidInput(
        f"Buckets in {zone_name} this close to year 1 or year 9999 cannot be labelled: "
        "narrow the window with after and before, or ask for another tz."
    )


def rows_over_budget(reason: str = "") -> InvalidInput:
    """The 400 of a summary that would answer more than SUMMARY_MAX_ROWS rows."""
    return InvalidInput(
        f"More than SUMMARY_MAX_ROWS ({settings.SUMMARY_MAX_ROWS}) rows{reason}: ask for a "
        "larger bucket, fewer factories or a narrower window."
    )


@dataclass(frozen=True)
class BucketRange:
    label: str
    start: datetime  # UTC, clipped to the window
    end: datetime


def _local_floor(moment: datetime, bucket: str) -> datetime:
    """The naive local start of the bucket holding an aware local moment."""
    local = moment.replace(tzinfo=None, minute=0, second=0, microsecond=0)
    if bucket == "hour":
        return local
    local = local.replace(hour=0)
    if bucket == "week":
        return local - timedelta(days=local.weekday())
    if bucket == "month":
        return local.replace(day=1)
    return local


def _local_next(local_start: datetime, bucket: str) -> datetime:
    if bucket == "day":
        return local_start + timedelta(days=1)
    if bucket == "week":
        return local_start + timedelta(days=7)
    if local_start.month == 12:
        return local_start.replace(year=local_start.year + 1, month=1)
    return local_start.replace(month=local_start.month + 1)


def bucket_ranges(
    lo: datetime, hi: datetime, zone: ZoneInfo, bucket: str, limit: int
) -> list[BucketRange]:
    """The buckets of [lo, hi) in `zone`, clipped to the window; more than `limit` → 400."""
    ranges: list[BucketRange] = []
    local_start = _local_floor(lo.astimezone(zone), bucket)
    try:
        start = local_start.replace(tzinfo=zone).astimezone(UTC)
    except OverflowError:
        # The first bucket begins before year 1 in UTC; the window begins later anyway.
        start = lo
    while start < hi:
        if len(ranges) >= limit:
            raise rows_over_budget()
        if bucket == "hour":
            # One-hour steps of elapsed time: local clock hours repeat or vanish at DST changes.
            end = plus(start, HOUR)
            label = start.astimezone(zone).isoformat()
        else:
            label = local_start.replace(tzinfo=zone).isoformat()
            try:
                local_end = _local_next(local_start, bucket)
                end = local_end.replace(tzinfo=zone).astimezone(UTC)
            except (OverflowError, ValueError):
                # The next bucket would begin in local year 10000: this one is the last,
                # and it ends with the window if the window ends before year 10000 does.
                if not _local_year_holds(hi - timedelta(microseconds=1), zone):
                    raise
                local_end, end = None, hi
            local_start = local_end
        ranges.append(BucketRange(label, max(start, lo), min(end, hi)))
        start = end
    return ranges


def _local_year_holds(moment: datetime, zone: ZoneInfo) -> bool:
    """Whether `moment` in `zone` is still a datetime (not in local year 10000)."""
    try:
        moment.astimezone(zone)
    except OverflowError:
        return False
    return True


def plus(moment: datetime, delta: timedelta) -> datetime:
    """`moment + delta`, or END_OF_TIME past year 9999."""
    try:
        return moment + delta
    except OverflowError:
        return END_OF_TIME


def _floor(moment: datetime, unit: timedelta) -> datetime:
    """The start of the UTC `unit` (hour, day) holding `moment`."""
    # timedelta arithmetic is exact: a float timestamp rounds END_OF_TIME up into year 10000.
    return EPOCH + (moment - EPOCH) // unit * unit


def _ceil(moment: datetime, unit: timedelta) -> datetime:
    floor = _floor(moment, unit)
    return floor if floor == moment else plus(floor, unit)


def periods_split(start: datetime, end: datetime, units=(DAY, HOUR)) -> tuple[dict, list]:
    """[start, end) as whole UTC days, then whole hours at its edges, then raw edges."""
    if not units:
        return {}, [(start, end)]
    unit, finer = units[0], units[1:]
    first, last = _ceil(start, unit), _floor(end, unit)
    if first >= last:
        return periods_split(start, end, finer)
    parts, raw = {unit: [(first, last)]}, []
    for lo, hi in ((start, first), (last, end)):
        if lo < hi:
            finer_parts, finer_raw = periods_split(lo, hi, finer)
            for finer_unit, pieces in finer_parts.items():
                parts.setdefault(finer_unit, []).extend(pieces)
            raw.extend(finer_raw)
    return parts, raw
