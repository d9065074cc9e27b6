from django.utils import timezone
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
from production.selectors import (
    AUTO_MAX_POINTS,
    BUCKETS,
    DEFAULT_BUCKET,
    FIXED_BUCKETS,
    production_summary_with_bucket,
)
from production.selectors.forecast import production_summary_forecasts_attach

# Which bucket the rows are summed by: the one asked for, or the one `auto` stood for.
BUCKET_HEADER = "Bucket"


class SummaryQuerySerializer(TimeWindowSerializer):
    """The summary's parameters as the schema documents them."""

    bucket = serializers.ChoiceField(
        choices=BUCKETS,
        default=DEFAULT_BUCKET,
        help_text="`auto` takes the smallest of minute, hour, day, week and month that gives "
        f"each factory at most {AUTO_MAX_POINTS} buckets over the span of its data between "
        "after and before (day when there is none); the `Bucket` response header says which "
        "was used.",
    )
    tz = serializers.CharField(required=False, max_length=64)
    forecast = serializers.BooleanField(
        required=False,
        help_text="true, with bucket=day: the bucket of the current day carries `forecast` "
        "(where the day will end at the recent run rate); such answers are never cached.",
    )


class ForecastSerializer(serializers.Serializer):
    """Where the day will end: the day so far, then the last FORECAST_RATE_MINUTES' run rate."""

    projected_actual = serializers.IntegerField(help_text="Actual at the end of the local day.")
    day_goal = serializers.IntegerField(
        help_text="The goal so far, and the rest of the day at the day's goal per minute."
    )
    status = serializers.ChoiceField(choices=["on_track", "behind"])
    behind_by = serializers.IntegerField(help_text="day_goal - projected_actual, at least 0.")
    run_rate_per_minute = serializers.FloatField()
    goal_met_at = serializers.DateTimeField(
        allow_null=True, help_text="When the day's goal is met at the run rate; null: not today."
    )
    day_ends_at = serializers.DateTimeField()


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
    forecast = ForecastSerializer(
        required=False,
        help_text="With forecast=true and bucket=day, on the bucket of the current day only.",
    )


class ProductionSummaryView(CachedReadsMixin, APIView):
    """Actual and goal summed per factory per bucket, with attainment."""

    permission_model = ProductionRecord
    filterset_class = ProductionSummaryFilterSet
    cache_depends_on = (PRODUCTION, FACTORIES)
    cache_headers = (BUCKET_HEADER,)

    @extend_schema(
        parameters=[
            SummaryQuerySerializer,
            OpenApiParameter(
                "factory_id", int, many=True, description="Repeatable; default every factory."
            ),
            OpenApiParameter(
                "tz", str, description="IANA zone for the buckets; default each factory's own."
            ),
            OpenApiParameter(
                BUCKET_HEADER,
                str,
                location=OpenApiParameter.HEADER,
                response=[200],
                required=True,
                enum=FIXED_BUCKETS,
                description="The bucket the rows are summed by: the one asked for, or the one "
                "`bucket=auto` chose.",
            ),
        ],
        responses={200: SummaryRowSerializer(many=True), 400: OpenApiResponse()},
    )
    def get(self, request):
        params = query_params_clean(self.filterset_class, request)
        summary = production_summary_with_bucket(
            bucket=params["bucket"] or DEFAULT_BUCKET,
            factory_ids=params["factory_id"],
            after=params["after"],
            before=params["before"],
            tz=params["tz"] or None,
        )
        if params["forecast"] and summary.bucket == "day":
            production_summary_forecasts_attach(
                rows=summary.rows, tz=params["tz"] or None, now=timezone.now()
            )
        return Response(summary.rows, headers={BUCKET_HEADER: summary.bucket})

    def cacheable(self, request) -> bool:
        # A forecast moves with the clock: computed fresh every time.
        return "forecast" not in request.query_params
