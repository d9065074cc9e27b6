from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.core.exceptions import ValidationError

from core.times import TIME_FORMAT_HELP, parse_time

FIRST_MINUTE = datetime(2021, 1, 21, 2, 6, 58, tzinfo=UTC)
FIRST_MINUTE_UNIX = 1611194818


def test_unix_seconds_as_an_integer_are_read_in_utc():
    assert parse_time(FIRST_MINUTE_UNIX) == FIRST_MINUTE


def test_unix_seconds_as_a_string_are_read_in_utc():
    assert parse_time(str(FIRST_MINUTE_UNIX)) == FIRST_MINUTE


def test_unix_seconds_with_surrounding_spaces_are_read():
    assert parse_time(f"  {FIRST_MINUTE_UNIX} ") == FIRST_MINUTE


def test_zero_unix_seconds_is_the_epoch():
    assert parse_time(0) == datetime(1970, 1, 1, tzinfo=UTC)


def test_negative_unix_seconds_are_before_the_epoch():
    assert parse_time("-60") == datetime(1969, 12, 31, 23, 59, tzinfo=UTC)


def test_an_iso_date_is_midnight_utc():
    assert parse_time("2021-01-21") == datetime(2021, 1, 21, tzinfo=UTC)


def test_an_iso_datetime_with_z_is_read_as_utc():
    assert parse_time("2021-01-21T02:06:58Z") == FIRST_MINUTE


def test_an_iso_datetime_without_offset_means_utc():
    assert parse_time("2021-01-21T02:06:58") == FIRST_MINUTE


def test_an_iso_datetime_with_a_space_separator_is_read():
    assert parse_time("2021-01-21 02:06:58") == FIRST_MINUTE


def test_an_iso_datetime_with_a_positive_offset_is_converted_to_utc():
    assert parse_time("2021-01-21T04:06:58+02:00") == FIRST_MINUTE


def test_an_iso_datetime_with_a_negative_offset_is_converted_to_utc():
    assert parse_time("2021-01-20T21:06:58-05:00") == FIRST_MINUTE


def test_an_offset_that_crosses_midnight_moves_the_date():
    assert parse_time("2021-01-21T00:30:00+01:00") == datetime(2021, 1, 20, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["2021-01-21T02:06:58.001Z", "2021-01-21T02:06:58.5Z", "2021-01-21T02:06:58.999999Z"],
)
def test_a_sub_second_part_is_dropped_not_rounded(text):
    assert parse_time(text) == FIRST_MINUTE


def test_the_result_is_always_in_utc():
    parsed = parse_time("2021-01-21T04:06:58+02:00")

    assert parsed.utcoffset() == timedelta(0)
    assert parsed.tzinfo == UTC


def test_an_aware_datetime_is_converted_to_utc_and_kept_to_the_second():
    plus_two = timezone(timedelta(hours=2))
    value = datetime(2021, 1, 21, 4, 6, 58, 750000, tzinfo=plus_two)

    parsed = parse_time(value)

    assert parsed == FIRST_MINUTE
    assert parsed.microsecond == 0
    assert parsed.tzinfo == UTC


def test_a_naive_datetime_means_utc():
    assert parse_time(datetime(2021, 1, 21, 2, 6, 58)) == FIRST_MINUTE


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "yesterday",
        "2021-13-01",
        "2021-02-30",
        "2021-01-21T25:00:00",
        "2021-01-21T02:06:58+25:00",
        "1611194818.5",
        "1e9",
        "0x10",
        "\x00",
        "2021-01-21\x00",
    ],
)
def test_text_that_is_no_time_is_rejected(value):
    with pytest.raises(ValidationError) as caught:
        parse_time(value)

    assert caught.value.messages == [TIME_FORMAT_HELP]
    assert caught.value.code == "invalid"


@pytest.mark.parametrize("value", [None, True, False, 1611194818.0, [1611194818], {"t": 1}])
def test_a_value_of_another_type_is_rejected(value):
    with pytest.raises(ValidationError):
        parse_time(value)


@pytest.mark.parametrize(
    "value",
    [10**12, -(10**12), 999_999_999_999, "999999999999", "1000000000000", 10**30],
)
def test_unix_seconds_beyond_the_calendar_are_rejected_not_raised_as_overflow(value):
    with pytest.raises(ValidationError):
        parse_time(value)


@pytest.mark.parametrize("text", ["10000-01-01", "10000-01-01T00:00:00Z", "0000-12-31"])
def test_a_year_outside_1_to_9999_is_rejected(text):
    with pytest.raises(ValidationError):
        parse_time(text)


def test_the_last_second_of_year_9999_in_utc_is_accepted():
    assert parse_time("9999-12-31T23:59:59Z") == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_an_offset_that_moves_the_time_past_year_9999_is_rejected():
    with pytest.raises(ValidationError):
        parse_time("9999-12-31T23:59:59-01:00")


def test_an_offset_that_moves_the_time_before_year_1_is_rejected():
    with pytest.raises(ValidationError):
        parse_time("0001-01-01T00:00:00+01:00")
