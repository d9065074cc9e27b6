from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from core.api.serializers import StrictFieldsMixin
from core.limits import INT32_MAX
from inventory.models import Factory, Sprocket

MEASURES = ("pitch_diameter", "outside_diameter", "pitch")


class SprocketSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Sprocket
        fields = ("id", "name", "teeth", *MEASURES, "created_at", "updated_at")
        read_only_fields = ("id", "created_at", "updated_at")
        extra_kwargs = {
            "teeth": {"min_value": 1, "max_value": INT32_MAX},
            **{measure: {"coerce_to_string": False} for measure in MEASURES},
        }

    def validate_name(self, value: str | None) -> str | None:
        # The original sprocket types have no name: an empty one means the same.
        if value is None:
            return None
        return value.strip() or None

    def validate(self, attrs: dict) -> dict:
        merged = {m: getattr(self.instance, m, None) for m in MEASURES} | attrs
        errors = {m: ["Must be greater than 0."] for m in MEASURES if attrs.get(m, 1) <= 0}
        if errors:
            raise serializers.ValidationError(errors)
        if merged["outside_diameter"] < merged["pitch_diameter"]:
            raise serializers.ValidationError(
                {"outside_diameter": ["Cannot be smaller than the pitch diameter."]}
            )
        return attrs


class FactorySerializer(StrictFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Factory
        fields = (
            "id",
            "name",
            "timezone",
            "is_active",
            "working_hours_start",
            "working_hours_end",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "created_at", "updated_at")
        extra_kwargs = {
            "working_hours_start": {"help_text": "Local time (HH:MM); null with the end: always."},
            "working_hours_end": {"help_text": "Local time; before the start: past midnight."},
        }

    def validate(self, attrs: dict) -> dict:
        hours = {
            name: attrs.get(name, getattr(self.instance, name, None))
            for name in ("working_hours_start", "working_hours_end")
        }
        start, end = hours.values()
        if (start is None) != (end is None):
            missing = "working_hours_end" if end is None else "working_hours_start"
            raise serializers.ValidationError({missing: ["Set both working hours, or neither."]})
        if start is not None and start == end:
            raise serializers.ValidationError(
                {"working_hours_end": ["Must differ from the start (neither set: always)."]}
            )
        return attrs


class ChartDataSerializer(serializers.Serializer):
    sprocket_production_actual = serializers.ListField(child=serializers.IntegerField())
    sprocket_production_goal = serializers.ListField(child=serializers.IntegerField())
    time = serializers.ListField(child=serializers.IntegerField(), help_text="Unix seconds.")


class FactoryChartSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    chart_data = ChartDataSerializer()


class FactoryChartDocumentSerializer(serializers.Serializer):
    factory = FactoryChartSerializer()


# One document, though the view's action is `list`: not an array of them.
@extend_schema_serializer(many=False)
class ChartDataDocumentSerializer(serializers.Serializer):
    factories = FactoryChartDocumentSerializer(many=True)
