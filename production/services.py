from datetime import datetime

from django.db import IntegrityError, transaction

from inventory.models import Factory
from production.models import ProductionRecord
from sprocket_factory.exceptions import Conflict


def _conflict(factory_id: int, time: datetime) -> Conflict:
    return Conflict(
        f"Factory {factory_id} already has a record at {time:%Y-%m-%dT%H:%M:%SZ}; "
        "change that record instead (PUT /production/records/{id})."
    )


def production_record_create(
    *,
    factory_id: int,
    time: datetime,
    sprocket_production_actual: int,
    sprocket_production_goal: int,
) -> ProductionRecord:
    """Create one record; a second record for the same factory and minute is a conflict."""
    record = ProductionRecord(
        factory_id=factory_id,
        time=time,
        sprocket_production_actual=sprocket_production_actual,
        sprocket_production_goal=sprocket_production_goal,
    )
    try:
        with transaction.atomic():
            record.save(force_insert=True)
    except IntegrityError:
        raise _conflict(factory_id, time) from None
    return record


def production_record_update(*, record: ProductionRecord, **changes) -> ProductionRecord:
    """Change one record's fields; moving it onto another record's (factory, time) conflicts."""
    for name, value in changes.items():
        setattr(record, name, value)
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        raise _conflict(record.factory_id, record.time) from None
    return record


def production_window_delete(*, factory: Factory, after: datetime, before: datetime) -> int:
    """Delete one factory's records with after <= time < before; return how many."""
    with transaction.atomic():
        deleted, _ = ProductionRecord.objects.filter(
            factory=factory, time__gte=after, time__lt=before
        ).delete()
    return deleted
