"""The query vocabulary every list shares: after / before, contains, _min / _max, id lists."""

import functools
import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django_filters import rest_framework as filters
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from django_filters.widgets import QueryArrayWidget
from drf_spectacular.utils import extend_schema_field

from core.limits import ID_MAX, INT32_MAX, INT32_MIN
from core.times import TIME_FORMAT_HELP, parse_time
from core.timezones import is_zone_name


class TimeFormField(forms.Field):
    def to_python(self, value):
        if value in self.empty_values:
            return None
        return parse_time(value)


# The schema TimeField documents: without it the filter would claim date-time strings only.
@extend_schema_field(
    {
        "oneOf": [{"type": "string", "format": "date-time"}, {"type": "integer"}],
        "description": TIME_FORMAT_HELP,
    }
)
class TimeFilter(filters.Filter):
    """A time as ISO 8601 (date or datetime; no offset means UTC) or unix seconds."""

    field_class = TimeFormField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("help_text", TIME_FORMAT_HELP)
        super().__init__(*args, **kwargs)


# ASCII digits only: int() and Decimal() also read other scripts' digits (ARABIC-INDIC DIGIT
# ONE is 1).
WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
NUMBER_MAGNITUDE_MAX = Decimal("1e50")


class IntegerListFormField(forms.Field):
    widget = QueryArrayWidget

    def to_python(self, value):
        if value in self.empty_values:
            return []
        values = value if isinstance(value, list) else [value]
        parts = [part.strip() for v in values for part in str(v).split(",")]
        if not all(WHOLE_NUMBER.fullmatch(part) for part in parts):
            raise ValidationError("Enter whole numbers.")
        try:
            ids = [int(part) for part in parts]
        except ValueError:  # more digits than int() reads
            raise ValidationError("Enter ids from 1 upwards.") from None
        if any(not 1 <= v <= ID_MAX for v in ids):
            raise ValidationError("Enter ids from 1 upwards.")
        return ids


class IdListFilter(filters.Filter):
    """`?factory_id=1&factory_id=2` (or `1,2`): any of these ids."""

    field_class = IntegerListFormField

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


class ContainsFilter(filters.CharFilter):
    """Case-insensitive text match, at least 3 characters (so a trigram index can serve it)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("lookup_expr", "icontains")
        kwargs.setdefault("min_length", 3)
        kwargs.setdefault("max_length", 200)
        super().__init__(*args, **kwargs)


class NumberFormField(forms.DecimalField):
    """A number as JSON writes one; Decimal() alone would also read other scripts' digits,
    "1_000" and "NaN"."""

    def to_python(self, value):
        if value not in self.empty_values and not NUMBER.fullmatch(str(value).strip()):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class BoundedNumberFilter(filters.NumberFilter):
    """A number within the bounds its column can hold (given as `min_value`, `max_value`,
    `decimal_places`), which replace django-filter's own cap of 1e50."""

    field_class = NumberFormField

    def get_max_validator(self) -> None:
        return None


def int32_filter(field_name: str, lookup_expr: str) -> filters.NumberFilter:
    """A filter on a 32-bit integer column; out-of-range values are a 400, not a database error."""
    return BoundedNumberFilter(
        field_name=field_name,
        lookup_expr=lookup_expr,
        min_value=INT32_MIN,
        max_value=INT32_MAX,
        decimal_places=0,
    )


def decimal_filter(column: models.DecimalField, lookup_expr: str) -> filters.NumberFilter:
    """A filter on a numeric column; what the database cannot compare with is a 400, not a
    database error. A value may go past the column's range (it then selects all or nothing),
    but not past 1e50 either way (django-filter's own cap, which it puts on positive values
    only), and no finer than the column's decimal places: PostgreSQL refuses `-1e999999999`
    and `1e-131072` ("value overflows numeric format")."""
    return BoundedNumberFilter(
        field_name=column.name,
        lookup_expr=lookup_expr,
        min_value=-NUMBER_MAGNITUDE_MAX,
        max_value=NUMBER_MAGNITUDE_MAX,
        decimal_places=column.decimal_places,
    )


class StrictBooleanFormField(forms.Field):
    TRUE = frozenset({"true", "1"})
    FALSE = frozenset({"false", "0"})

    def to_python(self, value):
        if value in self.empty_values:
            return None
        lowered = str(value).lower()
        if lowered in self.TRUE:
            return True
        if lowered in self.FALSE:
            return False
        raise ValidationError("Enter true or false.")


class StrictBooleanFilter(filters.Filter):
    """true/false (or 1/0); anything else is a 400, not silently no filter."""

    field_class = StrictBooleanFormField


class TimeWindowForm(forms.Form):
    """The form of a FilterSet with `after` and `before`: a window that ends before it starts
    is a 400, not an empty answer."""

    def clean(self) -> dict:
        cleaned = super().clean()
        after, before = cleaned.get("after"), cleaned.get("before")
        if after is not None and before is not None and after >= before:
            self.add_error("before", "Must be later than `after`.")
        return cleaned


class ZoneFormField(forms.CharField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)

    def validate(self, value: str) -> None:
        super().validate(value)
        if value and not is_zone_name(value):
            # The value goes in as a parameter: a `%` in it must not be read as a placeholder.
            raise ValidationError(
                "%(value)r is not an IANA time zone name.", params={"value": value}
            )


class ZoneFilter(filters.CharFilter):
    """An IANA time zone name; a parameter, not a filter on a column."""

    field_class = ZoneFormField

    def filter(self, qs, value):
        return qs


def query_params_clean(filterset_class: type[filters.FilterSet], request) -> dict:
    """A request's query parameters read through a FilterSet's fields: cleaned values, or a
    400 naming each bad parameter (as DjangoFilterBackend answers for a list)."""
    form = _form_class(filterset_class)(data=request.query_params)
    if not form.is_valid():
        raise translate_validation(form.errors)
    return form.cleaned_data


@functools.cache
def _form_class(filterset_class: type[filters.FilterSet]) -> type[forms.Form]:
    # The form a FilterSet would build, built once: a FilterSet copies all its filters and
    # fields for every request, and these parameters never depend on the request.
    return filterset_class().get_form_class()


class ListFilterBackend(DjangoFilterBackend):
    """django-filter's backend, without building a FilterSet and its form for a request that
    names none of its filters: the list is the same, and the hot read path saves the copies
    of every filter and field a FilterSet makes."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not any(
            name.removesuffix("[]") in filterset_class.base_filters for name in request.query_params
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)
