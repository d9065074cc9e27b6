from django.core.management import call_command

from inventory.models import Factory, Sprocket
from inventory.tests.factories import FactoryFactory
from production.models import ProductionRecord


def test_load_original_data_fills_an_empty_database(db):
    call_command("load_original_data", verbosity=0)

    assert Sprocket.objects.count() == 3
    assert Factory.objects.count() == 3
    assert ProductionRecord.objects.count() == 60


def test_load_original_data_leaves_a_database_with_data_alone(db):
    FactoryFactory(name="Somewhere else")

    call_command("load_original_data", verbosity=0)

    assert list(Factory.objects.values_list("name", flat=True)) == ["Somewhere else"]
    assert ProductionRecord.objects.count() == 0


def test_load_original_data_twice_loads_it_once(db):
    call_command("load_original_data", verbosity=0)
    call_command("load_original_data", verbosity=0)

    assert ProductionRecord.objects.count() == 60
