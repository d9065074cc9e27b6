from drf_spectacular.utils import extend_schema_view
from rest_framework.serializers import ModelSerializer

from core.api.viewsets import ResourceViewSet
from core.cache import FACTORIES, SPROCKETS
from inventory.api.serializers import FactorySerializer, SprocketSerializer
from inventory.filtersets import FactoryFilterSet, SprocketFilterSet
from inventory.models import Factory, Sprocket
from inventory.services import catalogue_bulk_create, factory_delete
from production.api.bulk import BulkIngestView, bulk_schema
from production.models import IngestBatch

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
    cache_depends_on = (SPROCKETS,)
    keyset_orderings = BY_ID_OR_NAME


class FactoryViewSet(ResourceViewSet):
    """Factories; one with production is archived (`is_active: false`), not deleted."""

    queryset = Factory.objects.all()
    serializer_class = FactorySerializer
    filterset_class = FactoryFilterSet
    cache_depends_on = (FACTORIES,)
    keyset_orderings = BY_ID_OR_NAME

    def perform_destroy(self, instance: Factory) -> None:
        factory_delete(factory=instance)


SPROCKET_ITEM = {"$ref": "#/components/schemas/SprocketRequest"}
FACTORY_ITEM = {"$ref": "#/components/schemas/FactoryRequest"}


class CatalogueBulkView(BulkIngestView):
    """Many catalogue entries at once: every one valid, or none written."""

    serializer_class: type[ModelSerializer]
    # Names are unique: a duplicate is an error of its item, never skipped or updated.
    on_conflict_modes = (IngestBatch.OnConflict.ERROR,)

    def write(self, body, *, on_conflict: str, user):
        return catalogue_bulk_create(body=body, serializer_class=self.serializer_class)


@extend_schema_view(
    post=bulk_schema(
        item_schema=SPROCKET_ITEM,
        document_key="sprockets",
        summary="Create many sprocket types (the original seed_sprocket_types.json as it is)",
        on_conflict=False,
    )
)
class SprocketBulkView(CatalogueBulkView):
    """Create many sprocket types at once (manager)."""

    resource = IngestBatch.Resource.SPROCKETS
    document_key = "sprockets"
    serializer_class = SprocketSerializer
    required_permissions = {"POST": ["inventory.add_sprocket"]}


@extend_schema_view(
    post=bulk_schema(
        item_schema=FACTORY_ITEM,
        document_key="factories",
        summary="Create many factories",
        on_conflict=False,
    )
)
class FactoryBulkView(CatalogueBulkView):
    """Create many factories at once (manager)."""

    resource = IngestBatch.Resource.FACTORIES
    document_key = "factories"
    serializer_class = FactorySerializer
    required_permissions = {"POST": ["inventory.add_factory"]}
