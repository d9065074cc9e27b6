"""Production records as lists read them: plain rows, one factory's or every factory's."""

from django.db.models import QuerySet

from core.errors import NotFound
from inventory.models import Factory
from production.models import ProductionRecord

RECORD_FIELDS = (
    "id",
    "factory_id",
    "sprocket_production_actual",
    "sprocket_production_goal",
    "time",
)


def production_factory_found(*, factory_id: int) -> None:
    """NotFound when there is no such factory."""
    if not Factory.objects.filter(pk=factory_id).exists():
        raise NotFound()


def production_records_of_factory(*, factory_id: int) -> QuerySet[ProductionRecord]:
    """One factory's records, without asking whether the factory exists: a page that holds
    records shows it does, so a list asks (production_factory_found) only when its page is
    empty or a parameter is wrong."""
    return ProductionRecord.objects.filter(factory_id=factory_id)


def production_record_rows(records: QuerySet[ProductionRecord]) -> QuerySet:
    """The records as the dicts the database gives: no model or serializer per row."""
    return records.values(*RECORD_FIELDS)
