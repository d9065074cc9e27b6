"""Writes to sprocket types and factories, from any path (API, admin, loaddata), bump the cache."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core.cache import cache_generations_bump_on_commit
from inventory.models import FACTORIES, SPROCKETS, Factory, Sprocket


@receiver([post_save, post_delete], sender=Sprocket, dispatch_uid="sprocket_changed")
def sprocket_changed(**_kwargs) -> None:
    cache_generations_bump_on_commit(SPROCKETS)


@receiver([post_save, post_delete], sender=Factory, dispatch_uid="factory_changed")
def factory_changed(**_kwargs) -> None:
    cache_generations_bump_on_commit(FACTORIES)
