from django_filters import rest_framework as filters

from core.api.filters import (
    ContainsFilter,
    IdListFilter,
    StrictBooleanFilter,
    TimeFilter,
    TimeWindowForm,
    ZoneFilter,
    int32_filter,
)
from inventory.models import Factory
from production.models import ProductionRecord
from production.selectors.buckets import BUCKET_INVALID, BUCKETS


class FactoryNameContainsFilter(ContainsFilter):
    """`contains` on the factory's name, resolved to factory ids first: a join filter under
    ORDER BY (factory_id, time) LIMIT n could walk the whole records index."""

    def filter(self, qs, value):
        if not value:
            return qs
        ids = list(Factory.objects.filter(name__icontains=value).values_list("id", flat=True))
        return qs.filter(factory_id__in=ids)


class ProductionRecordFilterSet(filters.FilterSet):
    after = TimeFilter(field_name="time", lookup_expr="gte")
    before = TimeFilter(field_name="time", lookup_expr="lt")
    contains = FactoryNameContainsFilter(help_text="Part of the factory's name.")
    factory_id = IdListFilter(field_name="factory_id", help_text="Repeatable: any of these.")
    sprocket_production_actual_min = int32_filter("sprocket_production_actual", "gte")
    sprocket_production_actual_max = int32_filter("sprocket_production_actual", "lte")
    sprocket_production_goal_min = int32_filter("sprocket_production_goal", "gte")
    sprocket_production_goal_max = int32_filter("sprocket_production_goal", "lte")

    class Meta:
        model = ProductionRecord
        fields = []


class FactoryProductionFilterSet(ProductionRecordFilterSet):
    """One factory's records: the factory is in the path, not a filter."""

    factory_id = None


class ProductionSummaryFilterSet(filters.FilterSet):
    """The summary's parameters, read by the same filters every list reads them with; the
    summary takes their values (`query_params_clean`), it filters no queryset itself."""

    after = TimeFilter(method="as_parameter")
    before = TimeFilter(method="as_parameter")
    bucket = filters.ChoiceFilter(
        choices=[(b, b) for b in BUCKETS],
        method="as_parameter",
        error_messages={"invalid_choice": BUCKET_INVALID},
        help_text="auto (the default) picks minute, hour, day, week or month; the Bucket "
        "response header says which.",
    )
    factory_id = IdListFilter(method="as_parameter", help_text="Repeatable; default every factory.")
    tz = ZoneFilter(
        method="as_parameter", help_text="IANA zone for the buckets; default each factory's own."
    )
    forecast = StrictBooleanFilter(
        method="as_parameter",
        help_text="true: with bucket=day, the bucket of the current day carries `forecast` "
        "(where the day will end at the recent run rate); computed fresh, not cached.",
    )

    class Meta:
        model = Factory  # the factories summed; the values are read, no queryset is filtered
        fields = []
        form = TimeWindowForm

    def as_parameter(self, queryset, name, value):
        return queryset
