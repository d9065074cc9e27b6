import json
import re
from datetime import UTC, datetime

import pytest
from django.conf import settings

from inventory.models import Factory, Sprocket
from inventory.tests.factories import FactoryFactory, SprocketFactory
from production.models import ProductionRecord

API = "/sprocketFactory/v1"
SPROCKETS = f"{API}/sprockets"
FACTORIES = f"{API}/factories"
SOURCE_DIR = settings.BASE_DIR / "fixtures" / "source"

SPROCKET_FIELDS = {
    "id",
    "name",
    "teeth",
    "pitch_diameter",
    "outside_diameter",
    "pitch",
    "created_at",
    "updated_at",
}
FACTORY_FIELDS = {"id", "name", "timezone", "is_active", "created_at", "updated_at"}
MEASURES = ("pitch_diameter", "outside_diameter", "pitch")
UTC_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
NEW_SPROCKET = {"teeth": 12, "pitch_diameter": 38.5, "outside_diameter": 42.25, "pitch": 12.7}

pytestmark = pytest.mark.django_db
with_and_without_slash = pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])


def source_sprockets() -> list[dict]:
    return json.loads((SOURCE_DIR / "seed_sprocket_types.json").read_text())["sprockets"]


def is_json_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def give_production(factory: Factory) -> None:
    ProductionRecord.objects.create(
        factory=factory,
        time=datetime(2021, 1, 21, 2, 6, 58, tzinfo=UTC),
        sprocket_production_actual=30,
        sprocket_production_goal=32,
    )


# The challenge contract on the original data


@with_and_without_slash
def test_listing_sprockets_answers_the_original_sprocket_types(api_client, original_data, slash):
    response = api_client.get(f"{SPROCKETS}{slash}")

    assert response.status_code == 200
    assert [{k: s[k] for k in ("teeth", *MEASURES)} for s in response.json()] == (
        source_sprockets()
    )


def test_a_listed_sprocket_has_exactly_the_documented_fields(api_client, original_data):
    response = api_client.get(SPROCKETS)

    assert all(set(sprocket) == SPROCKET_FIELDS for sprocket in response.json())


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


@with_and_without_slash
def test_getting_one_sprocket_answers_it(api_client, original_data, slash):
    response = api_client.get(f"{SPROCKETS}/2{slash}")

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


@with_and_without_slash
def test_getting_an_unknown_sprocket_is_a_404(api_client, original_data, slash):
    response = api_client.get(f"{SPROCKETS}/999{slash}")

    assert response.status_code == 404
    assert "detail" in response.json()


