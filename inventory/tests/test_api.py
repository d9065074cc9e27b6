"""/sprockets and /factories: the standard endpoints by the shared mixins, then what is theirs."""

import json
import re
from datetime import UTC, datetime

import pytest
from django.conf import settings

from core.testing.api import APIViewTestCases
from inventory.models import Factory, Sprocket
from inventory.tests.factories import FactoryFactory, SprocketFactory

API = "/sprocketFactory/v1"
SPROCKETS = f"{API}/sprockets"
FACTORIES = f"{API}/factories"
SOURCE_DIR = settings.BASE_DIR / "fixtures" / "source"

MEASURES = ("pitch_diameter", "outside_diameter", "pitch")
UTC_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
NEW_SPROCKET = {"teeth": 12, "pitch_diameter": 38.5, "outside_diameter": 42.25, "pitch": 12.7}
# Beyond every id a sequence hands out in a run: ids are not reset between tests on PostgreSQL.
UNISSUED_ID = 10**9

pytestmark = pytest.mark.django_db


def source_sprockets() -> list[dict]:
    return json.loads((SOURCE_DIR / "seed_sprocket_types.json").read_text())["sprockets"]


def is_json_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# List, detail, create, update, delete and who may: the same on every resource


class TestSprocketAPI(APIViewTestCases.APIViewTestCase):
    model = Sprocket
    factory = SprocketFactory
    list_url = SPROCKETS
    detail_url = f"{SPROCKETS}/{{pk}}"
    fields = {
        "id",
        "name",
        "teeth",
        "pitch_diameter",
        "outside_diameter",
        "pitch",
        "created_at",
        "updated_at",
    }
    create_data = NEW_SPROCKET
    update_data = {**NEW_SPROCKET, "name": "Roller 40"}
    partial_update_data = {"teeth": 9}
    max_list_queries = 1


class TestFactoryAPI(APIViewTestCases.APIViewTestCase):
    model = Factory
    factory = FactoryFactory
    list_url = FACTORIES
    detail_url = f"{FACTORIES}/{{pk}}"
    fields = {
        "id",
        "name",
        "timezone",
        "is_active",
        "working_hours_start",
        "working_hours_end",
        "created_at",
        "updated_at",
    }
    create_data = {"name": "Plant Berlin"}
    update_data = {"name": "Plant Osaka", "timezone": "Asia/Tokyo", "is_active": True}
    partial_update_data = {"is_active": False}
    max_list_queries = 1


# The challenge contract on the original data


def test_listing_sprockets_answers_the_original_sprocket_types(api_client, original_data):
    response = api_client.get(SPROCKETS)

    assert response.status_code == 200
    assert [{k: s[k] for k in ("teeth", *MEASURES)} for s in response.json()] == (
        source_sprockets()
    )


def test_sprocket_measures_are_json_numbers_not_strings(api_client, original_data):
    response = api_client.get(SPROCKETS)

    for sprocket in response.json():
        assert all(is_json_number(sprocket[m]) for m in MEASURES), sprocket
        assert type(sprocket["teeth"]) is int


def test_sprocket_ids_are_json_integers_and_names_are_null(api_client, original_data):
    response = api_client.get(SPROCKETS)

    assert [(s["id"], s["name"]) for s in response.json()] == [(1, None), (2, None), (3, None)]


def test_sprocket_times_are_utc_strings_with_z(api_client, original_data):
    sprocket = api_client.get(SPROCKETS).json()[0]

    assert sprocket["created_at"] == "2021-01-21T02:06:58Z"
    assert sprocket["updated_at"] == "2021-01-21T02:06:58Z"


def test_getting_an_original_sprocket_answers_it(api_client, original_data):
    response = api_client.get(f"{SPROCKETS}/2")

    assert response.status_code == 200
    assert response.json() == {
        "id": 2,
        "name": None,
        "teeth": 5,
        "pitch_diameter": 5,
        "outside_diameter": 6,
        "pitch": 1,
        "created_at": "2021-01-21T02:06:58Z",
        "updated_at": "2021-01-21T02:06:58Z",
    }


def test_a_created_sprocket_answers_its_times_as_utc_strings_with_z(manager):
    body = manager.post(SPROCKETS, NEW_SPROCKET, format="json").json()

    assert UTC_Z.match(body["created_at"])
    assert UTC_Z.match(body["updated_at"])


def test_read_only_fields_sent_back_on_create_are_ignored(manager):
    body = {
        **NEW_SPROCKET,
        "id": UNISSUED_ID,
        "created_at": "2000-01-01T00:00:00Z",
        "updated_at": "2000-01-01T00:00:00Z",
    }

    response = manager.post(SPROCKETS, body, format="json")

    assert response.status_code == 201
    created = Sprocket.objects.get()
    assert created.pk != UNISSUED_ID
    assert created.created_at.year != 2000


def test_a_sprocket_read_and_sent_back_with_a_change_keeps_its_id_and_created_at(
    manager, original_data
):
    read = manager.get(f"{SPROCKETS}/1").json()

    response = manager.put(
        f"{SPROCKETS}/1", {**read, "id": 2, "created_at": "2000-01-01", "teeth": 7}, format="json"
    )

    assert response.status_code == 200
    stored = Sprocket.objects.get(pk=1)
    assert stored.teeth == 7
    assert stored.created_at == datetime(2021, 1, 21, 2, 6, 58, tzinfo=UTC)
    assert Sprocket.objects.get(pk=2).teeth == 5


