"""Cached reads (DESIGN §6) after writes through the API, one by one and in bulk: once a write is
acknowledged, every later read reflects it.

Runs on the configured cache: local memory on the embedded default, Redis when REDIS_URL is set.
The tests commit for real (`transaction=True`): generations are bumped on commit.
"""

import json

import pytest

from inventory.models import Factory
from inventory.tests.factories import SprocketFactory
from tests.api.cache_helpers import (
    CHART_DATA,
    FACTORIES_URL,
    FIRST_MINUTE_UNIX,
    PRODUCTION_URL,
    SPROCKETS_URL,
    prime,
    read,
)

pytestmark = pytest.mark.django_db(transaction=True)


def post_json(client, url: str, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def record_body(factory: Factory, minute: int = 10) -> dict:
    return {
        "factory_id": factory.pk,
        "time": FIRST_MINUTE_UNIX + 60 * minute,
        "sprocket_production_actual": 30,
        "sprocket_production_goal": 32,
    }


# API writes.


def test_a_sprocket_created_through_the_api_shows_in_a_cached_list(api_client, manager):
    prime(api_client, SPROCKETS_URL)

    created = post_json(
        manager, SPROCKETS_URL, {"teeth": 7, "pitch_diameter": 5, "outside_diameter": 6, "pitch": 1}
    )

    assert created.status_code == 201
    assert [s["teeth"] for s in read(api_client, SPROCKETS_URL)] == [7]


def test_a_sprocket_changed_through_the_api_shows_in_its_cached_detail(api_client, manager):
    url = f"{SPROCKETS_URL}/{SprocketFactory(teeth=5).pk}"
    prime(api_client, url)

    manager.patch(url, {"teeth": 9}, format="json")

    assert read(api_client, url)["teeth"] == 9


def test_a_sprocket_deleted_through_the_api_disappears_from_a_cached_list(api_client, manager):
    sprocket = SprocketFactory()
    prime(api_client, SPROCKETS_URL)

    assert manager.delete(f"{SPROCKETS_URL}/{sprocket.pk}").status_code == 204

    assert read(api_client, SPROCKETS_URL) == []


def test_a_factory_created_through_the_api_shows_in_a_cached_list(api_client, manager):
    prime(api_client, FACTORIES_URL)

    post_json(manager, FACTORIES_URL, {"name": "Plant Lagos"})

    assert [f["name"] for f in read(api_client, FACTORIES_URL)] == ["Plant Lagos"]


def test_a_factory_changed_through_the_api_shows_in_its_cached_detail(api_client, manager, plant):
    url = f"{FACTORIES_URL}/{plant.pk}"
    prime(api_client, url)

    manager.patch(url, {"is_active": False}, format="json")

    assert read(api_client, url)["is_active"] is False


def test_a_factory_deleted_through_the_api_disappears_from_a_cached_list(
    api_client, manager, plant
):
    prime(api_client, FACTORIES_URL)

    assert manager.delete(f"{FACTORIES_URL}/{plant.pk}").status_code == 204

    assert read(api_client, FACTORIES_URL) == []


def test_a_record_created_through_the_api_shows_in_a_cached_list(api_client, manager, plant):
    prime(api_client, PRODUCTION_URL)

    assert post_json(manager, PRODUCTION_URL, record_body(plant)).status_code == 201

    assert len(read(api_client, PRODUCTION_URL)) == 1


def test_a_record_created_through_the_api_shows_in_cached_chart_data(api_client, manager, plant):
    prime(api_client, CHART_DATA)

    post_json(manager, PRODUCTION_URL, record_body(plant, minute=0))

    (entry,) = read(api_client, CHART_DATA)["factories"]
    assert entry["factory"]["chart_data"]["time"] == [FIRST_MINUTE_UNIX]


def test_a_record_changed_through_the_api_shows_in_its_cached_detail(api_client, manager, records):
    url = f"{PRODUCTION_URL}/records/{records[0].pk}"
    prime(api_client, url)

    manager.patch(url, {"sprocket_production_actual": 1}, format="json")

    assert read(api_client, url)["sprocket_production_actual"] == 1


def test_a_record_deleted_through_the_api_disappears_from_a_cached_factory_list(
    api_client, manager, plant, records
):
    url = f"{PRODUCTION_URL}/{plant.pk}"
    prime(api_client, url)

    assert manager.delete(f"{PRODUCTION_URL}/records/{records[0].pk}").status_code == 204

    assert [r["id"] for r in read(api_client, url)] == [records[1].pk, records[2].pk]


def test_records_deleted_by_window_disappear_from_a_cached_factory_list(
    api_client, manager, plant, records
):
    url = f"{PRODUCTION_URL}/{plant.pk}"
    prime(api_client, url)

    deleted = manager.delete(f"{url}?after={FIRST_MINUTE_UNIX}&before={FIRST_MINUTE_UNIX + 120}")

    assert deleted.json() == {"deleted": 2}
    assert [r["id"] for r in read(api_client, url)] == [records[2].pk]


def test_a_factory_rename_shows_in_a_cached_production_search(api_client, manager, plant, records):
    url = f"{PRODUCTION_URL}?contains=Plant Rio"
    assert prime(api_client, url) == []

    manager.patch(f"{FACTORIES_URL}/{plant.pk}", {"name": "Plant Rio"}, format="json")

    assert len(read(api_client, url)) == 3


# Bulk writes.


def test_production_bulk_shows_in_a_cached_factory_list(api_client, manager, plant):
    url = f"{PRODUCTION_URL}/{plant.pk}"
    prime(api_client, url)

    post_json(manager, f"{PRODUCTION_URL}/bulk", [record_body(plant, m) for m in range(4)])

    assert len(read(api_client, url)) == 4


def test_factories_created_by_production_bulk_show_in_a_cached_factory_list(api_client, manager):
    prime(api_client, FACTORIES_URL)
    chart = {"sprocket_production_actual": [1], "sprocket_production_goal": [2], "time": [0]}

    post_json(
        manager, f"{PRODUCTION_URL}/bulk", {"factories": [{"factory": {"chart_data": chart}}]}
    )

    assert [f["name"] for f in read(api_client, FACTORIES_URL)] == ["Factory 1"]


def test_sprocket_bulk_shows_in_a_cached_list(api_client, manager):
    prime(api_client, SPROCKETS_URL)
    sprocket = {"teeth": 5, "pitch_diameter": 5, "outside_diameter": 6, "pitch": 1}

    post_json(manager, f"{SPROCKETS_URL}/bulk", [sprocket, sprocket])

    assert len(read(api_client, SPROCKETS_URL)) == 2


def test_factory_bulk_shows_in_a_cached_list(api_client, manager):
    prime(api_client, FACTORIES_URL)

    post_json(manager, f"{FACTORIES_URL}/bulk", [{"name": "Plant Lagos"}, {"name": "Plant Rio"}])

    assert len(read(api_client, FACTORIES_URL)) == 2
