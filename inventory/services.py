from django.db import transaction
from django.db.models import ProtectedError
from rest_framework.serializers import ModelSerializer
from rest_framework.validators import UniqueValidator

from core.api.exceptions import Conflict
from core.cache import FACTORIES, SPROCKETS, cache_generations_bump_on_commit
from ingest.body import BulkBody, Counts, ItemErrors, bulk_rows_check
from inventory.models import Factory


def factory_protected_message(factory: Factory) -> str:
    return (
        f"Factory {factory.pk} ({factory.name}) has production records and cannot be "
        'deleted. Archive it instead: PATCH {"is_active": false}.'
    )


def factory_delete(*, factory: Factory) -> None:
    """Delete a factory without production; one with production is archived instead."""
    # Asked first: the PROTECT check itself would load every one of the factory's records.
    if factory.production_records.exists():
        raise Conflict(factory_protected_message(factory))
    try:
        with transaction.atomic():
            factory.delete()
    except ProtectedError:
        # Production arrived between the question and the delete.
        raise Conflict(factory_protected_message(factory)) from None


def catalogue_bulk_create(*, body: BulkBody, serializer_class: type[ModelSerializer]) -> Counts:
    """Create sprocket types or factories from a bulk body: every item valid, or none written.

    Names are checked for the whole body in one query, not one query per item.
    """
    errors = ItemErrors()
    bulk_rows_check(len(body.items))
    model = serializer_class.Meta.model
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

    first_with_name: dict[str, int] = {}
    for index, data in valid:
        name = data.get("name")
        if name is None:
            continue
        if name in first_with_name:
            errors.add(str(index), "name", f"Same name as item {first_with_name[name]}.")
        else:
            first_with_name[name] = index
    for name in model.objects.filter(name__in=first_with_name).values_list("name", flat=True):
        errors.add(
            str(first_with_name[name]),
            "name",
            f"A {model._meta.verbose_name} named {name!r} exists.",
        )
    errors.raise_if_any()

    model.objects.bulk_create([model(**data) for _, data in valid])
    # bulk_create sends no signals: bump here.
    cache_generations_bump_on_commit(FACTORIES if model is Factory else SPROCKETS)
    return Counts(created=len(valid))