def test_an_unknown_field_is_a_400_naming_it(manager):
    response = manager.post(SPROCKETS, {**NEW_SPROCKET, "colour": "red"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["colour"]
    assert Sprocket.objects.count() == 0


def test_an_unknown_field_in_a_patch_is_a_400(manager):
    sprocket = SprocketFactory()

    response = manager.patch(f"{SPROCKETS}/{sprocket.pk}", {"teeth_count": 3}, format="json")

    assert response.status_code == 400
    assert "teeth_count" in response.json()


def test_an_outside_diameter_smaller_than_the_pitch_diameter_is_a_400(manager):
    body = {**NEW_SPROCKET, "pitch_diameter": 10, "outside_diameter": 9.9999}

    response = manager.post(SPROCKETS, body, format="json")

    assert response.status_code == 400
    assert "outside_diameter" in response.json()
    assert Sprocket.objects.count() == 0


def test_an_outside_diameter_equal_to_the_pitch_diameter_is_allowed(manager):
    body = {**NEW_SPROCKET, "pitch_diameter": 10, "outside_diameter": 10}

    assert manager.post(SPROCKETS, body, format="json").status_code == 201


def test_patching_the_outside_diameter_below_the_stored_pitch_diameter_is_a_400(manager):
    sprocket = SprocketFactory(pitch_diameter=5, outside_diameter=6)

    response = manager.patch(f"{SPROCKETS}/{sprocket.pk}", {"outside_diameter": 4}, format="json")

    assert response.status_code == 400
    assert "outside_diameter" in response.json()
    assert Sprocket.objects.get(pk=sprocket.pk).outside_diameter == 6


def test_a_sprocket_with_zero_teeth_is_a_400(manager):
    response = manager.post(SPROCKETS, {**NEW_SPROCKET, "teeth": 0}, format="json")

    assert response.status_code == 400
    assert "teeth" in response.json()


@pytest.mark.parametrize("measure", MEASURES)
@pytest.mark.parametrize("value", [0, -1])
def test_a_measure_that_is_not_positive_is_a_400(manager, measure, value):
    body = {**NEW_SPROCKET, measure: value}

    response = manager.post(SPROCKETS, body, format="json")

    assert response.status_code == 400
    assert measure in response.json()


@pytest.mark.parametrize("value", ["wide", "NaN", "Infinity", 1e20, True])
def test_a_measure_that_is_no_storable_number_is_a_400(manager, value):
    response = manager.post(SPROCKETS, {**NEW_SPROCKET, "pitch": value}, format="json")

    assert response.status_code == 400
    assert "pitch" in response.json()


def test_a_missing_required_field_is_a_400_naming_it(manager):
    body = {k: v for k, v in NEW_SPROCKET.items() if k != "teeth"}

    response = manager.post(SPROCKETS, body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["teeth"]


def test_a_sprocket_name_already_taken_is_a_400(manager):
    SprocketFactory(name="Roller 40")

    response = manager.post(SPROCKETS, {**NEW_SPROCKET, "name": "Roller 40"}, format="json")

    assert response.status_code == 400
    assert "name" in response.json()


def test_an_empty_sprocket_name_is_stored_as_null(manager):
    body = manager.post(SPROCKETS, {**NEW_SPROCKET, "name": "  "}, format="json").json()

    assert body["name"] is None
    assert Sprocket.objects.get(pk=body["id"]).name is None


# Factories


def test_listing_factories_answers_the_original_factories(api_client, original_data):
    response = api_client.get(FACTORIES)

    assert response.status_code == 200
    assert [(f["id"], f["name"], f["timezone"], f["is_active"]) for f in response.json()] == [
        (1, "Factory 1", "UTC", True),
        (2, "Factory 2", "UTC", True),
        (3, "Factory 3", "UTC", True),
    ]


def test_factory_times_are_utc_strings_with_z(api_client, original_data):
    response = api_client.get(FACTORIES)

    assert all(UTC_Z.match(f["created_at"]) for f in response.json())
    assert all(UTC_Z.match(f["updated_at"]) for f in response.json())


def test_a_new_factory_is_active_and_in_utc_by_default(manager):
    created = manager.post(FACTORIES, {"name": "Plant Berlin"}, format="json").json()

    assert (created["timezone"], created["is_active"]) == ("UTC", True)


def test_a_factory_in_an_unknown_timezone_is_a_400(manager):
    response = manager.post(FACTORIES, {"name": "Plant", "timezone": "Mars/Base"}, format="json")

    assert response.status_code == 400
    assert "timezone" in response.json()


def test_a_factory_name_already_taken_is_a_400(manager):
    FactoryFactory(name="Plant Berlin")

    response = manager.post(FACTORIES, {"name": "Plant Berlin"}, format="json")

    assert response.status_code == 400
    assert "name" in response.json()


def test_a_factory_without_a_name_is_a_400(manager):
    response = manager.post(FACTORIES, {"timezone": "UTC"}, format="json")

    assert response.status_code == 400
    assert "name" in response.json()


def test_an_unknown_factory_field_is_a_400_naming_it(manager):
    response = manager.post(FACTORIES, {"name": "Plant", "city": "Berlin"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["city"]


def test_a_factory_read_and_sent_back_is_accepted_unchanged(manager):
    factory = FactoryFactory(name="Plant Lyon", timezone="Europe/Paris")
    read = manager.get(f"{FACTORIES}/{factory.pk}").json()

    response = manager.put(f"{FACTORIES}/{factory.pk}", read, format="json")

    assert response.status_code == 200
    assert {k: response.json()[k] for k in ("id", "name", "timezone", "created_at")} == {
        k: read[k] for k in ("id", "name", "timezone", "created_at")
    }
