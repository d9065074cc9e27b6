"""`POST /production/bulk` (DESIGN §4, bulk bodies and rules): a constant number of queries however
many rows, BULK_MAX_ROWS, and empty or malformed bodies."""

import pytest
from django.db import connection

from inventory.models import Factory
from production.models import ProductionRecord
from production.tests.bulk_helpers import chart_entry, post, rows_for

pytestmark = pytest.mark.django_db


# A constant number of queries, however many rows.


def query_bound() -> int:
    """Queries of one bulk request of any size, token authentication included.

    SQLite stages every write in a temporary table (create, fill, join, drop); PostgreSQL
    COPYs straight into the table after setting the bulk statement timeout. The write runs
    in a savepoint of its own (SAVEPOINT, RELEASE).
    """
    return 18 if connection.vendor == "postgresql" else 21


@pytest.mark.parametrize("count", [10, 5000])
def test_ingesting_an_array_takes_a_bounded_number_of_queries(
    manager, plant, count, django_assert_max_num_queries
):
    rows = rows_for(plant, count)

    with django_assert_max_num_queries(query_bound()):
        response = post(manager, rows)

    assert response.status_code == 201, response.content
    assert response.json()["created"] == count


@pytest.mark.parametrize("count", [10, 5000])
def test_ingesting_a_document_takes_a_bounded_number_of_queries(
    manager, plant, count, django_assert_max_num_queries
):
    document = {"factories": [chart_entry(count, id=plant.pk), chart_entry(count, name="New")]}

    with django_assert_max_num_queries(query_bound()):
        response = post(manager, document)

    assert response.status_code == 201, response.content
    assert response.json()["created"] == 2 * count


# Limits.


def test_more_rows_than_bulk_max_rows_is_a_413(manager, plant, settings):
    settings.BULK_MAX_ROWS = 5

    response = post(manager, rows_for(plant, 6))

    assert response.status_code == 413
    assert "BULK_MAX_ROWS" in response.json()["detail"]
    assert ProductionRecord.objects.count() == 0


def test_a_document_with_more_points_than_bulk_max_rows_is_a_413(manager, plant, settings):
    settings.BULK_MAX_ROWS = 5

    response = post(manager, {"factories": [chart_entry(3, id=plant.pk), chart_entry(3)]})

    assert response.status_code == 413
    assert Factory.objects.count() == 1


def test_bulk_max_rows_itself_is_accepted(manager, plant, settings):
    settings.BULK_MAX_ROWS = 5

    response = post(manager, rows_for(plant, 5))

    assert response.status_code == 201, response.content


@pytest.mark.parametrize("body", [[], {"items": []}], ids=["array", "items"])
def test_an_empty_body_is_a_400(manager, body):
    response = post(manager, body)

    assert response.status_code == 400
    assert "detail" in response.json()


def test_malformed_json_is_a_400(manager):
    response = post(manager, b'[{"factory_id": 1,')

    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_deeply_nested_json_is_a_400(manager):
    response = post(manager, b"[" * 100_000 + b"]" * 100_000)

    assert response.status_code == 400
    assert "detail" in response.json()
