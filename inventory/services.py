from django.db import transaction
from django.db.models import ProtectedError

from inventory.models import Factory
from sprocket_factory.exceptions import Conflict


def factory_delete(*, factory: Factory) -> None:
    """Delete a factory without production; one with production is archived instead."""
    try:
        with transaction.atomic():
            factory.delete()
    except ProtectedError:
        raise Conflict(
            f"Factory {factory.pk} ({factory.name}) has production records and cannot be "
            'deleted. Archive it instead: PATCH {"is_active": false}.'
        ) from None
