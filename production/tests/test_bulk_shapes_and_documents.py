"""`POST /production/bulk` (DESIGN §4, bulk bodies and rules): the shapes of a body, and the
factories of a chart-data document."""

import pytest

from inventory.models import Factory
from inventory.tests.factories import FactoryFactory
from production.models import ProductionRecord
from production.tests.bulk_helpers import FIRST_MINUTE_UNIX, chart_entry, post, rows_for, stored

pytestmark = pytest.mark.django_db


# Body shapes.


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(lambda rows: rows, id="array"),
        pytest.param(lambda rows: {"items": rows}, id="items"),
    ],
)
def test_bulk_accepts_records_as_an_array_or_under_items(manager, plant, shape):
    response = post(manager, shape(rows_for(plant, 3)))

    assert response.status_code == 201, response.content
    assert response.json()["created"] == 3
    assert len(stored(plant)) == 3


def test_bulk_accepts_a_chart_data_document(manager, plant):
    response = post(manager, {"factories": [chart_entry(4, id=plant.pk)]})

    assert response.status_code == 201, response.content
    assert len(stored(plant)) == 4


def test_bulk_accepts_times_as_iso_strings(manager, plant):
    rows = rows_for(plant, 1)
    rows[0]["time"] = "2021-01-21T02:06:58Z"

    response = post(manager, rows)

    assert response.status_code == 201, response.content
    assert stored(plant) == [(FIRST_MINUTE_UNIX, 30, 32)]


def test_bulk_refuses_an_object_of_another_shape(manager, plant):
    response = post(manager, {"records": rows_for(plant, 1)})

    assert response.status_code == 400
    assert "detail" in response.json()


# Factories in a document: by id, by name, by position.


def test_a_document_factory_given_by_id_gets_the_records(manager, plant):
    post(manager, {"factories": [chart_entry(2, id=plant.pk)]})

    assert len(stored(plant)) == 2
    assert Factory.objects.count() == 1


def test_a_document_factory_id_that_does_not_exist_is_a_400_at_its_entry(manager, plant):
    response = post(
        manager, {"factories": [chart_entry(2, id=plant.pk), chart_entry(2, id=plant.pk + 99)]}
    )

    assert response.status_code == 400
    assert list(response.json()) == ["1"]
    assert "id" in response.json()["1"]
    assert ProductionRecord.objects.count() == 0


def test_a_document_factory_given_by_name_is_matched(manager, plant):
    post(manager, {"factories": [chart_entry(2, name="Plant Berlin")]})

    assert len(stored(plant)) == 2
    assert Factory.objects.count() == 1


def test_a_document_factory_given_by_an_unknown_name_is_created(manager):
    response = post(manager, {"factories": [chart_entry(2, name="Plant Lagos")]})

    assert response.status_code == 201, response.content
    assert len(stored(Factory.objects.get(name="Plant Lagos"))) == 2


def test_a_document_factory_without_id_or_name_is_named_by_its_position(manager):
    existing = FactoryFactory(name="Factory 2")

    post(manager, {"factories": [chart_entry(1), chart_entry(2)]})

    assert sorted(Factory.objects.values_list("name", flat=True)) == ["Factory 1", "Factory 2"]
    assert len(stored(existing)) == 2


def test_an_operator_cannot_create_factories_through_a_document(operator, plant):
    response = post(
        operator, {"factories": [chart_entry(2, id=plant.pk), chart_entry(2, name="Plant Lagos")]}
    )

    assert response.status_code == 403
    assert Factory.objects.count() == 1
    assert ProductionRecord.objects.count() == 0


def test_an_operator_may_post_a_document_naming_existing_factories(operator, plant):
    response = post(operator, {"factories": [chart_entry(2, name="Plant Berlin")]})

    assert response.status_code == 201, response.content
    assert len(stored(plant)) == 2
