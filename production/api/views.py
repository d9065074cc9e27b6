from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, viewsets
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings

from core.api.caching import CachedReadsMixin
from core.api.pagination import keyset_order, keyset_ordering
from core.api.renderers import CSVRenderer
from core.api.serializers import RequiredTimeWindowSerializer, TimeWindowSerializer
from core.api.throttling import ExportRateThrottle
from core.api.viewsets import JSONErrorsMixin, ResourceViewSet
from core.ops.concurrency import ConcurrencyLimit, Lease, LeasedStream, LimitReached
from inventory.api.serializers import ChartDataDocumentSerializer, FactoryChartDocumentSerializer
from inventory.models import FACTORIES
from production.api.schema import RECORDS_SINCE
from production.api.serializers import ProductionRecordSerializer
from production.filtersets import FactoryProductionFilterSet, ProductionRecordFilterSet
from production.models import PRODUCTION, ProductionRecord
from production.partitions import production_records_kept_since
from production.selectors import (
    RECORD_FIELDS,
    production_chart_document,
    production_csv_stream,
    production_factory_chart_document,
    production_factory_found,
    production_record_rows,
    production_records_of_factory,
)
from production.services import production_record_delete, production_window_delete

# CSV exports running at once: each user's across processes, and this process's.
EXPORTS = ConcurrencyLimit("export")
EXPORT_RETRY_AFTER = 10
EXPORT_FULL = {
    "user": "You are running {bound} CSV exports already, as many as EXPORT_MAX_PER_USER "
    "allows; wait for one to finish.",
    "process": "This server is running {bound} CSV exports, as many as "
    "EXPORT_MAX_PER_PROCESS allows; try again shortly.",
}
WINDOW_DELETED = inline_serializer("WindowDeleted", {"deleted": serializers.IntegerField()})


