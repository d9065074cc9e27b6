"""Production records partitioned by time (issue 14, item 1; production/partitions.py and
migration 0008): each known trap, tested — the primary key (id, time) with `id` still unique,
the default partition that refuses no write, rows moved out of it into their own partition
without touching the rollups, the rollup triggers on the parent for rows routed to any
partition and moved across them, COPY through the parent, PROTECT on factories, and the
migration both ways."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import ProtectedError, Sum

from inventory.tests.factories import FactoryFactory
from production import partitions
from production.models import ProductionHourlyRollup, ProductionRecord
from production.partitions import (
    DEFAULT_PARTITION,
    production_partitioned,
    production_partitions_list,
    production_partitions_maintain,
)
from production.tests.bulk_helpers import post, rows_for

pytestmark = pytest.mark.usefixtures("on_postgresql")

JANUARY = datetime(2021, 1, 21, 2, 0, tzinfo=UTC)
MARCH = datetime(2021, 3, 2, 5, 0, tzinfo=UTC)
UNCOVERED = datetime(2023, 6, 1, 0, 0, tzinfo=UTC)  # no test here makes its partition


def where_stored(*records: ProductionRecord) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM production_productionrecord "
            "WHERE id = ANY(%s) ORDER BY id",
            [[record.pk for record in records]],
        )
        return [row[0] for row in cursor.fetchall()]


def rollup_sums() -> list[tuple]:
    return list(
        ProductionHourlyRollup.objects.order_by("factory_id", "hour").values_list(
            "factory_id", "hour", "sprocket_production_actual", "records"
        )
    )


def record(factory, time: datetime, actual: int = 30) -> ProductionRecord:
    return ProductionRecord.objects.create(
        factory=factory, time=time, sprocket_production_actual=actual, sprocket_production_goal=32
    )


def test_migrate_leaves_a_partitioned_table_with_this_period_and_those_ahead(settings):
    partitions = production_partitions_list()
    now = datetime.now(UTC)

    assert production_partitioned()
    assert any(start <= now < end for _, start, end in partitions)
    assert partitions[-1][2] - now > timedelta(days=28 * settings.PRODUCTION_PARTITIONS_AHEAD)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conname = 'production_productionrecord_pkey'"
        )
        assert cursor.fetchone() == ('PRIMARY KEY (id, "time")',)


def test_ids_stay_unique_across_partitions_and_django_reads_by_id():
    factory = FactoryFactory()
    old, new = record(factory, JANUARY), record(factory, datetime.now(UTC).replace(microsecond=0))

    assert new.pk > old.pk
    assert where_stored(old, new)[0] == DEFAULT_PARTITION
    assert ProductionRecord.objects.get(pk=old.pk).time == JANUARY


def test_a_write_no_partition_covers_lands_in_the_default_partition_and_moves_out_unchanged():
    factory = FactoryFactory()
    records = [record(factory, JANUARY + timedelta(minutes=i), actual=i) for i in range(5)]
    before = rollup_sums()

    done = production_partitions_maintain()

    # (A test that crosses into a new month may also create that month's partition ahead.)
    assert "production_productionrecord_p20210101" in done.created
    assert done.rows_moved == 5
    assert set(where_stored(*records)) == {"production_productionrecord_p20210101"}
    assert rollup_sums() == before  # moved, not written again: the triggers did not fire
    assert production_partitions_maintain().created == []  # nothing left to do


def test_maintenance_by_week_skips_the_weeks_a_month_partition_already_covers(settings):
    factory = FactoryFactory()
    record(factory, JANUARY)
    production_partitions_maintain()  # January's month
    settings.PRODUCTION_PARTITION_INTERVAL = "week"
    march = record(factory, MARCH)

    done = production_partitions_maintain(now=JANUARY)

    # The weeks of 18 and 25 January overlap January's month; those of February do not.
    assert done.created == [
        "production_productionrecord_p20210201",
        "production_productionrecord_p20210208",
        "production_productionrecord_p20210301",  # Monday 1 March, for the row in default
    ]
    assert where_stored(march) == ["production_productionrecord_p20210301"]


def test_the_rollups_follow_records_routed_to_partitions_and_moved_across_them():
    factory = FactoryFactory()
    production_partitions_maintain(now=JANUARY)
    production_partitions_maintain(now=MARCH)
    moved = record(factory, JANUARY, actual=7)

    moved.time = MARCH
    moved.save()

    assert where_stored(moved) == ["production_productionrecord_p20210301"]
    assert rollup_sums() == [(factory.pk, MARCH, 7, 1)]


def test_copy_through_the_parent_routes_each_row_to_its_partition(manager):
    factory = FactoryFactory()
    production_partitions_maintain(now=JANUARY)
    january, uncovered = int(JANUARY.timestamp()), int(UNCOVERED.timestamp())

    response = post(
        manager, rows_for(factory, 3, start=january) + rows_for(factory, 2, start=uncovered)
    )

    assert response.status_code == 201, response.content
    stored = where_stored(*ProductionRecord.objects.filter(factory=factory))
    assert stored.count("production_productionrecord_p20210101") == 3
    assert stored.count(DEFAULT_PARTITION) == 2
    totals = ProductionHourlyRollup.objects.filter(factory_id=factory.pk).aggregate(Sum("records"))
    assert totals["records__sum"] == 5


def test_a_bulk_upsert_counts_what_it_inserted_and_updated_on_the_partitioned_table(manager):
    factory = FactoryFactory()
    post(manager, rows_for(factory, 3, start=int(JANUARY.timestamp())))

    response = post(
        manager,
        rows_for(factory, 5, start=int(JANUARY.timestamp()), sprocket_production_actual=9),
        on_conflict="update",
    )

    assert response.json() | {"batch": None} == {
        "created": 2,
        "updated": 3,
        "skipped": 0,
        "batch": None,
    }


def test_one_factory_and_time_twice_is_refused_in_any_partition():
    factory = FactoryFactory()
    production_partitions_maintain(now=JANUARY)
    record(factory, JANUARY)

    with pytest.raises(IntegrityError), transaction.atomic():
        record(factory, JANUARY)


def test_a_factory_with_records_in_a_partition_cannot_be_deleted():
    factory = FactoryFactory()
    production_partitions_maintain(now=JANUARY)
    record(factory, JANUARY)

    with pytest.raises(ProtectedError):
        factory.delete()
    with pytest.raises(IntegrityError):
        delete_in_the_database(factory.pk)


def delete_in_the_database(factory_id: int) -> None:
    """The database's own foreign key, without Django's PROTECT in front of it."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("DELETE FROM inventory_factory WHERE id = %s", [factory_id])


