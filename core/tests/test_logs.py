"""A logged exception carries its traceback, never the values of the frames' local variables:
those hold tokens, headers and request bodies."""

import json
import logging
import sys

import pytest

from core.ops.logs import logging_config

SECRET = "s3cr3t-token-0123456789"


def _fail_with_a_secret_in_a_local(header: str) -> None:
    token = header.removeprefix("Token ")
    token.encode("ascii")  # raises for the non-ASCII byte, with `token` a local of this frame


def _formatted_exception(log_format: str) -> str:
    """One error logged with its traceback, formatted as LOGGING formats it."""
    options = dict(logging_config(level="INFO", log_format=log_format)["formatters"]["structured"])
    formatter = options.pop("()")(**options)
    try:
        _fail_with_a_secret_in_a_local(f"Token {SECRET}\xff")
    except UnicodeEncodeError:
        record = logging.getLogger(__name__).makeRecord(
            __name__, logging.ERROR, __file__, 1, "Unhandled error", (), exc_info=sys.exc_info()
        )
    return formatter.format(record)


def test_a_logged_exception_s_json_line_holds_its_frames_without_local_values():
    line = _formatted_exception("json")

    entry = json.loads(line)
    (exception,) = entry["exception"]
    assert exception["exc_type"] == "UnicodeEncodeError"
    assert [frame["name"] for frame in exception["frames"]][-1] == "_fail_with_a_secret_in_a_local"
    assert all("locals" not in frame for frame in exception["frames"])
    assert SECRET not in line


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_a_logged_exception_never_shows_a_local_variable_s_value(log_format):
    assert SECRET not in _formatted_exception(log_format)
