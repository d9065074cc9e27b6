"""`POST /production/bulk` (DESIGN §4, bulk bodies and rules): validation is all or nothing, its
errors keyed by item index (or entry and point) and field."""

import pytest

from inventory.models import Factory
from production.models import ProductionRecord
from production.tests.bulk_helpers import chart_entry, post, rows_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("bad", [0, 500, 999], ids=["first", "middle", "last"])
def test_bulk_rejects_the_whole_body_when_one_item_is_bad(manager, plant, bad):
    rows = rows_for(plant, 1000)
    rows[bad]["sprocket_production_goal"] = "lots"

    response = post(manager, rows)

    assert response.status_code == 400
    assert list(response.json()) == [str(bad)]
    assert list(response.json()[str(bad)]) == ["sprocket_production_goal"]
    assert ProductionRecord.objects.count() == 0


def test_bulk_lists_every_bad_item(manager, plant):
    rows = rows_for(plant, 10)
    rows[1]["time"] = "yesterday-ish"
    rows[4]["sprocket_production_actual"] = -1
    rows[7]["sprocket_production_goal"] = None

    body = post(manager, rows).json()

    assert body == {
        "1": {"time": body["1"]["time"]},
        "4": {"sprocket_production_actual": body["4"]["sprocket_production_actual"]},
        "7": {"sprocket_production_goal": body["7"]["sprocket_production_goal"]},
    }


def test_bulk_rejects_a_factory_id_that_does_not_exist_at_its_index(manager, plant):
    rows = rows_for(plant, 3)
    rows[2]["factory_id"] = plant.pk + 1000

    response = post(manager, rows)

    assert response.status_code == 400
    assert list(response.json()) == ["2"]
    assert "factory_id" in response.json()["2"]
    assert ProductionRecord.objects.count() == 0


def test_bulk_rejects_an_unknown_field_at_its_index(manager, plant):
    rows = rows_for(plant, 3)
    rows[1]["colour"] = "blue"

    response = post(manager, rows)

    assert response.status_code == 400
    assert response.json() == {"1": {"colour": [response.json()["1"]["colour"][0]]}}


def test_bulk_reports_a_bad_document_point_by_entry_and_point(manager, plant):
    entry = chart_entry(3, id=plant.pk)
    entry["factory"]["chart_data"]["time"][2] = "not a time"

    response = post(manager, {"factories": [chart_entry(1, name="Other"), entry]})

    assert response.status_code == 400
    assert list(response.json()) == ["1.2"]
    assert "time" in response.json()["1.2"]
    assert not Factory.objects.filter(name="Other").exists()


def test_bulk_refuses_a_document_with_lists_of_different_lengths(manager, plant):
    entry = chart_entry(3, id=plant.pk)
    entry["factory"]["chart_data"]["sprocket_production_goal"].pop()

    response = post(manager, {"factories": [entry]})

    assert response.status_code == 400
    assert "chart_data" in response.json()["0"]
