from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from inventory.models import Factory
from inventory.tests.factories import FactoryFactory
from production.models import ProductionRecord
from production.tests.factories import FIRST_MINUTE, ProductionRecordFactory

pytestmark = pytest.mark.django_db


def create_record(factory: Factory, **overrides) -> ProductionRecord:
    """Insert straight into the table: no full_clean, so only the database can refuse."""
    return ProductionRecordFactory(factory=factory, time=FIRST_MINUTE, **overrides)


def test_a_valid_production_record_saves():
    factory = FactoryFactory()

    record = create_record(factory)

    stored = ProductionRecord.objects.get(pk=record.pk)
    assert stored.factory_id == factory.pk
    assert stored.time == FIRST_MINUTE
    assert (stored.sprocket_production_actual, stored.sprocket_production_goal) == (30, 32)


def test_zero_actual_and_zero_goal_are_allowed():
    record = create_record(
        FactoryFactory(), sprocket_production_actual=0, sprocket_production_goal=0
    )

    assert ProductionRecord.objects.filter(pk=record.pk).exists()


def test_the_database_rejects_a_negative_actual():
    factory = FactoryFactory()

    with (
        pytest.raises(IntegrityError, match="production_record_actual_gte_0"),
        transaction.atomic(),
    ):
        create_record(factory, sprocket_production_actual=-1)

    assert ProductionRecord.objects.count() == 0


def test_the_database_rejects_a_negative_goal():
    factory = FactoryFactory()

    with (
        pytest.raises(IntegrityError, match="production_record_goal_gte_0"),
        transaction.atomic(),
    ):
        create_record(factory, sprocket_production_goal=-1)

    assert ProductionRecord.objects.count() == 0


def test_bulk_create_cannot_insert_a_negative_actual():
    factory = FactoryFactory()
    rows = [
        ProductionRecord(
            factory=factory,
            time=FIRST_MINUTE + timedelta(minutes=minute),
            sprocket_production_actual=-1 if minute == 2 else 30,
            sprocket_production_goal=32,
        )
        for minute in range(3)
    ]

    with (
        pytest.raises(IntegrityError, match="production_record_actual_gte_0"),
        transaction.atomic(),
    ):
        ProductionRecord.objects.bulk_create(rows)

    assert ProductionRecord.objects.count() == 0


def test_an_update_cannot_set_a_negative_goal():
    record = create_record(FactoryFactory())

    with (
        pytest.raises(IntegrityError, match="production_record_goal_gte_0"),
        transaction.atomic(),
    ):
        ProductionRecord.objects.filter(pk=record.pk).update(sprocket_production_goal=-5)

    record.refresh_from_db()
    assert record.sprocket_production_goal == 32


def test_the_database_rejects_a_second_record_for_the_same_factory_and_time():
    factory = FactoryFactory()
    create_record(factory)

    with pytest.raises(IntegrityError), transaction.atomic():
        create_record(factory, sprocket_production_actual=31)

    assert ProductionRecord.objects.count() == 1


def test_two_factories_may_record_the_same_minute():
    create_record(FactoryFactory())
    create_record(FactoryFactory())

    assert ProductionRecord.objects.filter(time=FIRST_MINUTE).count() == 2


def test_deleting_a_factory_with_production_is_refused():
    factory = FactoryFactory()
    record = create_record(factory)

    with pytest.raises(ProtectedError):
        factory.delete()

    assert Factory.objects.filter(pk=factory.pk).exists()
    assert ProductionRecord.objects.filter(pk=record.pk).exists()


def test_deleting_a_factory_without_production_succeeds():
    factory = FactoryFactory()

    factory.delete()

    assert not Factory.objects.filter(name=factory.name).exists()


def test_production_time_has_a_brin_index(on_postgresql):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s",
            ["production_record_time_brin"],
        )
        row = cursor.fetchone()

    assert row is not None
    # ON ONLY: the parent's index of a partitioned table, which each partition has a copy of.
    assert row[0].endswith('ON ONLY public.production_productionrecord USING brin ("time")')


def test_a_time_with_a_fraction_of_a_second_is_refused_by_postgresql(on_postgresql):
    from django.db import connection

    factory = FactoryFactory()

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO production_productionrecord (factory_id, time, "
            "sprocket_production_actual, sprocket_production_goal) "
            "VALUES (%s, '2024-01-01 08:00:05.5+00', 1, 1)",
            [factory.pk],
        )
