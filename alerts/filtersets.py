from django_filters import rest_framework as filters

from alerts.models import Alert, AlertRule, AlertState, RuleKind
from core.api.filters import StrictBooleanFilter, TimeFilter, int32_filter


class AlertRuleFilterSet(filters.FilterSet):
    factory_id = int32_filter("factory_id", "exact")
    kind = filters.ChoiceFilter(choices=RuleKind.choices)
    is_active = StrictBooleanFilter()

    class Meta:
        model = AlertRule
        fields = []


class AlertFilterSet(filters.FilterSet):
    factory_id = int32_filter("factory_id", "exact")
    rule_id = int32_filter("rule_id", "exact")
    state = filters.ChoiceFilter(choices=AlertState.choices)
    after = TimeFilter(field_name="opened_at", lookup_expr="gte")
    before = TimeFilter(field_name="opened_at", lookup_expr="lt")

    class Meta:
        model = Alert
        fields = []
