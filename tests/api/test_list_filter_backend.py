"""ListFilterBackend: a request naming none of a list's filters gets the list unfiltered
without a FilterSet being built; one naming any (also as `name[]`) is filtered as before."""

import pytest

from inventory.tests.factories import FactoryFactory
from production.tests.factories import create_records

pytestmark = pytest.mark.django_db

PRODUCTION = "/sprocketFactory/v1/production"


@pytest.fixture
def two_factories():
    first, second = FactoryFactory(), FactoryFactory()
    create_records(first, 2)
    create_records(second, 3)
    return first, second


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["factory_id"] for row in response.json()}


def test_a_list_without_filters_builds_no_filterset(api_client, two_factories, monkeypatch):
    from production.filtersets import ProductionRecordFilterSet

    def refuse(*args, **kwargs):
        raise AssertionError("a FilterSet was built")

    monkeypatch.setattr(ProductionRecordFilterSet, "__init__", refuse)

    assert ids(api_client.get(PRODUCTION, {"limit": 10})) == {f.pk for f in two_factories}


@pytest.mark.parametrize("name", ["factory_id", "factory_id[]"])
def test_a_filter_named_in_either_form_still_filters(api_client, two_factories, name):
    first, _ = two_factories

    assert ids(api_client.get(PRODUCTION, {name: first.pk})) == {first.pk}


def test_a_bad_filter_value_is_still_a_400(api_client, two_factories):
    response = api_client.get(PRODUCTION, {"after": "yesterday-ish"})

    assert response.status_code == 400
    assert "after" in response.json()