@with_and_without_slash
def test_creating_a_sprocket_answers_201_with_the_new_object(manager, slash):
    response = manager.post(f"{SPROCKETS}{slash}", NEW_SPROCKET, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == SPROCKET_FIELDS
    assert {k: body[k] for k in NEW_SPROCKET} == NEW_SPROCKET
    assert Sprocket.objects.filter(pk=body["id"], teeth=12).exists()


@with_and_without_slash
def test_creating_a_sprocket_answers_a_location_that_points_at_it(manager, slash):
    response = manager.post(f"{SPROCKETS}{slash}", NEW_SPROCKET, format="json")

    created = response.json()
    assert response["Location"] == f"http://testserver{SPROCKETS}/{created['id']}"
    assert manager.get(response["Location"]).json() == created


def test_a_created_sprocket_answers_its_times_as_utc_strings_with_z(manager):
    body = manager.post(SPROCKETS, NEW_SPROCKET, format="json").json()

    assert UTC_Z.match(body["created_at"])
    assert UTC_Z.match(body["updated_at"])


@with_and_without_slash
def test_replacing_a_sprocket_stores_the_new_values(manager, original_data, slash):
    response = manager.put(f"{SPROCKETS}/1{slash}", {**NEW_SPROCKET, "name": "A"}, format="json")

    assert response.status_code == 200
    assert response.json()["id"] == 1
    stored = Sprocket.objects.get(pk=1)
    assert (stored.name, stored.teeth, float(stored.outside_diameter)) == ("A", 12, 42.25)


@with_and_without_slash
def test_patching_a_sprocket_changes_only_the_given_field(manager, slash):
    sprocket = SprocketFactory(teeth=5)

    response = manager.patch(f"{SPROCKETS}/{sprocket.pk}{slash}", {"teeth": 9}, format="json")

    assert response.status_code == 200
    stored = Sprocket.objects.get(pk=sprocket.pk)
    assert (stored.teeth, stored.name) == (9, sprocket.name)


@with_and_without_slash
def test_deleting_a_sprocket_answers_204_and_removes_it(manager, slash):
    sprocket = SprocketFactory()

    response = manager.delete(f"{SPROCKETS}/{sprocket.pk}{slash}")

    assert response.status_code == 204
    assert not Sprocket.objects.filter(pk=sprocket.pk).exists()


def test_deleting_an_unknown_sprocket_is_a_404(manager):
    assert manager.delete(f"{SPROCKETS}/999").status_code == 404


def test_read_only_fields_sent_back_on_create_are_ignored(manager):
    body = {
        **NEW_SPROCKET,
        "id": 999,
        "created_at": "2000-01-01T00:00:00Z",
        "updated_at": "2000-01-01T00:00:00Z",
    }

    response = manager.post(SPROCKETS, body, format="json")

    assert response.status_code == 201
    created = Sprocket.objects.get()
    assert created.pk != 999
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


def test_a_listed_factory_has_exactly_the_documented_fields(api_client, original_data):
    response = api_client.get(FACTORIES)

    assert all(set(factory) == FACTORY_FIELDS for factory in response.json())
    assert all(UTC_Z.match(f["created_at"]) for f in response.json())


@with_and_without_slash
def test_getting_one_factory_answers_it(api_client, original_data, slash):
    response = api_client.get(f"{FACTORIES}/3{slash}")

    assert response.status_code == 200
    assert response.json()["name"] == "Factory 3"


def test_getting_an_unknown_factory_is_a_404(api_client):
    assert api_client.get(f"{FACTORIES}/999").status_code == 404


@with_and_without_slash
def test_creating_a_factory_answers_201_with_a_location(manager, slash):
    response = manager.post(f"{FACTORIES}{slash}", {"name": "Plant Berlin"}, format="json")

    assert response.status_code == 201
    created = response.json()
    assert response["Location"] == f"http://testserver{FACTORIES}/{created['id']}"
    assert Factory.objects.filter(pk=created["id"], name="Plant Berlin").exists()


def test_a_new_factory_is_active_and_in_utc_by_default(manager):
    created = manager.post(FACTORIES, {"name": "Plant Berlin"}, format="json").json()

    assert (created["timezone"], created["is_active"]) == ("UTC", True)


@with_and_without_slash
def test_replacing_a_factory_stores_the_new_values(manager, slash):
    factory = FactoryFactory()
    body = {"name": "Plant Osaka", "timezone": "Asia/Tokyo", "is_active": True}

    response = manager.put(f"{FACTORIES}/{factory.pk}{slash}", body, format="json")

    assert response.status_code == 200
    stored = Factory.objects.get(pk=factory.pk)
    assert (stored.name, stored.timezone) == ("Plant Osaka", "Asia/Tokyo")


@with_and_without_slash
def test_archiving_a_factory_with_a_patch_keeps_it_and_its_production(manager, slash):
    factory = FactoryFactory()
    give_production(factory)

    response = manager.patch(
        f"{FACTORIES}/{factory.pk}{slash}", {"is_active": False}, format="json"
    )

    assert response.status_code == 200
    assert Factory.objects.get(pk=factory.pk).is_active is False
    assert ProductionRecord.objects.filter(factory=factory).count() == 1


@with_and_without_slash
def test_deleting_a_factory_without_production_answers_204(manager, slash):
    factory = FactoryFactory()

    response = manager.delete(f"{FACTORIES}/{factory.pk}{slash}")

    assert response.status_code == 204
    assert not Factory.objects.filter(pk=factory.pk).exists()


def test_deleting_a_factory_with_production_is_a_409(manager):
    factory = FactoryFactory()
    give_production(factory)

    response = manager.delete(f"{FACTORIES}/{factory.pk}")

    assert response.status_code == 409
    assert Factory.objects.filter(pk=factory.pk).exists()
    assert ProductionRecord.objects.filter(factory=factory).count() == 1


def test_the_409_for_a_factory_with_production_says_to_archive_it(manager):
    factory = FactoryFactory()
    give_production(factory)

    detail = manager.delete(f"{FACTORIES}/{factory.pk}").json()["detail"]

    assert "archive" in detail.lower()
    assert "is_active" in detail


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


# Queries do not grow with rows


@pytest.mark.parametrize("rows", [10, 500])
def test_listing_sprockets_takes_one_query_however_many_rows(
    api_client, django_assert_max_num_queries, rows
):
    Sprocket.objects.bulk_create(SprocketFactory.build_batch(rows))

    with django_assert_max_num_queries(1):
        response = api_client.get(SPROCKETS)

    assert len(response.json()) == rows


@pytest.mark.parametrize("rows", [10, 500])
def test_listing_factories_takes_one_query_however_many_rows(
    api_client, django_assert_max_num_queries, rows
):
    Factory.objects.bulk_create(FactoryFactory.build_batch(rows))

    with django_assert_max_num_queries(1):
        response = api_client.get(FACTORIES)

    assert len(response.json()) == rows


def test_refusing_to_delete_a_factory_with_production_reads_none_of_its_records(manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from production.tests.factories import ProductionRecordFactory

    factory = FactoryFactory()
    ProductionRecordFactory.create_batch(50, factory=factory)

    with CaptureQueriesContext(connection) as queries:
        response = manager.delete(f"{FACTORIES}/{factory.pk}")

    assert response.status_code == 409
    reads = [q["sql"] for q in queries if 'FROM "production_productionrecord"' in q["sql"]]
    assert reads
    assert all("LIMIT 1" in sql for sql in reads)
