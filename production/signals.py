"""A single record saved from any path (API, admin, loaddata) bumps the production cache.

Deletes are bumped by the services and the admin instead: a post_delete receiver would stop
Django from deleting a window of records in one statement.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from core.cache import cache_generations_bump_on_commit
from production.models import PRODUCTION, ProductionRecord


@receiver(post_save, sender=ProductionRecord, dispatch_uid="production_record_saved")
def production_record_saved(**_kwargs) -> None:
    cache_generations_bump_on_commit(PRODUCTION)
