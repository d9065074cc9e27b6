"""The hourly rollup (PostgreSQL triggers, migration 0005) equals the raw records after every write.

Each test compares `ProductionHourlyRollup` with sums per (factory, UTC hour) computed here
from the records themselves, after one kind of write: API, bulk (each on_conflict mode),
window delete, admin, loaddata, generate_production, TRUNCATE, and a write that rolls back.
"""

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse

from inventory.models import Factory
from inventory.tests.factories import FactoryFactory
from production.models import ProductionHourlyRollup, ProductionRecord

API = "/sprocketFactory/v1"
PRODUCTION = f"{API}/production"
RECORDS = f"{API}/production/records"
BULK = f"{API}/production/bulk"
START = datetime(2021, 1, 21, 2, 6, 58, tzinfo=UTC)
MINUTE = timedelta(minutes=1)

pytestmark = pytest.mark.usefixtures("on_postgresql")

Sums = dict[tuple[int, datetime], tuple[int, int, int]]


def raw_sums() -> Sums:
    """(actual, goal, records) per (factory, UTC hour), summed here from every record."""
    sums: dict[tuple[int, datetime], list[int]] = {}
    rows = ProductionRecord.objects.values_list(
        "factory_id", "time", "sprocket_production_actual", "sprocket_production_goal"
    )
    for factory_id, moment, actual, goal in rows:
        hour = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        entry = sums.setdefault((factory_id, hour), [0, 0, 0])
        entry[0] += actual
        entry[1] += goal
        entry[2] += 1
    return {key: tuple(entry) for key, entry in sums.items()}


def rollup() -> Sums:
    return {
        (row.factory_id, row.hour.astimezone(UTC)): (
            row.sprocket_production_actual,
            row.sprocket_production_goal,
            row.records,
        )
        for row in ProductionHourlyRollup.objects.all()
    }


def add_records(factory: Factory, count: int, start: datetime = START) -> None:
    ProductionRecord.objects.bulk_create(
        ProductionRecord(
            factory=factory,
            time=start + i * MINUTE,
            sprocket_production_actual=20 + i % 13,
            sprocket_production_goal=25 + i % 7,
        )
        for i in range(count)
    )


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def plants() -> list[Factory]:
    """Two factories with 150 minutes of records each, over three or four UTC hours."""
    first, second = FactoryFactory(), FactoryFactory()
    add_records(first, 150)
    add_records(second, 150, start=START + timedelta(minutes=40))
    return [first, second]


def post_bulk(client, rows: list[dict], on_conflict: str):
    return client.post(
        f"{BULK}?on_conflict={on_conflict}", data=json.dumps(rows), content_type="application/json"
    )


def bulk_rows(factory: Factory, start: datetime, count: int, actual: int, goal: int) -> list:
    return [
        {
            "factory_id": factory.pk,
            "time": (start + i * MINUTE).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "sprocket_production_actual": actual,
            "sprocket_production_goal": goal,
        }
        for i in range(count)
    ]


def test_the_rollup_holds_the_sums_of_records_inserted_by_the_orm(plants):
    assert rollup() == raw_sums()
    assert len(rollup()) == 7


# The API, one record at a time.


def test_the_rollup_follows_an_api_create(operator, plants):
    moment = datetime(2021, 1, 22, 9, 30, tzinfo=UTC)

    response = operator.post(
        PRODUCTION,
        {
            "factory_id": plants[0].pk,
            "time": "2021-01-22T09:30:00Z",
            "sprocket_production_actual": 11,
            "sprocket_production_goal": 13,
        },
        format="json",
    )

    assert response.status_code == 201
    assert rollup() == raw_sums()
    assert rollup()[(plants[0].pk, hour_of(moment))] == (11, 13, 1)


def test_the_rollup_follows_an_api_put_that_moves_a_record_to_another_hour(operator, plants):
    record = ProductionRecord.objects.filter(factory=plants[0]).first()
    old_hour = hour_of(record.time)
    before = rollup()[(plants[0].pk, old_hour)]

    response = operator.put(
        f"{RECORDS}/{record.pk}",
        {
            "factory_id": plants[0].pk,
            "time": "2021-01-23T17:45:00Z",
            "sprocket_production_actual": 99,
            "sprocket_production_goal": 98,
        },
        format="json",
    )

    assert response.status_code == 200
    assert rollup() == raw_sums()
    assert rollup()[(plants[0].pk, old_hour)][2] == before[2] - 1
    assert rollup()[(plants[0].pk, datetime(2021, 1, 23, 17, tzinfo=UTC))] == (99, 98, 1)


