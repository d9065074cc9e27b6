"""`POST /production/bulk` (DESIGN §4, bulk bodies and rules): a failure in the middle of the write
leaves nothing behind, and is audited."""

import pytest

from ingest.models import IngestBatch
from inventory.models import Factory
from production import copy as production_copy
from production import services as production_services
from production.models import ProductionRecord
from production.tests.bulk_helpers import chart_entry, post, rows_for

pytestmark = pytest.mark.django_db


def test_a_failure_after_the_rows_are_written_leaves_no_rows_and_no_factories(manager, monkeypatch):
    real_write = production_services.production_rows_write

    def write_then_fail(*args, **kwargs):
        real_write(*args, **kwargs)
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(production_services, "production_rows_write", write_then_fail)

    response = post(manager, {"factories": [chart_entry(5, name="Plant Lagos")]})

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}
    assert ProductionRecord.objects.count() == 0
    assert Factory.objects.count() == 0


def test_a_failure_in_the_middle_of_the_write_is_audited_as_a_500(manager, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(production_services, "production_rows_write", fail)

    post(manager, {"factories": [chart_entry(5, name="Plant Lagos")]})

    (batch,) = IngestBatch.objects.all()
    assert batch.status_code == 500
    assert batch.idempotency_key is None


def test_a_failure_inside_the_copy_leaves_no_rows(on_postgresql, manager, plant, monkeypatch):
    real_columns = production_copy._pg_columns

    def columns_then_fail(columns, positions):
        first, *rest = real_columns(columns, positions)

        def failing():
            for sent, value in enumerate(first):
                if sent == 500:
                    raise RuntimeError("the client went away mid-COPY")
                yield value

        return [failing(), *rest]

    monkeypatch.setattr(production_copy, "_pg_columns", columns_then_fail)
    # Chunks of 100 rows: five have reached PostgreSQL when the sixth fails.
    monkeypatch.setattr(production_copy, "BINARY_CHUNK_ROWS", 100)

    response = post(manager, rows_for(plant, 1000))

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}
    assert ProductionRecord.objects.count() == 0
