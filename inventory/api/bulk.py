"""`POST /sprockets/bulk` and `/factories/bulk`: many catalogue entries, all or none."""

from drf_spectacular.utils import extend_schema_view
from rest_framework.serializers import ModelSerializer
from rest_framework.validators import UniqueValidator

from ingest.api.schema import bulk_schema
from ingest.api.views import BulkIngestView
from ingest.body import BulkBody, Counts, ItemErrors, bulk_rows_check
from ingest.models import OnConflict
from inventory.api.serializers import FactorySerializer, SprocketSerializer
from inventory.models import FACTORIES, SPROCKETS, Factory, Sprocket
from inventory.services import catalogue_bulk_create

SPROCKET_ITEM = {"$ref": "#/components/schemas/SprocketRequest"}
FACTORY_ITEM = {"$ref": "#/components/schemas/FactoryRequest"}


def _items_validate(
    body: BulkBody, serializer_class: type[ModelSerializer]
) -> tuple[list[tuple[int, dict]], ItemErrors]:
    """Each item checked by the resource's serializer (names are checked for the whole body
    by the service, in one query)."""
    bulk_rows_check(len(body.items))
    errors = ItemErrors()
    valid: list[tuple[int, dict]] = []
    for index, item in enumerate(body.items):
        serializer = serializer_class(data=item)
        name_field = serializer.fields["name"]
        name_field.validators = [
            v for v in name_field.validators if not isinstance(v, UniqueValidator)
        ]
        if serializer.is_valid():
            valid.append((index, serializer.validated_data))
            continue
        for field, messages in serializer.errors.items():
            for message in messages if isinstance(messages, list) else [messages]:
                errors.add(str(index), field, str(message))
    return valid, errors


def sprocket_bulk_create(*, body: BulkBody, on_conflict: OnConflict, user) -> Counts:
    items, errors = _items_validate(body, SprocketSerializer)
    return catalogue_bulk_create(model=Sprocket, items=items, errors=errors)


def factory_bulk_create(*, body: BulkBody, on_conflict: OnConflict, user) -> Counts:
    items, errors = _items_validate(body, FactorySerializer)
    return catalogue_bulk_create(model=Factory, items=items, errors=errors)


class CatalogueBulkView(BulkIngestView):
    """Many catalogue entries at once: every one valid, or none written."""

    # Names are unique: a duplicate is an error of its item, never skipped or updated.
    on_conflict_modes = (OnConflict.ERROR,)


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

    resource = SPROCKETS
    document_key = "sprockets"
    write = staticmethod(sprocket_bulk_create)
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

    resource = FACTORIES
    document_key = "factories"
    write = staticmethod(factory_bulk_create)
    required_permissions = {"POST": ["inventory.add_factory"]}