def test_the_rollup_follows_an_api_patch_that_moves_a_record_to_another_factory(operator, plants):
    record = ProductionRecord.objects.filter(factory=plants[0]).last()

    response = operator.patch(
        f"{RECORDS}/{record.pk}",
        {"factory_id": plants[1].pk, "time": "2021-01-24T00:00:00Z"},
        format="json",
    )

    assert response.status_code == 200
    assert rollup() == raw_sums()
    assert (plants[1].pk, datetime(2021, 1, 24, tzinfo=UTC)) in rollup()


def test_the_rollup_follows_an_api_patch_of_the_values(operator, plants):
    record = ProductionRecord.objects.filter(factory=plants[1]).first()

    response = operator.patch(
        f"{RECORDS}/{record.pk}", {"sprocket_production_actual": 1000}, format="json"
    )

    assert response.status_code == 200
    assert rollup() == raw_sums()


def test_the_rollup_follows_an_api_delete(manager, plants):
    record = ProductionRecord.objects.filter(factory=plants[1]).first()

    response = manager.delete(f"{RECORDS}/{record.pk}")

    assert response.status_code == 204
    assert rollup() == raw_sums()


def test_deleting_the_only_record_of_an_hour_removes_its_rollup_row(manager, plants):
    lonely = ProductionRecord.objects.create(
        factory=plants[0],
        time=datetime(2021, 2, 1, 5, 5, tzinfo=UTC),
        sprocket_production_actual=1,
        sprocket_production_goal=1,
    )

    manager.delete(f"{RECORDS}/{lonely.pk}")

    assert (plants[0].pk, datetime(2021, 2, 1, 5, tzinfo=UTC)) not in rollup()
    assert not ProductionHourlyRollup.objects.filter(records=0).exists()


# Bulk ingest.


def test_the_rollup_follows_a_bulk_ingest_without_conflicts(operator, plants):
    rows = bulk_rows(plants[0], datetime(2021, 1, 25, 23, 30, tzinfo=UTC), 90, 7, 8)

    response = post_bulk(operator, rows, "error")

    assert response.status_code == 201, response.content
    assert rollup() == raw_sums()
    assert rollup()[(plants[0].pk, datetime(2021, 1, 26, tzinfo=UTC))] == (7 * 60, 8 * 60, 60)


def test_the_rollup_follows_a_bulk_ingest_that_skips_existing_rows(operator, plants):
    # Half over existing records (kept as they are), half new.
    rows = bulk_rows(plants[0], START + 100 * MINUTE, 100, 1, 2)

    response = post_bulk(operator, rows, "skip")

    assert response.json()["skipped"] == 50
    assert rollup() == raw_sums()


def test_the_rollup_follows_a_bulk_ingest_that_updates_existing_rows(operator, plants):
    rows = bulk_rows(plants[1], START + 100 * MINUTE, 100, 1, 2)

    response = post_bulk(operator, rows, "update")

    assert response.json()["updated"] == 90
    assert rollup() == raw_sums()


def test_a_bulk_ingest_refused_for_conflicts_leaves_the_rollup_unchanged(operator, plants):
    before = rollup()
    # New rows first, then one that exists: the direct COPY fails and is rolled back.
    rows = bulk_rows(plants[0], START - 30 * MINUTE, 31, 5, 5)

    response = post_bulk(operator, rows, "error")

    assert response.status_code == 409
    assert rollup() == before == raw_sums()


# Deletes of many records and statements over many rows.


def test_the_rollup_follows_a_window_delete(manager, plants):
    response = manager.delete(
        f"{PRODUCTION}/{plants[0].pk}?after=2021-01-21T02:20:00Z&before=2021-01-21T04:10:00Z"
    )

    assert response.json()["deleted"] > 60
    assert rollup() == raw_sums()


def test_a_window_delete_of_whole_hours_leaves_no_empty_rollup_rows(manager, plants):
    manager.delete(f"{PRODUCTION}/{plants[1].pk}?after=2021-01-21&before=2021-01-22")

    assert not ProductionHourlyRollup.objects.filter(factory_id=plants[1].pk).exists()
    assert not ProductionHourlyRollup.objects.filter(records=0).exists()


