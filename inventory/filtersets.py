from django_filters import rest_framework as filters

from core.api.filters import (
    ContainsFilter,
    StrictBooleanFilter,
    TimeFilter,
    decimal_filter,
    int32_filter,
)
from inventory.models import Factory, Sprocket

PITCH_DIAMETER = Sprocket._meta.get_field("pitch_diameter")
OUTSIDE_DIAMETER = Sprocket._meta.get_field("outside_diameter")
PITCH = Sprocket._meta.get_field("pitch")


class SprocketFilterSet(filters.FilterSet):
    after = TimeFilter(field_name="created_at", lookup_expr="gte")
    before = TimeFilter(field_name="created_at", lookup_expr="lt")
    contains = ContainsFilter(field_name="name")
    teeth = int32_filter("teeth", "exact")
    teeth_min = int32_filter("teeth", "gte")
    teeth_max = int32_filter("teeth", "lte")
    pitch_diameter_min = decimal_filter(PITCH_DIAMETER, "gte")
    pitch_diameter_max = decimal_filter(PITCH_DIAMETER, "lte")
    outside_diameter_min = decimal_filter(OUTSIDE_DIAMETER, "gte")
    outside_diameter_max = decimal_filter(OUTSIDE_DIAMETER, "lte")
    pitch_min = decimal_filter(PITCH, "gte")
    pitch_max = decimal_filter(PITCH, "lte")

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
