"""JSON bytes as the API writes them (orjson): times in UTC with Z and no microseconds,
decimals as numbers. Without DRF, so that selectors may write JSON too."""

from decimal import Decimal

import orjson
from django.utils.functional import Promise

# Non-str keys: DRF keys a list's errors by item index, an int.
ORJSON_OPTIONS = (
    orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC | orjson.OPT_OMIT_MICROSECONDS | orjson.OPT_NON_STR_KEYS
)


def json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Promise):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(data: object, *, exact: bool = False) -> bytes:
    """JSON bytes; `exact` keeps microseconds (for values that must round-trip, like cursors)."""
    options = ORJSON_OPTIONS & ~orjson.OPT_OMIT_MICROSECONDS if exact else ORJSON_OPTIONS
    return orjson.dumps(data, default=json_default, option=options)
