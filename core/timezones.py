"""IANA time zone names, read once per process (the scan of the zone files is slow)."""

from functools import cache
from zoneinfo import available_timezones


@cache
def zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_zone_name(value: str) -> bool:
    return value in zone_names()