def test_the_rollup_follows_one_update_statement_that_moves_many_records_across_hours(plants):
    ProductionRecord.objects.filter(factory=plants[0]).update(
        time=F("time") + timedelta(seconds=90)
    )

    assert rollup() == raw_sums()


def test_moving_every_record_out_of_an_hour_leaves_no_empty_rollup_row(plants):
    first_hour = hour_of(START)
    ProductionRecord.objects.filter(
        factory=plants[0], time__lt=first_hour + timedelta(hours=1)
    ).update(time=F("time") + timedelta(days=3))

    assert (plants[0].pk, first_hour) not in rollup()
    assert not ProductionHourlyRollup.objects.filter(records=0).exists()
    assert rollup() == raw_sums()


# The admin.


def test_the_rollup_follows_an_admin_edit(staff_client, plants):
    record = ProductionRecord.objects.filter(factory=plants[0]).first()

    response = staff_client.post(
        reverse("admin:production_productionrecord_change", args=[record.pk]),
        {
            "factory": plants[1].pk,
            "time_0": "2021-01-30",
            "time_1": "12:34:56",
            "sprocket_production_actual": 5,
            "sprocket_production_goal": 6,
            "_save": "Save",
        },
        secure=True,
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    assert rollup() == raw_sums()
    assert rollup()[(plants[1].pk, datetime(2021, 1, 30, 12, tzinfo=UTC))] == (5, 6, 1)


def test_the_rollup_follows_an_admin_delete(staff_client, plants):
    record = ProductionRecord.objects.filter(factory=plants[0]).first()

    response = staff_client.post(
        reverse("admin:production_productionrecord_delete", args=[record.pk]),
        {"post": "yes"},
        secure=True,
    )

    assert response.status_code == 302
    assert not ProductionRecord.objects.filter(pk=record.pk).exists()
    assert rollup() == raw_sums()


def test_the_rollup_follows_the_admin_delete_selected_action(staff_client, plants):
    chosen = list(ProductionRecord.objects.filter(factory=plants[1]).values_list("pk", flat=True))

    response = staff_client.post(
        reverse("admin:production_productionrecord_changelist"),
        {"action": "delete_selected", "_selected_action": chosen[::3], "post": "yes"},
        secure=True,
    )

    assert response.status_code == 302
    assert ProductionRecord.objects.filter(factory=plants[1]).count() == 100
    assert rollup() == raw_sums()


# Other write paths.


def test_the_rollup_follows_loaddata_of_the_original_fixtures():
    call_command("loaddata", "sprockets", "factories", "production", verbosity=0)

    assert ProductionRecord.objects.count() == 60
    assert rollup() == raw_sums()


def test_loading_the_fixtures_again_leaves_the_rollup_equal_not_doubled():
    call_command("loaddata", "sprockets", "factories", "production", verbosity=0)
    once = rollup()

    call_command("loaddata", "sprockets", "factories", "production", verbosity=0)

    assert rollup() == once == raw_sums()


def test_the_rollup_follows_generate_production():
    call_command("generate_production", "--factories", "2", "--days", "1", stdout=io.StringIO())

    assert ProductionRecord.objects.count() == 2 * 1440
    assert rollup() == raw_sums()


def test_a_truncate_of_the_records_empties_the_rollup(plants):
    assert ProductionHourlyRollup.objects.exists()

    with connection.cursor() as cursor:
        # The records' deferred foreign-key checks are still pending in the test's
        # transaction, and PostgreSQL refuses to TRUNCATE a table with pending trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {ProductionRecord._meta.db_table}")

    assert not ProductionHourlyRollup.objects.exists()


def test_a_write_that_rolls_back_leaves_the_rollup_unchanged(plants):
    before = rollup()

    def insert_and_delete_then_fail() -> None:
        with transaction.atomic():
            add_records(plants[0], 30, start=datetime(2021, 3, 1, tzinfo=UTC))
            ProductionRecord.objects.filter(factory=plants[1]).delete()
            raise RuntimeError("abandon the write")

    with pytest.raises(RuntimeError):
        insert_and_delete_then_fail()

    assert rollup() == before == raw_sums()
