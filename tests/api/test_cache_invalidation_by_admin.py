"""Cached reads (DESIGN §6) after writes in the admin: saves, deletes and bulk actions show in
every later read.

Runs on the configured cache: local memory on the embedded default, Redis when REDIS_URL is set.
The tests commit for real (`transaction=True`): generations are bumped on commit.
"""

import pytest
from django.urls import reverse

from inventory.models import Factory, Sprocket
from inventory.tests.factories import SprocketFactory
from production.models import ProductionRecord
from tests.api.cache_helpers import FACTORIES_URL, PRODUCTION_URL, SPROCKETS_URL, prime, read

pytestmark = pytest.mark.django_db(transaction=True)


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
