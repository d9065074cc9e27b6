from core.api.viewsets import ResourceViewSet
from inventory.api.serializers import FactorySerializer, SprocketSerializer
from inventory.filtersets import FactoryFilterSet, SprocketFilterSet
from inventory.models import FACTORIES, SPROCKETS, Factory, Sprocket
from inventory.services import factory_delete

BY_ID_OR_NAME = {
    "id": ("id",),
    "-id": ("id",),
    "name": ("name", "id"),
    "-name": ("name", "id"),
}


class SprocketViewSet(ResourceViewSet):
    """Sprocket types: the catalogue staff maintain."""

    queryset = Sprocket.objects.all()
    serializer_class = SprocketSerializer
    json_fields = SprocketSerializer.Meta.fields
    filterset_class = SprocketFilterSet
    cache_depends_on = (SPROCKETS,)
    keyset_orderings = BY_ID_OR_NAME


class FactoryViewSet(ResourceViewSet):
    """Factories; one with production is archived (`is_active: false`), not deleted."""

    queryset = Factory.objects.all()
    serializer_class = FactorySerializer
    json_fields = FactorySerializer.Meta.fields
    filterset_class = FactoryFilterSet
    cache_depends_on = (FACTORIES,)
    keyset_orderings = BY_ID_OR_NAME

    def perform_destroy(self, instance: Factory) -> None:
        factory_delete(factory=instance)
