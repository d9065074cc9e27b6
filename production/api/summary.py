from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.filters import IntegerListFormField
from core.api.serializers import TimeWindowSerializer
from core.cache import FACTORIES, PRODUCTION, cached_read
from core.timezones import is_zone_name
from production.models import ProductionRecord
from production.selectors.summary import BUCKETS, production_summary


class SummaryQuerySerializer(TimeWindowSerializer):
    bucket = serializers.ChoiceField(choices=BUCKETS, default="day")
    tz = serializers.CharField(required=False, max_length=64)

    def validate_tz(self, value: str) -> str:
        if not is_zone_name(value):
            raise serializers.ValidationError(f"{value!r} is not an IANA time zone name.")
        return value


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


class ProductionSummaryView(APIView):
    """Actual and goal summed per factory per bucket, with attainment."""

    permission_model = ProductionRecord

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
    @cached_read(PRODUCTION, FACTORIES)
    def get(self, request):
        params = SummaryQuerySerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        return Response(
            production_summary(**params.validated_data, factory_id=self._factory_ids(request))
        )

    @staticmethod
    def _factory_ids(request) -> list[int]:
        """`factory_id` read the way every list reads it (repeatable, or a comma list)."""
        values = [v for v in request.query_params.getlist("factory_id") if v]
        try:
            return IntegerListFormField(required=False).clean(values)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"factory_id": error.messages}) from None
