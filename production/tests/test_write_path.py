"""Every writer of production rows goes through `production_rows_write`, which owns the
transaction, the COPY or upsert, and the cache bump; its conflicts are counted in full."""

import pytest
from django.core.management import CommandError, call_command

from core.cache import cache_generations_get
from ingest.models import OnConflict
from inventory.tests.factories import FactoryFactory
from production.columns import ProductionColumns
from production.models import PRODUCTION, ProductionRecord
from production.services import RowsConflict, production_rows_write
from production.tests.factories import FIRST_MINUTE_UNIX

BULK = "/sprocketFactory/v1/production/bulk"


pytestmark = pytest.mark.django_db


def columns_for(factory_id: int, minutes: range) -> ProductionColumns:
    columns = ProductionColumns()
    for minute in minutes:
        columns.factory_ids.append(factory_id)
        columns.times.append(FIRST_MINUTE_UNIX + 60 * minute)
        columns.actual.append(30)
        columns.goal.append(32)
    return columns


def test_a_409_counts_every_conflict_not_only_the_listed_ones(manager, settings):
    settings.BULK_MAX_ERRORS = 2
    plant = FactoryFactory()
    production_rows_write(columns=columns_for(plant.pk, range(5)), on_conflict=OnConflict.ERROR)
    rows = [
        {
            "factory_id": plant.pk,
            "time": FIRST_MINUTE_UNIX + 60 * minute,
            "sprocket_production_actual": 1,
            "sprocket_production_goal": 1,
        }
        for minute in range(5)
    ]

    response = manager.post(BULK, rows, format="json")

    assert response.status_code == 409
    assert response.json()["detail"].startswith("5 items conflict")
    assert len(response.json()["conflicts"]) == 2


def test_a_409_counts_duplicates_within_the_body_beyond_the_listed_ones(manager, settings):
    settings.BULK_MAX_ERRORS = 2
    plant = FactoryFactory()
    row = {
        "factory_id": plant.pk,
        "time": FIRST_MINUTE_UNIX,
        "sprocket_production_actual": 1,
        "sprocket_production_goal": 1,
    }

    response = manager.post(BULK, [row] * 6, format="json")

    assert response.status_code == 409
    assert response.json()["detail"].startswith("5 items conflict")
    assert len(response.json()["conflicts"]) == 2


def test_the_write_path_writes_every_row_and_bumps_the_production_generation(
    django_capture_on_commit_callbacks,
):
    plant = FactoryFactory()
    before = cache_generations_get([PRODUCTION])

    with django_capture_on_commit_callbacks(execute=True):
        counts = production_rows_write(
            columns=columns_for(plant.pk, range(3)), on_conflict=OnConflict.ERROR
        )

    assert counts.created == 3
    assert ProductionRecord.objects.filter(factory=plant).count() == 3
    assert cache_generations_get([PRODUCTION]) != before


def test_conflicting_rows_write_nothing_and_say_how_many_conflict():
    plant = FactoryFactory()
    production_rows_write(columns=columns_for(plant.pk, range(2)), on_conflict=OnConflict.ERROR)

    with pytest.raises(RowsConflict) as raised:
        production_rows_write(columns=columns_for(plant.pk, range(4)), on_conflict=OnConflict.ERROR)

    assert raised.value.count == 2
    assert ProductionRecord.objects.filter(factory=plant).count() == 2


def test_generate_production_over_existing_days_reports_the_conflicts_of_the_write_path():
    call_command("generate_production", factories=1, days=1, interval=3600, verbosity=0)

    with pytest.raises(CommandError, match=r"^24 records exist already"):
        call_command("generate_production", factories=1, days=1, interval=3600)


def test_load_original_data_writes_the_original_document_through_the_write_path(
    django_capture_on_commit_callbacks,
):
    before = cache_generations_get([PRODUCTION])

    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_original_data", verbosity=0)

    assert ProductionRecord.objects.count() == 60
    assert cache_generations_get([PRODUCTION]) != before
