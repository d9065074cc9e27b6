"""A single record saved from any path (API, admin, loaddata) is a change of production.

Deletes are told by the services and the admin instead: a post_delete receiver would stop
Django from deleting a window of records in one statement.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from production.events import production_changed_on_commit
from production.models import ProductionRecord


@receiver(post_save, sender=ProductionRecord, dispatch_uid="production_record_saved")
def production_record_saved(instance: ProductionRecord, **_kwargs) -> None:
    production_changed_on_commit(
        factory_id=instance.factory_id, first=instance.time, last=instance.time, rows=1
    )
    stored_factory_id, stored_time = getattr(instance, "stored_at", (None, None))
    if stored_time is not None and (stored_factory_id, stored_time) != (
        instance.factory_id,
        instance.time,
    ):
        # Moved: the record is gone from where it was.
        production_changed_on_commit(
            factory_id=stored_factory_id,
            first=stored_time,
            last=stored_time,
            rows=1,
            action="delete",
        )
    instance.stored_at = (instance.factory_id, instance.time)
