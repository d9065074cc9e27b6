"""Cached reads (DESIGN §6): once a write is acknowledged, every later read reflects it.

Runs on the configured cache: local memory on the embedded default, Redis when REDIS_URL is
set. The tests commit for real (`transaction=True`): generations are bumped on commit.
"""

import json
import time
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.cache import cache_generations_bump, cache_generations_get
from inventory.models import FACTORIES, SPROCKETS, Factory, Sprocket
from inventory.tests.factories import FactoryFactory, SprocketFactory
from production.models import PRODUCTION, ProductionRecord

API = "/sprocketFactory/v1"
SPROCKETS_URL = f"{API}/sprockets"
FACTORIES_URL = f"{API}/factories"
PRODUCTION_URL = f"{API}/production"
CHART_DATA = f"{API}/factories/chart-data"
FIRST_MINUTE_UNIX = 1611194818
DATA_TABLES = ("production_productionrecord", "inventory_")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def plant():
    return FactoryFactory(name="Plant Berlin")


@pytest.fixture
def records(plant):
    return ProductionRecord.objects.bulk_create(
        ProductionRecord(
            factory=plant,
            time=datetime.fromtimestamp(FIRST_MINUTE_UNIX + 60 * i, UTC),
            sprocket_production_actual=30,
            sprocket_production_goal=32,
        )
        for i in range(3)
    )


