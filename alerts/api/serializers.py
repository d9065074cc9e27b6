from rest_framework import serializers

from alerts.models import Alert, AlertRule, RuleKind
from alerts.webhooks import webhook_target
from core.api.serializers import StrictFieldsMixin
from core.errors import InvalidInput
from inventory.models import Factory


class AlertRuleSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    factory_id = serializers.PrimaryKeyRelatedField(
        source="factory",
        queryset=Factory.objects.all(),
        allow_null=True,
        required=False,
        help_text="The factory watched; null: every factory.",
    )

    class Meta:
        model = AlertRule
        fields = (
            "id",
            "name",
            "kind",
            "factory_id",
            "window_minutes",
            "threshold",
            "hysteresis",
            "cooldown_minutes",
            "webhook_url",
            "secret",
            "is_active",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "created_at", "updated_at")
        extra_kwargs = {
            "secret": {"write_only": True},
            "threshold": {"coerce_to_string": False},
            "hysteresis": {"coerce_to_string": False},
        }

    def validate_factory_id(self, factory: Factory | None) -> Factory | None:
        if factory is not None and not factory.is_active:
            raise serializers.ValidationError(
                "This factory is archived: a rule for it would never be evaluated."
            )
        return factory

    def validate_webhook_url(self, value: str) -> str:
        try:
            webhook_target(value, unresolved_ok=True)
        except InvalidInput as refused:
            raise serializers.ValidationError(refused.detail["webhook_url"]) from None
        return value

    def validate(self, attrs: dict) -> dict:
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        threshold = attrs.get("threshold", getattr(self.instance, "threshold", None))
        if kind == RuleKind.ATTAINMENT_BELOW and threshold is None:
            raise serializers.ValidationError(
                {"threshold": ["Required for attainment_below (e.g. 0.95)."]}
            )
        if kind == RuleKind.NO_PRODUCTION and "threshold" in attrs and threshold is not None:
            raise serializers.ValidationError(
                {"threshold": ["no_production rules have no threshold."]}
            )
        if kind == RuleKind.NO_PRODUCTION:
            attrs["threshold"] = None
        return attrs


class AlertSerializer(serializers.ModelSerializer):
    rule_id = serializers.IntegerField(read_only=True)
    rule_name = serializers.CharField(source="rule.name", read_only=True)
    factory_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Alert
        fields = (
            "id",
            "rule_id",
            "rule_name",
            "factory_id",
            "state",
            "opened_at",
            "resolved_at",
            "opened_value",
            "resolved_value",
        )
        read_only_fields = fields
        extra_kwargs = {
            "opened_value": {"coerce_to_string": False},
            "resolved_value": {"coerce_to_string": False},
        }
