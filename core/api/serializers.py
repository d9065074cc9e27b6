"""Serializer plumbing shared by the apps."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.times import TIME_FORMAT_HELP, parse_time


class ASCIINumberMixin:
    """A number sent as text must be written in ASCII: Python reads Arabic-Indic or fullwidth
    digits as the number they stand for."""

    def to_internal_value(self, data):
        if isinstance(data, str) and not data.isascii():
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(ASCIINumberMixin, serializers.IntegerField):
    pass


class StrictDecimalField(ASCIINumberMixin, serializers.DecimalField):
    pass


class StrictFieldsMixin:
    """A field the resource does not have is a 400, not silently dropped; numbers sent as text
    are ASCII digits only.

    Read-only fields (`id`, `created_at`, ...) are known, so a client may send back what it read.
    """

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.IntegerField: StrictIntegerField,
        models.BigIntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.DecimalField: StrictDecimalField,
    }

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["This field does not exist on this resource."] for name in unknown}
                )
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "oneOf": [{"type": "string", "format": "date-time"}, {"type": "integer"}],
        "description": TIME_FORMAT_HELP + " Answered as ISO 8601 UTC with Z.",
    }
)
class TimeField(serializers.Field):
    """A time in any accepted input form; kept to the whole second, in UTC."""

    default_error_messages = {"invalid": TIME_FORMAT_HELP}

    def to_internal_value(self, data):
        try:
            return parse_time(data)
        except DjangoValidationError:
            self.fail("invalid")

    def to_representation(self, value):
        return value


class TimeWindowSerializer(serializers.Serializer):
    """`after` (inclusive) and `before` (exclusive) from a query string."""

    def to_internal_value(self, data):
        # `?after=` means "no bound", as it does in every list's filters.
        return super().to_internal_value({k: v for k, v in data.items() if v != ""})

    after = TimeField(required=False, help_text="Inclusive lower bound. " + TIME_FORMAT_HELP)
    before = TimeField(required=False, help_text="Exclusive upper bound. " + TIME_FORMAT_HELP)

    def validate(self, attrs: dict) -> dict:
        after, before = attrs.get("after"), attrs.get("before")
        if after is not None and before is not None and after >= before:
            raise serializers.ValidationError({"before": ["Must be later than `after`."]})
        return attrs


class RequiredTimeWindowSerializer(TimeWindowSerializer):
    after = TimeField(help_text="Inclusive lower bound. " + TIME_FORMAT_HELP)
    before = TimeField(help_text="Exclusive upper bound. " + TIME_FORMAT_HELP)
