from rest_framework import serializers

from core.api.serializers import StrictFieldsMixin, StrictIntegerField, TimeField
from core.limits import ID_MAX, INT32_MAX
from inventory.models import Factory
from production.models import ProductionRecord
from production.services import production_record_create, production_record_update

COUNT_LIMITS = {"min_value": 0, "max_value": INT32_MAX}


class ProductionRecordSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    # A plain id, not a related field: no dropdown of every factory in the browsable API.
    factory_id = StrictIntegerField(min_value=1, max_value=ID_MAX)
    time = TimeField()

    class Meta:
        model = ProductionRecord
        fields = (
            "id",
            "factory_id",
            "sprocket_production_actual",
            "sprocket_production_goal",
            "time",
        )
        read_only_fields = ("id",)
        extra_kwargs = {
            "sprocket_production_actual": COUNT_LIMITS,
            "sprocket_production_goal": COUNT_LIMITS,
        }
        # (factory, time) uniqueness is answered as a 409 by the service, not a 400 here.
        validators = []

    def validate_factory_id(self, value: int) -> int:
        if not Factory.objects.filter(pk=value).exists():
            raise serializers.ValidationError(f"Factory {value} does not exist.")
        return value

    def create(self, validated_data: dict) -> ProductionRecord:
        return production_record_create(**validated_data)

    def update(self, instance: ProductionRecord, validated_data: dict) -> ProductionRecord:
        return production_record_update(record=instance, **validated_data)
