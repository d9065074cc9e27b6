from django.urls import re_path

from production.api.bulk import ProductionBulkView
from production.api.summary import ProductionSummaryView
from production.api.views import (
    FactoryChartViewSet,
    FactoryProductionViewSet,
    ProductionRecordViewSet,
)

# Literal routes come before the parameterised ones; ids are digits only.
urlpatterns = [
    re_path(
        r"^factories/chart-data/?$",
        FactoryChartViewSet.as_view({"get": "list"}),
        name="factory-chart-data-list",
    ),
    re_path(
        r"^factories/(?P<pk>\d+)/chart-data/?$",
        FactoryChartViewSet.as_view({"get": "retrieve"}),
        name="factory-chart-data-detail",
    ),
    re_path(r"^production/bulk/?$", ProductionBulkView.as_view(), name="production-bulk"),
    re_path(r"^production/summary/?$", ProductionSummaryView.as_view(), name="production-summary"),
    re_path(
        r"^production/?$",
        ProductionRecordViewSet.as_view({"get": "list", "post": "create"}, basename="production"),
        name="production-list",
    ),
    re_path(
        r"^production/records/(?P<pk>\d+)/?$",
        ProductionRecordViewSet.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"},
            basename="production",
        ),
        name="production-detail",
    ),
    re_path(
        r"^production/(?P<factory_id>\d+)/?$",
        FactoryProductionViewSet.as_view(
            {"get": "list", "delete": "window_delete"}, basename="production-factory"
        ),
        name="production-factory",
    ),
]