class RecordsKeptSinceMixin:
    """A read of raw records says where they begin when PRODUCTION_RAW_RETENTION drops older
    ones (earlier periods are summarised only)."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method == "GET" and (since := production_records_kept_since()) is not None:
            response[RECORDS_SINCE] = since.isoformat().replace("+00:00", "Z")
        return response


class RecordListMixin(RecordsKeptSinceMixin):
    """A list of production records: a keyset page of plain rows, or every row as CSV."""

    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]
    throttle_classes = [*api_settings.DEFAULT_THROTTLE_CLASSES, ExportRateThrottle]
    export_throttle_scope = "export"
    cache_depends_on = (PRODUCTION, FACTORIES)
    json_fields = RECORD_FIELDS

    def is_export(self, request) -> bool:
        return request.accepted_renderer.format == CSVRenderer.format and self.action == "list"

    def list(self, request, *args, **kwargs):
        records = self.filter_queryset(self.get_queryset())
        if self.is_export(request):
            return self._export(records)
        return self.get_paginated_response(self.paginate_queryset(production_record_rows(records)))

    def _export(self, records) -> StreamingHttpResponse:
        _, fields, descending = keyset_ordering(self.request, self)
        lease = self._export_lease()
        try:
            stream = LeasedStream(
                production_csv_stream(records=keyset_order(records, fields, descending)),
                lease=lease,
                sock=self.request.META.get("gunicorn.socket"),
                idle_seconds=settings.EXPORT_IDLE_SECONDS,
            )
        except BaseException:
            lease.release()
            raise
        response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.export_filename()}"'
        return response

    def _export_lease(self) -> Lease:
        """A slot for one more export of this user, or a 429 (DESIGN §4: exports are bounded)."""
        try:
            return EXPORTS.acquire(
                f"user:{self.request.user.pk}",
                per_user=settings.EXPORT_MAX_PER_USER,
                per_process=settings.EXPORT_MAX_PER_PROCESS,
                # Renewed by every chunk sent; outlives a client's idle deadline.
                seconds=max(60.0, 2 * settings.EXPORT_IDLE_SECONDS),
            )
        except LimitReached as full:
            ExportRateThrottle().refund(self.request, self)
            detail = EXPORT_FULL[full.scope].format(bound=full.bound)
            raise Throttled(wait=EXPORT_RETRY_AFTER, detail=detail) from None


class ProductionRecordViewSet(RecordListMixin, ResourceViewSet):
    """Production records of every factory (`/production`), and single records
    (`/production/records/{id}`)."""

    queryset = ProductionRecord.objects.all()
    serializer_class = ProductionRecordSerializer
    filterset_class = ProductionRecordFilterSet
    keyset_orderings = {"factory_id,time": ("factory_id", "time")}
    default_ordering = "factory_id,time"

    @property
    def browsable_api_hidden_forms(self) -> frozenset[str]:
        """The list's DELETE needs a window (?after=&before=): no one-click form that could
        only fail; a single record keeps its delete button."""
        return frozenset({"DELETE"}) if self.action == "list" else frozenset()

    def export_filename(self) -> str:
        return "production.csv"

    @extend_schema(
        operation_id="production_window_delete",
        summary="Delete every factory's records in a window",
        description="Time partitions wholly inside the window are emptied at once (PostgreSQL; "
        "the rollups of their periods go with them), the rest of the window row by row.",
        parameters=[RequiredTimeWindowSerializer],
        responses={200: WINDOW_DELETED, 400: OpenApiResponse()},
        filters=False,
    )
    def window_delete(self, request):
        # Only the window: a filter copied from a GET (factory_id=...) must not be ignored
        # by a delete of every factory's records.
        others = sorted(set(request.query_params) - {"after", "before"})
        if others:
            raise ValidationError(
                {
                    name: [
                        "Not a parameter of deleting every factory's window; one factory's "
                        "is DELETE /production/{factory_id}?after=&before=."
                    ]
                    for name in others
                }
            )
        window = RequiredTimeWindowSerializer(data=request.query_params)
        window.is_valid(raise_exception=True)
        deleted = production_window_delete(factory_id=None, **window.validated_data)
        return Response({"deleted": deleted})

    def perform_destroy(self, instance: ProductionRecord) -> None:
        production_record_delete(record=instance)


@extend_schema_view(
    list=extend_schema(
        operation_id="production_factory_list",
        summary="One factory's production records",
        responses={200: ProductionRecordSerializer(many=True), 404: OpenApiResponse()},
    ),
)
class FactoryProductionViewSet(
    RecordListMixin, CachedReadsMixin, JSONErrorsMixin, viewsets.GenericViewSet
):
    """One factory's production records (`/production/{factory_id}`): 404 for no such factory,
    `[]` for a factory without production."""

    serializer_class = ProductionRecordSerializer
    permission_model = ProductionRecord
    filterset_class = FactoryProductionFilterSet
    keyset_orderings = {"time": ("time",), "-time": ("time",)}
    default_ordering = "time"
    # DELETE needs a window (?after=&before=): no one-click form that could only fail.
    browsable_api_hidden_forms = frozenset({"DELETE"})

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no factory
            return ProductionRecord.objects.none()
        return production_records_of_factory(factory_id=self.kwargs["factory_id"])

    def list(self, request, *args, **kwargs):
        """404 for no such factory, before any 400 for its parameters; asked of the database
        only when the page is empty, a parameter is wrong, or for an export."""
        factory_id = self.kwargs["factory_id"]
        if self.is_export(request):
            production_factory_found(factory_id=factory_id)
            return super().list(request, *args, **kwargs)
        try:
            response = super().list(request, *args, **kwargs)
        except ValidationError:
            production_factory_found(factory_id=factory_id)
            raise
        if self.paginator.page_empty:
            production_factory_found(factory_id=factory_id)
        return response

    def export_filename(self) -> str:
        return f"production-factory-{self.kwargs['factory_id']}.csv"

    @extend_schema(
        operation_id="production_factory_window_delete",
        summary="Delete one factory's records in a window",
        parameters=[RequiredTimeWindowSerializer],
        responses={
            200: WINDOW_DELETED,
            400: OpenApiResponse(),
            404: OpenApiResponse(),
        },
        filters=False,
    )
    def window_delete(self, request, factory_id: int):
        production_factory_found(factory_id=factory_id)  # 404 before the window is read
        window = RequiredTimeWindowSerializer(data=request.query_params)
        window.is_valid(raise_exception=True)
        deleted = production_window_delete(factory_id=factory_id, **window.validated_data)
        return Response({"deleted": deleted})


class FactoryChartViewSet(RecordsKeptSinceMixin, CachedReadsMixin, viewsets.GenericViewSet):
    """Production in the original challenge's chart-data document shape."""

    permission_model = ProductionRecord
    pagination_class = None
    filter_backends = []
    cache_depends_on = (PRODUCTION, FACTORIES)

    @extend_schema(
        summary="Every factory's chart data",
        parameters=[TimeWindowSerializer],
        responses={200: ChartDataDocumentSerializer, 400: OpenApiResponse()},
    )
    def list(self, request):
        return Response(production_chart_document(**self._window(request)))

    @extend_schema(
        summary="One factory's chart data",
        parameters=[TimeWindowSerializer],
        responses={
            200: FactoryChartDocumentSerializer,
            400: OpenApiResponse(),
            404: OpenApiResponse(),
        },
    )
    def retrieve(self, request, pk: int):
        return Response(production_factory_chart_document(factory_id=pk, **self._window(request)))

    @staticmethod
    def _window(request) -> dict:
        window = TimeWindowSerializer(data=request.query_params)
        window.is_valid(raise_exception=True)
        return window.validated_data
