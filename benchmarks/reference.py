"""A reference list written the plain DRF way: ModelSerializer + PageNumberPagination."""

from rest_framework import generics, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer

from production.models import ProductionRecord


class ReferenceSerializer(serializers.ModelSerializer):
    factory_id = serializers.IntegerField()

    class Meta:
        model = ProductionRecord
        fields = (
            "id",
            "factory_id",
            "sprocket_production_actual",
            "sprocket_production_goal",
            "time",
        )


class ReferencePagination(PageNumberPagination):
    page_size = 1000


class ReferenceProductionList(generics.ListAPIView):
    serializer_class = ReferenceSerializer
    pagination_class = ReferencePagination
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]

    def get_queryset(self):
        return ProductionRecord.objects.filter(factory_id=self.kwargs["factory_id"]).order_by(
            "time"
        )
