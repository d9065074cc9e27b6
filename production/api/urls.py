from django.urls import re_path

from production.api.bulk import ProductionBulkView
from production.api.events import ProductionEventsView
from production.api.summary import ProductionSummaryView
from production.api.views import (
    FactoryChartViewSet,
    FactoryProductionViewSet,
    ProductionRecordViewSet,
)

# Literal routes come before the parameterised ones; ids are ASCII digits only: `\d` matches
# every script's digits, which int() reads as ids.
urlpatterns = [
    re_path(
        r"^factories/chart-data/?$",
        FactoryChartViewSet.as_view({"get": "list"}, name="Chart data of every factory"),
        name="factory-chart-data-list",
    ),
    re_path(
        r"^factories/(?P<pk>[0-9]+)/chart-data/?$",
        FactoryChartViewSet.as_view({"get": "retrieve"}, name="Chart data of one factory"),
        name="factory-chart-data-detail",
    ),
    re_path(r"^production/bulk/?$", ProductionBulkView.as_view(), name="production-bulk"),
    re_path(r"^production/events/?$", ProductionEventsView.as_view(), name="production-events"),
    re_path(r"^production/summary/?$", ProductionSummaryView.as_view(), name="production-summary"),
    re_path(
        r"^production/?$",
        ProductionRecordViewSet.as_view(
            {"get": "list", "post": "create", "delete": "window_delete"},
            basename="production",
            suffix="List",
        ),
        name="production-list",
    ),
    re_path(
        r"^production/records/(?P<pk>[0-9]+)/?$",
        ProductionRecordViewSet.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"},
            basename="production",
            suffix="Instance",
        ),
        name="production-detail",
    ),
    re_path(
        r"^production/(?P<factory_id>[0-9]+)/?$",
        FactoryProductionViewSet.as_view(
            {"get": "list", "delete": "window_delete"},
            basename="production-factory",
            name="Production records of one factory",
        ),
        name="production-factory",
    ),
]