def read(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()


def prime(client, url: str):
    """Read once: the answer is now in the cache, under the current generations."""
    return read(client, url)


def post_json(client, url: str, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def record_body(factory: Factory, minute: int = 10) -> dict:
    return {
        "factory_id": factory.pk,
        "time": FIRST_MINUTE_UNIX + 60 * minute,
        "sprocket_production_actual": 30,
        "sprocket_production_goal": 32,
    }


def data_table_queries(context: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in context.captured_queries if any(t in q["sql"] for t in DATA_TABLES)]


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


# The admin.


def admin_url(model, action: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


def test_a_sprocket_saved_in_the_admin_shows_in_its_cached_detail(api_client, staff_client):
    sprocket = SprocketFactory(teeth=5)
    url = f"{SPROCKETS_URL}/{sprocket.pk}"
    prime(api_client, url)

    response = staff_client.post(
        admin_url(Sprocket, "change", sprocket.pk),
        {"name": "Renamed", "teeth": 11, "pitch_diameter": 5, "outside_diameter": 6, "pitch": 1},
    )

    assert response.status_code == 302
    assert read(api_client, url)["teeth"] == 11


def test_a_sprocket_deleted_in_the_admin_disappears_from_a_cached_list(api_client, staff_client):
    sprocket = SprocketFactory()
    prime(api_client, SPROCKETS_URL)

    response = staff_client.post(admin_url(Sprocket, "delete", sprocket.pk), {"post": "yes"})

    assert response.status_code == 302
    assert read(api_client, SPROCKETS_URL) == []


def test_a_factory_saved_in_the_admin_shows_in_a_cached_production_search(
    api_client, staff_client, plant, records
):
    url = f"{PRODUCTION_URL}?contains=Plant Rio"
    prime(api_client, url)

    response = staff_client.post(
        admin_url(Factory, "change", plant.pk),
        {"name": "Plant Rio", "timezone": "UTC", "is_active": "on"},
    )

    assert response.status_code == 302
    assert len(read(api_client, url)) == 3


def test_a_factory_deleted_in_the_admin_disappears_from_a_cached_list(
    api_client, staff_client, plant
):
    prime(api_client, FACTORIES_URL)

    response = staff_client.post(admin_url(Factory, "delete", plant.pk), {"post": "yes"})

    assert response.status_code == 302
    assert read(api_client, FACTORIES_URL) == []


def test_factories_archived_by_the_admin_action_show_in_a_cached_list(
    api_client, staff_client, plant
):
    prime(api_client, FACTORIES_URL)

    staff_client.post(
        admin_url(Factory, "changelist"),
        {"action": "archive", "_selected_action": [plant.pk]},
    )

    assert [f["is_active"] for f in read(api_client, FACTORIES_URL)] == [False]


def test_a_record_saved_in_the_admin_shows_in_its_cached_detail(
    api_client, staff_client, plant, records
):
    url = f"{PRODUCTION_URL}/records/{records[0].pk}"
    prime(api_client, url)

    response = staff_client.post(
        admin_url(ProductionRecord, "change", records[0].pk),
        {
            "factory": plant.pk,
            "time_0": "2021-01-21",
            "time_1": "02:06:58",
            "sprocket_production_actual": 3,
            "sprocket_production_goal": 32,
        },
    )

    assert response.status_code == 302
    assert read(api_client, url)["sprocket_production_actual"] == 3


def test_a_record_deleted_in_the_admin_disappears_from_a_cached_list(
    api_client, staff_client, plant, records
):
    prime(api_client, PRODUCTION_URL)

    response = staff_client.post(
        admin_url(ProductionRecord, "delete", records[0].pk), {"post": "yes"}
    )

    assert response.status_code == 302
    assert len(read(api_client, PRODUCTION_URL)) == 2


def test_records_deleted_by_the_admin_action_disappear_from_a_cached_list(
    api_client, staff_client, records
):
    prime(api_client, PRODUCTION_URL)

    staff_client.post(
        admin_url(ProductionRecord, "changelist"),
        {"action": "delete_selected", "_selected_action": [r.pk for r in records], "post": "yes"},
    )

    assert read(api_client, PRODUCTION_URL) == []


# Management commands.


def test_loaddata_shows_in_cached_lists(api_client):
    prime(api_client, SPROCKETS_URL)
    prime(api_client, PRODUCTION_URL)

    call_command("loaddata", "sprockets", "factories", "production", verbosity=0)

    assert len(read(api_client, SPROCKETS_URL)) == 3
    assert len(read(api_client, PRODUCTION_URL)) == 60


def test_load_original_data_shows_in_cached_chart_data(api_client):
    prime(api_client, CHART_DATA)

    call_command("load_original_data", verbosity=0)

    assert len(read(api_client, CHART_DATA)["factories"]) == 3


def test_generate_production_shows_in_a_cached_list(api_client):
    prime(api_client, PRODUCTION_URL)

    call_command(
        "generate_production",
        "--factories",
        "1",
        "--days",
        "1",
        "--interval",
        "3600",
        stdout=StringIO(),
    )

    assert len(read(api_client, PRODUCTION_URL)) == 24


def test_flush_shows_in_a_cached_list(api_client):
    SprocketFactory()
    prime(api_client, SPROCKETS_URL)

    call_command("flush", "--no-input", verbosity=0)

    assert read(api_client, SPROCKETS_URL) == []


# Not a transactional test: its teardown would itself flush, and fail the same way.
@pytest.mark.django_db
def test_flush_empties_the_database_on_postgresql(on_postgresql, plant):
    # No production rows here: their deferred foreign-key checks would block any TRUNCATE
    # in this (never committed) transaction.
    call_command("flush", "--no-input", verbosity=0)

    assert not Factory.objects.exists()


# ETags and conditional requests.


def test_a_read_carries_an_etag(api_client):
    assert api_client.get(SPROCKETS_URL)["ETag"].startswith('"')


def test_a_matching_if_none_match_is_a_304_without_a_body(api_client):
    etag = api_client.get(SPROCKETS_URL)["ETag"]

    response = api_client.get(SPROCKETS_URL, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


def test_a_weak_or_listed_if_none_match_also_matches(api_client):
    etag = api_client.get(SPROCKETS_URL)["ETag"]

    response = api_client.get(SPROCKETS_URL, HTTP_IF_NONE_MATCH=f'"other", W/{etag}')

    assert response.status_code == 304


def test_another_query_has_another_etag(api_client):
    assert (
        api_client.get(f"{SPROCKETS_URL}?limit=1")["ETag"]
        != api_client.get(f"{SPROCKETS_URL}?limit=2")["ETag"]
    )


def test_after_a_write_the_old_etag_no_longer_matches(api_client, manager):
    etag = api_client.get(SPROCKETS_URL)["ETag"]
    SprocketFactory()

    response = api_client.get(SPROCKETS_URL, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert len(response.json()) == 1
    assert response["ETag"] != etag


def test_an_anonymous_304_makes_no_query(api_client, records, django_assert_num_queries):
    etag = api_client.get(PRODUCTION_URL)["ETag"]

    with django_assert_num_queries(0):
        response = api_client.get(PRODUCTION_URL, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304


def test_an_authenticated_304_does_not_query_the_data_tables(viewer, records):
    etag = viewer.get(PRODUCTION_URL)["ETag"]

    with CaptureQueriesContext(connection) as queries:
        response = viewer.get(PRODUCTION_URL, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert data_table_queries(queries) == []


@pytest.mark.parametrize("url", [PRODUCTION_URL, CHART_DATA, SPROCKETS_URL, FACTORIES_URL])
def test_a_cached_read_does_not_query_the_data_tables(viewer, records, url):
    first = viewer.get(url)

    with CaptureQueriesContext(connection) as queries:
        second = viewer.get(url)

    assert second.json() == first.json()
    assert data_table_queries(queries) == []


def test_a_cached_anonymous_read_makes_no_query(api_client, records, django_assert_num_queries):
    first = api_client.get(PRODUCTION_URL)

    with django_assert_num_queries(0):
        second = api_client.get(PRODUCTION_URL)

    assert second.content == first.content


def test_a_cached_page_keeps_its_link_header(api_client, records):
    url = f"{PRODUCTION_URL}?limit=1"
    first = api_client.get(url)

    second = api_client.get(url)

    assert 'rel="next"' in first["Link"]
    assert second["Link"] == first["Link"]


# Private responses when anonymous reads are off.


def test_with_anonymous_reads_off_responses_are_private(viewer, settings):
    settings.ANONYMOUS_READ = False

    response = viewer.get(SPROCKETS_URL)

    assert response["Cache-Control"] == "private"
    vary = {v.strip().lower() for v in response["Vary"].split(",")}
    assert {"authorization", "cookie", "accept"} <= vary


def test_with_anonymous_reads_off_a_304_is_private_too(viewer, settings):
    settings.ANONYMOUS_READ = False
    etag = viewer.get(SPROCKETS_URL)["ETag"]

    response = viewer.get(SPROCKETS_URL, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response["Cache-Control"] == "private"


def test_with_anonymous_reads_on_responses_are_not_marked_private(api_client):
    assert "private" not in api_client.get(SPROCKETS_URL).get("Cache-Control", "")


def test_permissions_are_checked_before_the_cache(viewer, api_client, settings, records):
    settings.ANONYMOUS_READ = False
    prime(viewer, PRODUCTION_URL)

    response = api_client.get(PRODUCTION_URL)

    assert response.status_code == 401


def test_an_anonymous_if_none_match_is_refused_when_anonymous_reads_are_off(
    viewer, api_client, settings
):
    settings.ANONYMOUS_READ = False
    etag = viewer.get(SPROCKETS_URL)["ETag"]

    response = api_client.get(SPROCKETS_URL, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 401


def test_the_browsable_api_is_not_served_from_the_json_cache(api_client, records):
    prime(api_client, PRODUCTION_URL)

    response = api_client.get(PRODUCTION_URL, HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"<html" in response.content


def test_the_browsable_api_does_not_fill_the_json_cache(api_client, records):
    api_client.get(PRODUCTION_URL, HTTP_ACCEPT="text/html")

    response = api_client.get(PRODUCTION_URL)

    assert response["Content-Type"] == "application/json"
    assert len(response.json()) == 3


# Generations.


def test_each_bump_increments_the_generation_by_one():
    (before,) = cache_generations_get([SPROCKETS])

    for _ in range(3):
        cache_generations_bump([SPROCKETS])

    assert cache_generations_get([SPROCKETS]) == (before + 3,)


def test_a_bump_leaves_the_other_resources_alone():
    before = cache_generations_get([FACTORIES, PRODUCTION])

    cache_generations_bump([SPROCKETS])

    assert cache_generations_get([FACTORIES, PRODUCTION]) == before


def test_a_missing_generation_is_recreated_from_the_clock():
    cache.delete("generation:sprockets")
    now = time.time_ns() // 1000

    (generation,) = cache_generations_get([SPROCKETS])

    assert generation >= now


def test_bumping_a_missing_generation_restarts_it_from_the_clock():
    cache.delete("generation:sprockets")
    now = time.time_ns() // 1000

    cache_generations_bump([SPROCKETS])

    assert cache_generations_get([SPROCKETS])[0] >= now


def test_a_transaction_of_many_writes_bumps_once():
    (before,) = cache_generations_get([SPROCKETS])

    with transaction.atomic():
        SprocketFactory.create_batch(3)

    assert cache_generations_get([SPROCKETS]) == (before + 1,)


def test_a_write_bumps_only_after_it_commits():
    (before,) = cache_generations_get([SPROCKETS])

    with transaction.atomic():
        SprocketFactory()
        during = cache_generations_get([SPROCKETS])

    assert during == (before,)
    assert cache_generations_get([SPROCKETS]) == (before + 1,)


def test_a_rolled_back_write_does_not_bump():
    (before,) = cache_generations_get([SPROCKETS])

    def create_then_fail() -> None:
        with transaction.atomic():
            SprocketFactory()
            raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError):
        create_then_fail()

    assert cache_generations_get([SPROCKETS]) == (before,)
