"""Single production records: the standard endpoints by the shared mixins, then what is theirs.

`POST /production` creates one; `/production/records/{id}` reads, replaces, changes and deletes it.
"""

from datetime import UTC, datetime

import pytest

from core.testing.api import APIViewTestCases
from inventory.models import Factory
from inventory.tests.factories import FactoryFactory
from production.models import ProductionRecord
from production.tests.factories import (
    FIRST_MINUTE,
    FIRST_MINUTE_UNIX,
    MINUTE,
    ProductionRecordFactory,
    create_records,
    source_charts,
)

API = "/sprocketFactory/v1"
PRODUCTION = f"{API}/production"
RECORDS = f"{API}/production/records"
# Beyond every id a sequence hands out in a run: ids are not reset between tests on PostgreSQL.
UNISSUED_ID = 10**9

pytestmark = pytest.mark.django_db


def new_record(owner: Factory, **overrides) -> dict:
    return {
        "factory_id": owner.pk,
        "time": "2021-01-21T02:06:58Z",
        "sprocket_production_actual": 30,
        "sprocket_production_goal": 32,
        **overrides,
    }


# List, detail, create, update, delete and who may: the same on every resource


class TestProductionRecordAPI(APIViewTestCases.APIViewTestCase):
    model = ProductionRecord
    factory = ProductionRecordFactory
    list_url = PRODUCTION
    detail_url = f"{RECORDS}/{{pk}}"
    fields = {
        "id",
        "factory_id",
        "sprocket_production_actual",
        "sprocket_production_goal",
        "time",
    }
    roles = {
        **APIViewTestCases.APIViewTestCase.roles,
        "add": ("operator", "manager"),
        "change": ("operator", "manager"),
    }
    create_data = {
        "time": "2021-01-21T02:06:58Z",
        "sprocket_production_actual": 30,
        "sprocket_production_goal": 32,
    }
    update_data = {
        "time": "2021-02-01T00:00:00Z",
        "sprocket_production_actual": 7,
        "sprocket_production_goal": 32,
    }
    partial_update_data = {"sprocket_production_goal": 40}
    max_list_queries = 1

    def create_objects(self, count: int) -> list[ProductionRecord]:
        """Ten records a factory, so the number of factories grows with the records."""
        return [
            record
            for start in range(0, count, 10)
            for record in create_records(FactoryFactory(), min(10, count - start))
        ]

    def build_create_data(self) -> dict:
        return {**self.create_data, "factory_id": FactoryFactory().pk}

    def build_update_data(self, obj: ProductionRecord) -> dict:
        return {**self.update_data, "factory_id": obj.factory_id}


# One record


def test_getting_an_original_record_answers_it(api_client, original_data):
    first_of_factory_2 = datetime(2021, 1, 21, 4, 53, 38, tzinfo=UTC)
    record = ProductionRecord.objects.get(factory_id=2, time=first_of_factory_2)

    response = api_client.get(f"{RECORDS}/{record.pk}")

    source = source_charts()[1]
    assert response.status_code == 200
    assert response.json() == {
        "id": record.pk,
        "factory_id": 2,
        "sprocket_production_actual": source["sprocket_production_actual"][0],
        "sprocket_production_goal": source["sprocket_production_goal"][0],
        "time": "2021-01-21T04:53:38Z",
    }
    assert source["time"][0] == int(first_of_factory_2.timestamp())


def test_patching_factory_id_moves_a_record_to_another_factory(manager, plant):
    other = FactoryFactory()
    (record,) = create_records(plant, 1)

    response = manager.patch(f"{RECORDS}/{record.pk}", {"factory_id": other.pk}, format="json")

    assert response.status_code == 200
    assert response.json()["factory_id"] == other.pk
    assert ProductionRecord.objects.get(pk=record.pk).factory_id == other.pk


def test_a_record_read_and_sent_back_is_accepted(manager, plant):
    (record,) = create_records(plant, 1)
    read = manager.get(f"{RECORDS}/{record.pk}").json()

    response = manager.put(f"{RECORDS}/{record.pk}", read, format="json")

    assert response.status_code == 200
    assert response.json() == read


def test_an_id_sent_on_create_is_ignored(manager, plant):
    response = manager.post(PRODUCTION, new_record(plant, id=UNISSUED_ID), format="json")

    assert response.status_code == 201
    assert ProductionRecord.objects.get().pk != UNISSUED_ID


def test_an_id_sent_on_replace_does_not_change_the_record_id(manager, plant):
    first, second = create_records(plant, 2)

    response = manager.put(
        f"{RECORDS}/{first.pk}", new_record(plant, id=second.pk, time="2022-01-01"), format="json"
    )

    assert response.status_code == 200
    assert response.json()["id"] == first.pk
    assert ProductionRecord.objects.get(pk=second.pk).time == FIRST_MINUTE + MINUTE


# Conflicts and bad input


def test_a_second_record_for_the_same_factory_and_time_is_a_409(manager, plant):
    create_records(plant, 1)

    response = manager.post(PRODUCTION, new_record(plant), format="json")

    assert response.status_code == 409
    assert "detail" in response.json()
    assert ProductionRecord.objects.count() == 1


