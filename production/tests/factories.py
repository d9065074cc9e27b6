from datetime import UTC, datetime, timedelta

import factory

from inventory.tests.factories import FactoryFactory
from production.models import ProductionRecord

FIRST_MINUTE = datetime(2021, 1, 21, 2, 6, 58, tzinfo=UTC)


class ProductionRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductionRecord

    factory = factory.SubFactory(FactoryFactory)
    time = factory.Sequence(lambda n: FIRST_MINUTE + timedelta(minutes=n))
    sprocket_production_actual = 30
    sprocket_production_goal = 32