@pytest.mark.django_db(transaction=True)
def test_the_migration_converts_both_ways_keeping_every_record_and_rollup():
    factory = FactoryFactory()
    records = [record(factory, JANUARY + timedelta(hours=i), actual=i) for i in range(3)]
    production_partitions_maintain()
    kept = (list(ProductionRecord.objects.order_by("id").values_list()), rollup_sums())
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()

    executor.migrate([("production", "0007_move_ingestbatch_to_ingest")])
    unpartitioned = production_partitioned()
    back = (list(ProductionRecord.objects.order_by("id").values_list()), rollup_sums())
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(latest)

    assert unpartitioned is False
    assert back == kept
    assert production_partitioned()
    assert (list(ProductionRecord.objects.order_by("id").values_list()), rollup_sums()) == kept
    assert record(factory, MARCH).pk > records[-1].pk  # the identity goes on after the copy
    production_partitions_maintain()  # as `migrate` would have: this period's partitions


def test_partitions_another_maintenance_made_or_dropped_meanwhile_are_left_alone(
    monkeypatch, settings
):
    settings.PRODUCTION_RAW_RETENTION = "1 month"
    gone = ("production_productionrecord_p19990101", JANUARY.replace(1999), MARCH.replace(1999))
    # As seen before another maintenance ran: none of this period's partitions, an old one.
    monkeypatch.setattr(partitions, "production_partitions_list", lambda using: [gone])

    done = production_partitions_maintain()

    assert (done.created, done.dropped) == ([], [])
