from django.db import models, transaction
from django.db.models import ProtectedError

from core.cache import cache_generations_bump_on_commit
from core.errors import Conflict
from ingest.body import Counts, ItemErrors
from inventory.models import FACTORIES, SPROCKETS, Factory


def factory_protected_message(factory: Factory) -> str:
    """Why the API refuses to delete a factory with production, and what to do instead."""
    return (
        f"{factory.name} (id {factory.pk}) has production records and cannot be deleted. "
        'Archive it instead: PATCH {"is_active": false}.'
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


def catalogue_bulk_create(
    *, model: type[models.Model], items: list[tuple[int, dict]], errors: ItemErrors
) -> Counts:
    """Create sprocket types or factories: every item valid, or none written.

    `items` are (index, fields) of the items whose own fields are valid; `errors` holds the
    others'. Names are checked for the whole body in one query, not one query per item.
    """
    first_with_name: dict[str, int] = {}
    for index, fields in items:
        name = fields.get("name")
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

    model.objects.bulk_create([model(**fields) for _, fields in items])
    # bulk_create sends no signals: bump here.
    cache_generations_bump_on_commit(FACTORIES if model is Factory else SPROCKETS)
    return Counts(created=len(items))
