from django_filters import rest_framework as filters

from production.models import ProductionRecord
from sprocket_factory.filters import ContainsFilter, IdListFilter, TimeFilter, int32_filter


class ProductionRecordFilterSet(filters.FilterSet):
    after = TimeFilter(field_name="time", lookup_expr="gte")
    before = TimeFilter(field_name="time", lookup_expr="lt")
    contains = ContainsFilter(field_name="factory__name", help_text="Part of the factory's name.")
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
