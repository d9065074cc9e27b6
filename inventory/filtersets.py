from django_filters import rest_framework as filters

from core.api.filters import (
    ContainsFilter,
    StrictBooleanFilter,
    TimeFilter,
    int32_filter,
)
from inventory.models import Factory, Sprocket


class SprocketFilterSet(filters.FilterSet):
    after = TimeFilter(field_name="created_at", lookup_expr="gte")
    before = TimeFilter(field_name="created_at", lookup_expr="lt")
    contains = ContainsFilter(field_name="name")
    teeth = int32_filter("teeth", "exact")
    teeth_min = int32_filter("teeth", "gte")
    teeth_max = int32_filter("teeth", "lte")
    pitch_diameter_min = filters.NumberFilter(field_name="pitch_diameter", lookup_expr="gte")
    pitch_diameter_max = filters.NumberFilter(field_name="pitch_diameter", lookup_expr="lte")
    outside_diameter_min = filters.NumberFilter(field_name="outside_diameter", lookup_expr="gte")
    outside_diameter_max = filters.NumberFilter(field_name="outside_diameter", lookup_expr="lte")
    pitch_min = filters.NumberFilter(field_name="pitch", lookup_expr="gte")
    pitch_max = filters.NumberFilter(field_name="pitch", lookup_expr="lte")

    class Meta:
        model = Sprocket
        fields = []


class FactoryFilterSet(filters.FilterSet):
    after = TimeFilter(field_name="created_at", lookup_expr="gte")
    before = TimeFilter(field_name="created_at", lookup_expr="lt")
    contains = ContainsFilter(field_name="name")
    is_active = StrictBooleanFilter()

    class Meta:
        model = Factory
        fields = []
