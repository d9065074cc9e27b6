"""The shared filters read numbers as their columns hold them, written in ASCII digits only."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import models

from core.api.filters import IntegerListFormField, decimal_filter, int32_filter
from core.limits import INT32_MAX, INT32_MIN

ARABIC_ONE = "\N{ARABIC-INDIC DIGIT ONE}"
ARABIC_TWO = "\N{ARABIC-INDIC DIGIT TWO}"
ARABIC_FIVE = "\N{ARABIC-INDIC DIGIT FIVE}"
FULLWIDTH_ONE = "\N{FULLWIDTH DIGIT ONE}"
MEASURE = models.DecimalField(name="pitch", max_digits=12, decimal_places=4)


def test_decimal_filter_filters_the_column_named_with_its_lookup():
    made = decimal_filter(MEASURE, "lte")

    assert (made.field_name, made.lookup_expr) == ("pitch", "lte")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.5", Decimal("1.5")),
        ("99999999.9999", Decimal("99999999.9999")),
        ("-99999999.9999", Decimal("-99999999.9999")),
        ("1e50", Decimal("1e50")),
        ("-1e50", Decimal("-1e50")),
        ("1e1", Decimal("10")),
        ("0.0001", Decimal("0.0001")),
    ],
)
def test_decimal_filter_reads_every_number_the_column_can_be_compared_with(text, value):
    assert decimal_filter(MEASURE, "gte").field.clean(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        "sNaN",
        "Infinity",
        "-inf",
        "1e51",
        "-1e51",
        "99999999.99995",
        "0.00001",
        "1e-131072",
        "-1e999999999",
        "1e-999999999",
        ARABIC_ONE,
        FULLWIDTH_ONE,
        "1_000",
    ],
)
def test_decimal_filter_refuses_what_the_column_cannot_be_compared_with(text):
    with pytest.raises(ValidationError):
        decimal_filter(MEASURE, "gte").field.clean(text)


def test_decimal_filter_names_the_bound_it_refuses_a_number_for():
    with pytest.raises(ValidationError) as caught:
        decimal_filter(MEASURE, "gte").field.clean("1e400")

    assert caught.value.messages == ["Ensure this value is less than or equal to 1E+50."]


@pytest.mark.parametrize("text", [str(INT32_MIN), str(INT32_MAX), "0", "1e2"])
def test_int32_filter_reads_every_32_bit_integer(text):
    assert int32_filter("teeth", "exact").field.clean(text) == Decimal(text)


@pytest.mark.parametrize(
    "text", [str(INT32_MAX + 1), str(INT32_MIN - 1), "0.5", "NaN", ARABIC_FIVE]
)
def test_int32_filter_refuses_what_is_no_32_bit_integer_with_one_message(text):
    with pytest.raises(ValidationError) as caught:
        int32_filter("teeth", "exact").field.clean(text)

    assert len(caught.value.messages) == 1


@pytest.mark.parametrize(
    ("value", "ids"), [("1", [1]), ("1,2", [1, 2]), (["3", " 4 "], [3, 4]), ("+5", [5])]
)
def test_an_id_list_reads_ascii_whole_numbers(value, ids):
    assert IntegerListFormField().clean(value) == ids


@pytest.mark.parametrize(
    "value", [ARABIC_ONE, f"1,{ARABIC_TWO}", FULLWIDTH_ONE, "1_000", "1.0", "1e3", ",", "1,,2"]
)
def test_an_id_list_refuses_anything_but_ascii_whole_numbers(value):
    with pytest.raises(ValidationError) as caught:
        IntegerListFormField().clean(value)

    assert caught.value.messages == ["Enter whole numbers."]


@pytest.mark.parametrize("value", ["0", "-1", "9" * 20, "9" * 5000])
def test_an_id_list_refuses_numbers_no_id_can_be(value):
    with pytest.raises(ValidationError) as caught:
        IntegerListFormField().clean(value)

    assert caught.value.messages == ["Enter ids from 1 upwards."]
