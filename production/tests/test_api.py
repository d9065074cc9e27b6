"""/production and /production/{factory_id}: the lists, on the original data and per factory.

What every list does alike (bare arrays, fields, slashes, query counts, who may) is tested by
the shared mixins in test_api_records.py.
"""

import re
from datetime import datetime

import pytest

from production.models import ProductionRecord
from production.tests.factories import create_records, source_charts

API = "/sprocketFactory/v1"
PRODUCTION = f"{API}/production"

RECORD_FIELDS = {
    "id",
    "factory_id",
    "sprocket_production_actual",
    "sprocket_production_goal",
    "time",
}
UTC_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

pytestmark = pytest.mark.django_db
with_and_without_slash = pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])


def as_chart_data(records: list[dict]) -> dict:
    return {
        "sprocket_production_actual": [r["sprocket_production_actual"] for r in records],
        "sprocket_production_goal": [r["sprocket_production_goal"] for r in records],
        "time": [int(datetime.fromisoformat(r["time"]).timestamp()) for r in records],
    }


# The challenge contract on the original data


def test_listing_production_answers_every_original_record(api_client, original_data):
    response = api_client.get(PRODUCTION)

    assert response.status_code == 200
    records = response.json()
    assert len(records) == 60
    assert [
        as_chart_data([r for r in records if r["factory_id"] == factory_id])
        for factory_id in (1, 2, 3)
    ] == source_charts()


def test_production_is_listed_by_factory_then_time(api_client, original_data):
    records = api_client.get(PRODUCTION).json()

    keys = [(r["factory_id"], r["time"]) for r in records]
    assert keys == sorted(keys)


def test_a_production_record_has_exactly_the_documented_fields_and_json_types(
    api_client, original_data
):
    first = api_client.get(PRODUCTION).json()[0]

    assert first == {
        "id": ProductionRecord.objects.order_by("factory_id", "time").first().pk,
        "factory_id": 1,
        "sprocket_production_actual": 32,
        "sprocket_production_goal": 32,
        "time": "2021-01-21T02:06:58Z",
    }


def test_every_listed_record_has_integer_counts_and_a_utc_time_with_z(api_client, original_data):
    for record in api_client.get(PRODUCTION).json():
        assert set(record) == RECORD_FIELDS
        assert all(
            type(record[f]) is int
            for f in ("id", "factory_id", "sprocket_production_actual", "sprocket_production_goal")
        )
        assert UTC_Z.match(record["time"])


@with_and_without_slash
@pytest.mark.parametrize("factory_id", [1, 2, 3])
def test_listing_one_factory_answers_its_original_records_in_time_order(
    api_client, original_data, factory_id, slash
):
    response = api_client.get(f"{PRODUCTION}/{factory_id}{slash}")

    assert response.status_code == 200
    records = response.json()
    assert {r["factory_id"] for r in records} == {factory_id}
    assert as_chart_data(records) == source_charts()[factory_id - 1]


@with_and_without_slash
def test_listing_an_unknown_factory_is_a_404(api_client, original_data, slash):
    response = api_client.get(f"{PRODUCTION}/999{slash}")

    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "query",
    ["after=yesterday", "limit=0", "ordering=colour", "cursor=forged"],
    ids=["bad-filter", "bad-limit", "bad-ordering", "bad-cursor"],
)
def test_an_unknown_factory_is_a_404_before_anything_its_parameters_say(
    api_client, original_data, query
):
    response = api_client.get(f"{PRODUCTION}/999?{query}")

    assert response.status_code == 404


def test_exporting_an_unknown_factory_is_a_404(manager, original_data):
    assert manager.get(f"{PRODUCTION}/999?format=csv&after=yesterday").status_code == 404


def test_a_bad_parameter_of_a_known_factory_is_still_a_400(api_client, original_data):
    assert api_client.get(f"{PRODUCTION}/1?after=yesterday").status_code == 400


def test_a_page_holding_records_does_not_ask_whether_the_factory_exists(
    api_client, original_data, django_assert_num_queries
):
    with django_assert_num_queries(1) as captured:
        response = api_client.get(f"{PRODUCTION}/1?limit=5")

    assert response.status_code == 200
    assert len(response.json()) == 5
    assert "inventory_factory" not in captured.captured_queries[0]["sql"]


def test_an_empty_page_of_an_unknown_factory_is_a_404_and_of_a_known_one_empty(
    api_client, original_data
):
    after_the_data = "after=2100-01-01T00:00:00Z"

    assert api_client.get(f"{PRODUCTION}/999?{after_the_data}").status_code == 404
    assert api_client.get(f"{PRODUCTION}/1?{after_the_data}").json() == []


@with_and_without_slash
def test_listing_a_factory_without_production_answers_an_empty_array(api_client, plant, slash):
    response = api_client.get(f"{PRODUCTION}/{plant.pk}{slash}")

    assert response.status_code == 200
    assert response.json() == []


# Queries do not grow with rows


@pytest.mark.parametrize("rows", [10, 500])
def test_listing_one_factory_takes_two_queries_however_many_rows(
    api_client, django_assert_max_num_queries, plant, rows
):
    create_records(plant, rows)

    with django_assert_max_num_queries(2):
        response = api_client.get(f"{PRODUCTION}/{plant.pk}")

    assert len(response.json()) == rows