def test_the_same_time_written_differently_is_still_a_409(manager, plant):
    create_records(plant, 1)

    response = manager.post(
        PRODUCTION, new_record(plant, time="2021-01-21T04:06:58.4+02:00"), format="json"
    )

    assert response.status_code == 409
    assert ProductionRecord.objects.count() == 1


def test_the_same_time_in_another_factory_is_allowed(manager, plant):
    create_records(plant, 1)

    response = manager.post(PRODUCTION, new_record(FactoryFactory()), format="json")

    assert response.status_code == 201


def test_moving_a_record_onto_another_records_time_is_a_409(manager, plant):
    _, second = create_records(plant, 2)

    response = manager.patch(
        f"{RECORDS}/{second.pk}", {"time": "2021-01-21T02:06:58Z"}, format="json"
    )

    assert response.status_code == 409
    assert ProductionRecord.objects.get(pk=second.pk).time == FIRST_MINUTE + MINUTE


def test_an_unknown_factory_id_is_a_400_naming_it(manager, plant):
    response = manager.post(PRODUCTION, new_record(plant, factory_id=plant.pk + 1), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["factory_id"]
    assert ProductionRecord.objects.count() == 0


@pytest.mark.parametrize("factory_id", [0, -1, 2**63, "one", None])
def test_a_factory_id_that_is_no_id_is_a_400(manager, plant, factory_id):
    response = manager.post(PRODUCTION, new_record(plant, factory_id=factory_id), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["factory_id"]


@pytest.mark.parametrize("field", ["sprocket_production_actual", "sprocket_production_goal"])
@pytest.mark.parametrize("value", [-1, 2**31, 1.5, "many", None])
def test_a_count_that_is_no_whole_number_from_zero_is_a_400(manager, plant, field, value):
    response = manager.post(PRODUCTION, new_record(plant, **{field: value}), format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_counts_of_zero_are_accepted(manager, plant):
    body = new_record(plant, sprocket_production_actual=0, sprocket_production_goal=0)

    assert manager.post(PRODUCTION, body, format="json").status_code == 201


def test_patching_actual_to_minus_one_is_a_400_and_keeps_the_record(manager, plant):
    (record,) = create_records(plant, 1)

    response = manager.patch(
        f"{RECORDS}/{record.pk}", {"sprocket_production_actual": -1}, format="json"
    )

    assert response.status_code == 400
    assert ProductionRecord.objects.get(pk=record.pk).sprocket_production_actual == 30


def test_an_unknown_record_field_is_a_400_naming_it(manager, plant):
    response = manager.post(PRODUCTION, new_record(plant, factory="Plant"), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["factory"]


def test_a_record_without_a_time_is_a_400(manager, plant):
    body = {k: v for k, v in new_record(plant).items() if k != "time"}

    response = manager.post(PRODUCTION, body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["time"]


# Time input: ISO 8601 date or datetime (no offset = UTC) or unix seconds


@pytest.mark.parametrize(
    ("time_in", "stored"),
    [
        (FIRST_MINUTE_UNIX, FIRST_MINUTE),
        (str(FIRST_MINUTE_UNIX), FIRST_MINUTE),
        ("2021-01-21", datetime(2021, 1, 21, tzinfo=UTC)),
        ("2021-01-21T02:06:58Z", FIRST_MINUTE),
        ("2021-01-21T02:06:58", FIRST_MINUTE),
        ("2021-01-21T02:06:58+00:00", FIRST_MINUTE),
        ("2021-01-21T04:06:58+02:00", FIRST_MINUTE),
        ("2021-01-20T21:06:58-05:00", FIRST_MINUTE),
        ("2021-01-21T02:06:58.999Z", FIRST_MINUTE),
        ("2021-01-21T02:06:58.000001", FIRST_MINUTE),
    ],
    ids=[
        "unix-int",
        "unix-string",
        "date",
        "z",
        "no-offset",
        "zero-offset",
        "plus-two",
        "minus-five",
        "sub-second",
        "sub-second-no-offset",
    ],
)
def test_a_time_in_any_accepted_form_is_stored_in_utc_to_the_whole_second(
    manager, plant, time_in, stored
):
    response = manager.post(PRODUCTION, new_record(plant, time=time_in), format="json")

    assert response.status_code == 201, response.content
    record = ProductionRecord.objects.get(pk=response.json()["id"])
    assert record.time == stored
    assert record.time.microsecond == 0


def test_a_time_with_an_offset_is_answered_in_utc_with_z(manager, plant):
    response = manager.post(
        PRODUCTION, new_record(plant, time="2021-01-21T04:06:58.75+02:00"), format="json"
    )

    assert response.json()["time"] == "2021-01-21T02:06:58Z"


@pytest.mark.parametrize(
    "time_in",
    ["yesterday", "2021-02-30", "10000-01-01", 10**12, 1611194818.5, True, "", "\x00"],
)
def test_a_time_that_is_no_accepted_form_is_a_400_naming_time(manager, plant, time_in):
    response = manager.post(PRODUCTION, new_record(plant, time=time_in), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["time"]


def test_a_time_whose_offset_moves_it_past_year_9999_is_a_400(manager, plant):
    body = new_record(plant, time="9999-12-31T23:59:59-01:00")

    response = manager.post(PRODUCTION, body, format="json")

    assert response.status_code == 400
