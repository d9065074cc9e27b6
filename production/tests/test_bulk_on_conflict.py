"""`POST /production/bulk` (DESIGN §4, bulk bodies and rules): `on_conflict` (error, skip, update)
for rows that exist or repeat, and who may ingest."""

import pytest

from production.models import ProductionRecord
from production.tests.bulk_helpers import FIRST_MINUTE_UNIX, chart_entry, post, rows_for, stored

pytestmark = pytest.mark.django_db


def test_on_conflict_error_is_the_default_and_lists_rows_that_exist(manager, plant):
    post(manager, rows_for(plant, 2, start=FIRST_MINUTE_UNIX + 120))
    rows = rows_for(plant, 5, sprocket_production_actual=1)

    response = post(manager, rows)

    assert response.status_code == 409
    assert sorted(response.json()["conflicts"]) == ["2", "3"]
    assert [actual for _, actual, _ in stored(plant)] == [30, 30]


def test_on_conflict_error_lists_duplicates_within_the_body(manager, plant):
    rows = rows_for(plant, 3) + rows_for(plant, 1)

    response = post(manager, rows, on_conflict="error")

    assert response.status_code == 409
    assert list(response.json()["conflicts"]) == ["3"]
    assert ProductionRecord.objects.count() == 0


def test_on_conflict_skip_keeps_the_existing_row(manager, plant):
    post(manager, rows_for(plant, 1))

    response = post(manager, rows_for(plant, 2, sprocket_production_actual=7), on_conflict="skip")

    assert response.status_code == 201, response.content
    assert stored(plant) == [(FIRST_MINUTE_UNIX, 30, 32), (FIRST_MINUTE_UNIX + 60, 7, 32)]


def test_on_conflict_skip_keeps_the_first_row_of_the_body(manager, plant):
    rows = rows_for(plant, 1, sprocket_production_actual=1) + rows_for(
        plant, 1, sprocket_production_actual=2
    )

    post(manager, rows, on_conflict="skip")

    assert stored(plant) == [(FIRST_MINUTE_UNIX, 1, 32)]


def test_on_conflict_skip_counts_created_and_skipped(manager, plant):
    post(manager, rows_for(plant, 2))
    rows = rows_for(plant, 4) + rows_for(plant, 1)

    response = post(manager, rows, on_conflict="skip")

    assert {k: response.json()[k] for k in ("created", "updated", "skipped")} == {
        "created": 2,
        "updated": 0,
        "skipped": 3,
    }


def test_on_conflict_update_lets_the_last_row_of_the_body_win(manager, plant):
    post(manager, rows_for(plant, 1))
    rows = rows_for(plant, 1, sprocket_production_actual=1) + rows_for(
        plant, 1, sprocket_production_actual=2
    )

    post(manager, rows, on_conflict="update")

    assert stored(plant) == [(FIRST_MINUTE_UNIX, 2, 32)]


def test_on_conflict_update_counts_created_updated_and_skipped(manager, plant):
    post(manager, rows_for(plant, 2))
    rows = rows_for(plant, 4, sprocket_production_actual=9) + rows_for(plant, 1)

    response = post(manager, rows, on_conflict="update")

    assert {k: response.json()[k] for k in ("created", "updated", "skipped")} == {
        "created": 2,
        "updated": 2,
        "skipped": 1,
    }


def test_conflicts_in_a_document_are_listed_by_entry_and_point(manager, plant):
    document = {"factories": [chart_entry(3, id=plant.pk), chart_entry(2, name="Plant Berlin")]}

    response = post(manager, document)

    assert response.status_code == 409
    assert sorted(response.json()["conflicts"]) == ["1.0", "1.1"]
    assert ProductionRecord.objects.count() == 0


def test_an_unknown_on_conflict_is_a_400(manager, plant):
    response = post(manager, rows_for(plant, 1), on_conflict="merge")

    assert response.status_code == 400
    assert "on_conflict" in response.json()


def test_an_operator_may_ingest_with_on_conflict_update(operator, plant):
    post(operator, rows_for(plant, 1))

    response = post(
        operator, rows_for(plant, 1, sprocket_production_actual=5), on_conflict="update"
    )

    assert response.status_code == 201, response.content
    assert stored(plant) == [(FIRST_MINUTE_UNIX, 5, 32)]


def test_a_viewer_may_not_ingest(api_client_as, plant):
    response = post(api_client_as("viewer"), rows_for(plant, 1))

    assert response.status_code == 403
    assert ProductionRecord.objects.count() == 0


def test_an_anonymous_client_may_not_ingest(api_client, plant):
    response = post(api_client, rows_for(plant, 1))

    assert response.status_code == 401
    assert ProductionRecord.objects.count() == 0
