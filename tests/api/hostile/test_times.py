"""Times in and out: a time with anything after it (CPython's fromisoformat stops reading at a
NUL) is a 400 wherever a time is read, and a time is written out one way, zero-padded, in every
output."""

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from inventory.models import Factory
from inventory.tests.factories import FactoryFactory
from production.models import ProductionRecord
from tests.api.hostile.helpers import API, ARABIC_INDIC_DIGITS, assert_json_error

pytestmark = pytest.mark.django_db


# --- Times with junk after them (item 11) ----------------------------------------------------------

JUNK_TIMES = [
    "2023-01-01T00:00:00Z\x00; DROP TABLE x",
    "2023-01-01T00:00:00\x00",
    "2023-01-01T00:00:00Z\x1b[2J",
    "2023-01-01T00:00:00Z\n",
    "2023-01-01T00:00:00Z\u3000",
    "1672531200".translate(ARABIC_INDIC_DIGITS),
]


def record_body(factory_id: int, time: str) -> dict:
    return {
        "factory_id": factory_id,
        "time": time,
        "sprocket_production_actual": 1,
        "sprocket_production_goal": 2,
    }


@pytest.mark.parametrize("time", JUNK_TIMES, ids=repr)
def test_a_time_with_junk_is_a_400_in_a_single_write(manager, plant, time):
    response = manager.post(f"{API}/production", record_body(plant.id, time), format="json")

    assert "time" in assert_json_error(response, 400)
    assert ProductionRecord.objects.count() == 3


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_time_with_junk_is_a_400_in_an_update(manager, plant, method):
    record = ProductionRecord.objects.filter(factory=plant).first()
    body = record_body(plant.id, JUNK_TIMES[0])

    response = getattr(manager, method)(
        f"{API}/production/records/{record.id}", body, format="json"
    )

    assert "time" in assert_json_error(response, 400)
    record.refresh_from_db()
    assert record.time.year == 2021


@pytest.mark.parametrize("time", JUNK_TIMES, ids=repr)
def test_a_time_with_junk_is_a_400_in_a_bulk_body(manager, plant, time):
    rows = [record_body(plant.id, "2023-01-01T00:01:00Z"), record_body(plant.id, time)]

    response = manager.post(f"{API}/production/bulk", rows, format="json")

    body = assert_json_error(response, 400)
    assert "time" in json.dumps(body)
    assert ProductionRecord.objects.count() == 3


@pytest.mark.parametrize("time", JUNK_TIMES, ids=repr)
@pytest.mark.parametrize("name", ["after", "before"])
def test_a_time_with_junk_is_a_400_naming_the_parameter_on_every_time_window(
    hostile, plant, time, name
):
    for path in [
        "/production",
        f"/production/{plant.id}",
        "/sprockets",
        "/factories",
        "/production/summary",
        "/factories/chart-data",
        f"/factories/{plant.id}/chart-data",
    ]:
        response = hostile.get(f"{API}{path}", {name: time})

        assert name in assert_json_error(response, 400), path


def test_a_time_with_junk_is_a_400_in_a_window_delete(manager, plant):
    response = manager.delete(
        f"{API}/production/{plant.id}?after=2021-01-01&before=2023-01-01T00:00:00Z%00junk"
    )

    assert "before" in assert_json_error(response, 400)
    assert ProductionRecord.objects.count() == 3


# --- Times written out (item 13) ------------------------------------------------------------------


@pytest.fixture
def ancient_record(plant):
    return ProductionRecord.objects.create(
        factory=plant,
        time=datetime(999, 3, 4, 5, 6, 7, tzinfo=UTC),
        sprocket_production_actual=1,
        sprocket_production_goal=2,
    )


def test_a_record_before_year_1000_is_written_zero_padded_in_its_json(viewer, ancient_record):
    response = viewer.get(f"{API}/production/records/{ancient_record.id}")

    assert response.json()["time"] == "0999-03-04T05:06:07Z"


def test_a_record_before_year_1000_is_written_zero_padded_in_its_csv(viewer, ancient_record):
    response = viewer.get(f"{API}/production/records/{ancient_record.id}?format=csv")

    assert response.status_code == 200
    (row,) = csv.DictReader(io.StringIO(response.content.decode()))
    assert row["time"] == "0999-03-04T05:06:07Z"


@pytest.mark.parametrize("path", ["/production", "/production/{factory}"])
def test_a_record_before_year_1000_is_written_zero_padded_in_the_export(
    viewer, plant, ancient_record, path
):
    response = viewer.get(f"{API}{path.format(factory=plant.id)}?format=csv")

    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0]["time"] == "0999-03-04T05:06:07Z"


def test_a_conflict_before_year_1000_names_the_time_zero_padded(manager, plant, ancient_record):
    response = manager.post(
        f"{API}/production", record_body(plant.id, "0999-03-04T05:06:07Z"), format="json"
    )

    assert "0999-03-04T05:06:07Z" in assert_json_error(response, 409)["detail"]


def test_a_conflicting_update_before_year_1000_names_the_time_zero_padded(
    manager, plant, ancient_record
):
    other = ProductionRecord.objects.filter(factory=plant).exclude(pk=ancient_record.pk).first()

    response = manager.patch(
        f"{API}/production/records/{other.id}", {"time": "0999-03-04T05:06:07Z"}, format="json"
    )

    assert "0999-03-04T05:06:07Z" in assert_json_error(response, 409)["detail"]


def test_a_page_after_a_record_before_year_1000_follows_on(viewer, plant, ancient_record):
    first = viewer.get(f"{API}/production/{plant.id}", {"limit": 1})
    next_url = first["Link"].split(";")[0].strip("<>")

    second = viewer.get(next_url)

    assert first.json()[0]["time"] == "0999-03-04T05:06:07Z"
    assert second.status_code == 200
    assert second.json()[0]["time"].startswith("2021-")


def test_a_created_at_before_year_1000_is_written_zero_padded_without_microseconds(viewer):
    factory = FactoryFactory()
    Factory.objects.filter(pk=factory.pk).update(
        created_at=datetime(999, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    )

    response = viewer.get(f"{API}/factories/{factory.pk}")

    assert response.json()["created_at"] == "0999-01-02T03:04:05Z"
