from inventory.api.serializers import FactorySerializer, SprocketSerializer
from inventory.filtersets import FactoryFilterSet, SprocketFilterSet
from inventory.models import Factory, Sprocket
from inventory.services import factory_delete
from sprocket_factory.viewsets import ResourceViewSet

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
    filterset_class = SprocketFilterSet
    keyset_orderings = BY_ID_OR_NAME


class FactoryViewSet(ResourceViewSet):
    """Factories; one with production is archived (`is_active: false`), not deleted."""

    queryset = Factory.objects.all()
    serializer_class = FactorySerializer
    filterset_class = FactoryFilterSet
    keyset_orderings = BY_ID_OR_NAME

    def perform_destroy(self, instance: Factory) -> None:
        factory_delete(factory=instance)
