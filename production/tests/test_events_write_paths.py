"""Every committed write of production publishes its event (production.events): the API's
single records and window deletes, bulk, the admin, COPY (load_original_data), loaddata.
Nothing rolled back is published. On Redis when REDIS_URL is set, else in this process."""

import json
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import transaction

from inventory.tests.factories import FactoryFactory
from production.models import ProductionRecord
from production.services import production_record_create
from tests.events_helpers import bus_position, events_since

API = "/sprocketFactory/v1"
T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db(transaction=True)


def at(minute: int) -> datetime:
    return T0.replace(minute=minute)


def iso(minute: int) -> str:
    return at(minute).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(factory, minute: int, actual: int = 5, goal: int = 6) -> ProductionRecord:
    return ProductionRecord.objects.create(
        factory=factory,
        time=at(minute),
        sprocket_production_actual=actual,
        sprocket_production_goal=goal,
    )


def change(factory_id, first, last, rows, action="write") -> dict:
    return {"factory_id": factory_id, "action": action, "first": first, "last": last, "rows": rows}


@pytest.fixture
def plant():
    return FactoryFactory(name="Plant Lyon")


def test_a_record_created_through_the_api_is_an_event(manager, plant):
    position = bus_position()

    response = manager.post(
        f"{API}/production",
        {
            "factory_id": plant.pk,
            "time": iso(3),
            "sprocket_production_actual": 4,
            "sprocket_production_goal": 5,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert events_since(position) == [change(plant.pk, iso(3), iso(3), 1)]


def test_a_record_moved_through_the_api_is_a_write_where_it_went_and_a_delete_where_it_was(
    manager, plant
):
    other = FactoryFactory(name="Plant Turin")
    moved = record(plant, 1)
    position = bus_position()

    response = manager.put(
        f"{API}/production/records/{moved.pk}",
        {
            "factory_id": other.pk,
            "time": iso(9),
            "sprocket_production_actual": 4,
            "sprocket_production_goal": 5,
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    assert sorted(events_since(position), key=lambda e: e["factory_id"]) == [
        change(plant.pk, iso(1), iso(1), 1, "delete"),
        change(other.pk, iso(9), iso(9), 1),
    ]


def test_a_record_deleted_through_the_api_is_a_delete_event(manager, plant):
    deleted = record(plant, 2)
    position = bus_position()

    assert manager.delete(f"{API}/production/records/{deleted.pk}").status_code == 204

    assert events_since(position) == [change(plant.pk, iso(2), iso(2), 1, "delete")]


def test_a_window_delete_is_one_event_with_the_range_and_count_it_deleted(manager, plant):
    for minute in (1, 4, 7, 30):
        record(plant, minute)
    position = bus_position()

    response = manager.delete(f"{API}/production/{plant.pk}?after={iso(0)}&before={iso(10)}")

    assert response.status_code == 200, response.content
    assert events_since(position) == [change(plant.pk, iso(1), iso(7), 3, "delete")]


def test_a_bulk_ingest_is_one_event_per_factory_it_wrote(manager, plant):
    other = FactoryFactory(name="Plant Graz")
    rows = [
        {
            "factory_id": factory.pk,
            "time": iso(minute),
            "sprocket_production_actual": 1,
            "sprocket_production_goal": 2,
        }
        for factory, minute in [(plant, 5), (other, 1), (plant, 2), (plant, 9), (other, 3)]
    ]
    position = bus_position()

    response = manager.post(
        f"{API}/production/bulk", data=json.dumps(rows), content_type="application/json"
    )

    assert response.status_code == 201, response.content
    assert (
        events_since(position)
        == [
            change(plant.pk, iso(2), iso(9), 3),
            change(other.pk, iso(1), iso(3), 2),
        ]
        if plant.pk < other.pk
        else [
            change(other.pk, iso(1), iso(3), 2),
            change(plant.pk, iso(2), iso(9), 3),
        ]
    )


def test_copy_of_the_original_data_is_one_event_per_factory():
    position = bus_position()

    call_command("load_original_data", verbosity=0)

    events = events_since(position)
    assert [event["rows"] for event in events] == [20, 20, 20]
    assert {event["action"] for event in events} == {"write"}
    assert [event["factory_id"] for event in events] == sorted(
        set(ProductionRecord.objects.values_list("factory_id", flat=True))
    )


def test_loaddata_is_one_event_per_factory_however_many_records(plant, tmp_path):
    fixture = tmp_path / "records.json"
    fixture.write_text(
        json.dumps(
            [
                {
                    "model": "production.productionrecord",
                    "fields": {
                        "factory": plant.pk,
                        "time": iso(minute),
                        "sprocket_production_actual": 3,
                        "sprocket_production_goal": 4,
                    },
                }
                for minute in range(20)
            ]
        )
    )
    position = bus_position()

    call_command("loaddata", str(fixture), verbosity=0)

    assert events_since(position) == [change(plant.pk, iso(0), iso(19), 20)]


def test_a_record_added_in_the_admin_is_an_event(staff_client, plant):
    position = bus_position()

    response = staff_client.post(
        "/admin/production/productionrecord/add/",
        {
            "factory": plant.pk,
            "time_0": "2024-03-01",
            "time_1": "08:04:00",
            "sprocket_production_actual": 3,
            "sprocket_production_goal": 4,
        },
    )

    assert response.status_code == 302, response.content
    assert events_since(position) == [change(plant.pk, iso(4), iso(4), 1)]


def test_records_deleted_by_the_admin_action_are_one_delete_event_per_factory(staff_client, plant):
    chosen = [record(plant, minute).pk for minute in (2, 8)]
    position = bus_position()

    response = staff_client.post(
        "/admin/production/productionrecord/",
        {"action": "delete_selected", "_selected_action": chosen, "post": "yes"},
    )

    assert response.status_code == 302, response.content
    assert events_since(position) == [change(plant.pk, iso(2), iso(8), 2, "delete")]


def test_a_rolled_back_write_publishes_nothing(plant):
    position = bus_position()

    def failing_request() -> None:
        with transaction.atomic():
            production_record_create(
                factory_id=plant.pk,
                time=at(5),
                sprocket_production_actual=1,
                sprocket_production_goal=1,
            )
            raise RuntimeError("the request failed after the write")

    with pytest.raises(RuntimeError):
        failing_request()

    assert events_since(position) == []


def test_writes_in_one_transaction_are_published_once_it_commits(plant):
    position = bus_position()

    with transaction.atomic():
        for minute in (3, 1, 2):
            record(plant, minute)
        assert events_since(position) == []

    assert events_since(position) == [change(plant.pk, iso(1), iso(3), 3)]


def test_a_write_after_a_rolled_back_one_publishes_only_itself(plant):
    def rolled_back() -> None:
        with transaction.atomic():
            record(plant, 1)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        rolled_back()
    position = bus_position()

    with transaction.atomic():
        record(plant, 7)

    assert events_since(position) == [change(plant.pk, iso(7), iso(7), 1)]
