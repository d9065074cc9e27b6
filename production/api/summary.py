from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.caching import CachedReadsMixin
from core.api.filters import query_params_clean
from core.api.serializers import TimeWindowSerializer
from inventory.models import FACTORIES
from production.filtersets import ProductionSummaryFilterSet
from production.models import PRODUCTION, ProductionRecord
from production.selectors import BUCKETS, production_summary

DEFAULT_BUCKET = "day"


class SummaryQuerySerializer(TimeWindowSerializer):
    """The summary's parameters as the schema documents them."""

    bucket = serializers.ChoiceField(choices=BUCKETS, default=DEFAULT_BUCKET)
    tz = serializers.CharField(required=False, max_length=64)


class SummaryRowSerializer(serializers.Serializer):
    factory_id = serializers.IntegerField()
    bucket = serializers.CharField(
        allow_null=True,
        help_text="ISO 8601 start of the bucket with its offset in the zone used; null for "
        "the factory's overall row.",
    )
    sprocket_production_actual = serializers.IntegerField()
    sprocket_production_goal = serializers.IntegerField()
    attainment = serializers.FloatField(
        allow_null=True, help_text="actual / goal; null when goal is 0."
    )


class ProductionSummaryView(CachedReadsMixin, APIView):
    """Actual and goal summed per factory per bucket, with attainment."""

    permission_model = ProductionRecord
    filterset_class = ProductionSummaryFilterSet
    cache_depends_on = (PRODUCTION, FACTORIES)

    @extend_schema(
        parameters=[
            SummaryQuerySerializer,
            OpenApiParameter(
                "factory_id", int, many=True, description="Repeatable; default every factory."
            ),
            OpenApiParameter(
                "tz", str, description="IANA zone for the buckets; default each factory's own."
            ),
        ],
        responses={200: SummaryRowSerializer(many=True), 400: OpenApiResponse()},
    )
    def get(self, request):
        params = query_params_clean(self.filterset_class, request)
        return Response(
            production_summary(
                bucket=params["bucket"] or DEFAULT_BUCKET,
                factory_ids=params["factory_id"],
                after=params["after"],
                before=params["before"],
                tz=params["tz"] or None,
            )
        )
