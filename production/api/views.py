from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.settings import api_settings

from core.api.pagination import keyset_order, keyset_ordering
from core.api.renderers import CSVRenderer
from core.api.serializers import RequiredTimeWindowSerializer, TimeWindowSerializer
from core.api.throttling import ExportRateThrottle
from core.api.viewsets import ResourceViewSet
from core.cache import FACTORIES, PRODUCTION, cached_read
from inventory.api.serializers import ChartDataDocumentSerializer, FactoryChartDocumentSerializer
from inventory.models import Factory
from production.api.serializers import ProductionRecordSerializer
from production.filtersets import FactoryProductionFilterSet, ProductionRecordFilterSet
from production.models import ProductionRecord
from production.selectors.charts import production_chart_document
from production.selectors.export import production_csv_stream
from production.services import production_record_delete, production_window_delete

RECORD_FIELDS = (
    "id",
    "factory_id",
    "sprocket_production_actual",
    "sprocket_production_goal",
    "time",
)
ALL_FACTORIES_ORDERINGS = {"factory_id,time": ("factory_id", "time")}
ONE_FACTORY_ORDERINGS = {"time": ("time",), "-time": ("time",)}


class ProductionRecordViewSet(ResourceViewSet):
    """Production records: every factory's (`/production`) or one factory's
    (`/production/{factory_id}`), and single records (`/production/records/{id}`)."""

    queryset = ProductionRecord.objects.all()
    serializer_class = ProductionRecordSerializer
    cache_depends_on = (PRODUCTION, FACTORIES)

    @property
    def filterset_class(self):
        if self.action == "factory_list":
            return FactoryProductionFilterSet
        return ProductionRecordFilterSet

    @property
    def keyset_orderings(self) -> dict:
        if self.action == "factory_list":
            return ONE_FACTORY_ORDERINGS
        return ALL_FACTORIES_ORDERINGS

    @property
    def default_ordering(self) -> str:
        return next(iter(self.keyset_orderings))

    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]
    throttle_classes = [*api_settings.DEFAULT_THROTTLE_CLASSES, ExportRateThrottle]
    export_throttle_scope = "export"

    def is_export(self, request) -> bool:
        return request.accepted_renderer.format == CSVRenderer.format and self.action in (
            "list",
            "factory_list",
        )

    def list_uncached(self):
        return self._records(self.get_queryset(), "production.csv")

    @extend_schema(
        operation_id="production_factory_list",
        summary="One factory's production records",
        responses={200: ProductionRecordSerializer(many=True), 404: OpenApiResponse()},
    )
    @cached_read(PRODUCTION, FACTORIES)
    def factory_list(self, request, factory_id: int):
        get_object_or_404(Factory.objects.only("id"), pk=factory_id)
        records = self.get_queryset().filter(factory_id=factory_id)
        return self._records(records, f"production-factory-{factory_id}.csv")

    def _records(self, records, export_filename: str):
        """A page of the filtered records, or all of them as CSV for an export."""
        records = self.filter_queryset(records)
        if self.is_export(self.request):
            return self._export(records, export_filename)
        # Rows go out as the dicts the database gives: no model or serializer per row.
        return self.get_paginated_response(self.paginate_queryset(records.values(*RECORD_FIELDS)))

    def _export(self, records, filename: str) -> StreamingHttpResponse:
        _, fields, descending = keyset_ordering(self.request, self)
        response = StreamingHttpResponse(
            production_csv_stream(records=keyset_order(records, fields, descending)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @extend_schema(
        operation_id="production_factory_window_delete",
        summary="Delete one factory's records in a window",
        parameters=[RequiredTimeWindowSerializer],
        responses={
            200: inline_serializer("WindowDeleted", {"deleted": serializers.IntegerField()}),
            400: OpenApiResponse(),
            404: OpenApiResponse(),
        },
        filters=False,
    )
    def factory_window_delete(self, request, factory_id: int):
        factory = get_object_or_404(Factory, pk=factory_id)
        window = RequiredTimeWindowSerializer(data=request.query_params)
        window.is_valid(raise_exception=True)
        deleted = production_window_delete(factory=factory, **window.validated_data)
        return Response({"deleted": deleted})

    def perform_destroy(self, instance: ProductionRecord) -> None:
        production_record_delete(record=instance)


class FactoryChartViewSet(viewsets.GenericViewSet):
    """Production in the original challenge's chart-data document shape."""

    permission_model = ProductionRecord
    pagination_class = None
    filter_backends = []

    @extend_schema(
        summary="Every factory's chart data",
        parameters=[TimeWindowSerializer],
        responses={200: ChartDataDocumentSerializer, 400: OpenApiResponse()},
    )
    @cached_read(PRODUCTION, FACTORIES)
    def list(self, request):
        window = self._window(request)
        return Response({"factories": production_chart_document(**window)})

    @extend_schema(
        summary="One factory's chart data",
        parameters=[TimeWindowSerializer],
        responses={
            200: FactoryChartDocumentSerializer,
            400: OpenApiResponse(),
            404: OpenApiResponse(),
        },
    )
    @cached_read(PRODUCTION, FACTORIES)
    def retrieve(self, request, pk: int):
        # The selector looks the factory up with its points: none found means no such factory.
        documents = production_chart_document(factory_id=pk, **self._window(request))
        if not documents:
            raise NotFound()
        return Response(documents[0])

    @staticmethod
    def _window(request) -> dict:
        window = TimeWindowSerializer(data=request.query_params)
        window.is_valid(raise_exception=True)
        return window.validated_data
