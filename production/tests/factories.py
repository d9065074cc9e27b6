import json
from datetime import UTC, datetime, timedelta

from django.conf import settings
from factory import Sequence, SubFactory
from factory.django import DjangoModelFactory

from inventory.models import Factory
from inventory.tests.factories import FactoryFactory
from production.models import ProductionRecord

FIRST_MINUTE = datetime(2021, 1, 21, 2, 6, 58, tzinfo=UTC)
FIRST_MINUTE_UNIX = 1611194818
MINUTE = timedelta(minutes=1)
SOURCE_DIR = settings.BASE_DIR / "fixtures" / "source"


class ProductionRecordFactory(DjangoModelFactory):
    class Meta:
        model = ProductionRecord

    factory = SubFactory(FactoryFactory)
    time = Sequence(lambda n: FIRST_MINUTE + timedelta(minutes=n))
    sprocket_production_actual = 30
    sprocket_production_goal = 32


def create_records(
    factory: Factory,
    count: int,
    start: datetime = FIRST_MINUTE,
    step: timedelta = MINUTE,
    **fields,
) -> list[ProductionRecord]:
    """`count` records of `factory`, `step` apart from `start`, inserted in one query.

    A bulk insert sends no post_save signals: each test starts with fresh cache generations, so
    records made before its first request need no bump.
    """
    return ProductionRecord.objects.bulk_create(
        ProductionRecordFactory.build(factory=factory, time=start + i * step, **fields)
        for i in range(count)
    )


def source_charts() -> list[dict]:
    """The original challenge's chart data of Factory 1, 2 and 3 (`seed_factory_data.json`)."""
    document = json.loads((SOURCE_DIR / "seed_factory_data.json").read_text())
    return [entry["factory"]["chart_data"] for entry in document["factories"]]
