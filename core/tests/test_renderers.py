"""The renderers write times as every output writes them: ISO 8601 UTC with Z, year in four digits."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.api.renderers import CSVRenderer, ORJSONRenderer

ANCIENT = datetime(999, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.mark.parametrize("data", [{"time": ANCIENT}, [{"time": ANCIENT}]], ids=["one", "many"])
def test_csv_writes_a_time_before_year_1000_zero_padded(data):
    assert CSVRenderer().render(data).decode().splitlines() == ["time", "0999-03-04T05:06:07Z"]


def test_csv_writes_a_time_in_utc_whatever_its_zone():
    plus_two = timezone(timedelta(hours=2))
    moment = datetime(2021, 1, 21, 4, 6, 58, 500000, tzinfo=plus_two)

    assert CSVRenderer().render({"time": moment}).decode().splitlines()[1] == "2021-01-21T02:06:58Z"


def test_json_writes_a_time_before_year_1000_zero_padded():
    assert ORJSONRenderer().render({"time": ANCIENT}) == b'{"time":"0999-03-04T05:06:07Z"}'
