from datetime import UTC, datetime, timedelta

from factory import Sequence, SubFactory
from factory.django import DjangoModelFactory

from inventory.tests.factories import FactoryFactory
from production.models import ProductionRecord

FIRST_MINUTE = datetime(2021, 1, 21, 2, 6, 58, tzinfo=UTC)


class ProductionRecordFactory(DjangoModelFactory):
    class Meta:
        model = ProductionRecord

    factory = SubFactory(FactoryFactory)
    time = Sequence(lambda n: FIRST_MINUTE + timedelta(minutes=n))
    sprocket_production_actual = 30
    sprocket_production_goal = 32
