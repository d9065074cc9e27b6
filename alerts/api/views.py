from rest_framework import mixins, viewsets

from alerts.api.serializers import AlertRuleSerializer, AlertSerializer
from alerts.filtersets import AlertFilterSet, AlertRuleFilterSet
from alerts.models import Alert, AlertRule
from core.api.pagination import KeysetPagination
from core.api.viewsets import JSONErrorsMixin, ResourceViewSet


class AlertRuleViewSet(ResourceViewSet):
    """Alert rules: managers create and change them; every role reads them (not the secret)."""

    queryset = AlertRule.objects.all()
    serializer_class = AlertRuleSerializer
    filterset_class = AlertRuleFilterSet
    anonymous_read = False


class AlertViewSet(
    JSONErrorsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Alerts as rules opened and resolved them, newest first (read only)."""

    queryset = Alert.objects.select_related("rule")
    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    pagination_class = KeysetPagination
    lookup_value_regex = "[0-9]+"
    keyset_orderings = {"-id": ("id",), "id": ("id",)}
    default_ordering = "-id"
