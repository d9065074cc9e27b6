"""Converting an existing, unpartitioned records table while writes go on (PostgreSQL only).

Each test starts from the shape an install larger than PRODUCTION_CONVERT_IN_MIGRATE_MAX_ROWS
has after migration 0008: records in one table, with the rollup and written-count triggers.
"""

import threading
from array import array
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor

from ingest.models import OnConflict
from inventory.tests.factories import FactoryFactory
from production.columns import ProductionColumns
from production.conversion import NEW, ConversionMismatch, production_records_convert
from production.models import ProductionRecord
from production.partitions import (
    production_partitioned,
    production_partitions_list,
    production_records_kept_since,
)
from production.services import (
    production_record_create,
    production_record_update,
    production_rows_write,
    production_window_delete,
)

pytestmark = [pytest.mark.usefixtures("on_postgresql"), pytest.mark.django_db(transaction=True)]

START = datetime(2024, 1, 30, 0, 0, tzinfo=UTC)  # the data spans January and February
MINUTES = 3 * 1440
LATER = datetime(2031, 5, 1, tzinfo=UTC)  # a period no partition covers: the default one


def migrate_to(*targets) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(list(targets))


@pytest.fixture
def unpartitioned(settings):
    """The records table as migration 0008 leaves a large one: unpartitioned, with generated
    minute data for four factories. Partitioned again afterwards, whatever the test did."""
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    migrate_to(("production", "0007_move_ingestbatch_to_ingest"))
    factories = [FactoryFactory() for _ in range(4)]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO production_productionrecord (factory_id, time, "
            "sprocket_production_actual, sprocket_production_goal) "
            "SELECT f, %s::timestamptz + m * interval '1 minute', (m * 7 + f) %% 40, 32 "
            "FROM generate_series(0, %s - 1) m, unnest(%s::bigint[]) f",
            [START, MINUTES, [factory.pk for factory in factories]],
        )
    settings.PRODUCTION_CONVERT_IN_MIGRATE_MAX_ROWS = 10
    migrate_to(*latest)
    assert not production_partitioned()
    yield factories
    if not production_partitioned():
        settings.PRODUCTION_CONVERT_IN_MIGRATE_MAX_ROWS = 10**9
        migrate_to(("production", "0007_move_ingestbatch_to_ingest"))
        migrate_to(*MigrationExecutor(connection).loader.graph.leaf_nodes())


def contents() -> list[tuple]:
    return list(ProductionRecord.objects.order_by("id").values_list())


def rollups_recomputed() -> tuple[list, list]:
    """The hourly rollups as stored and as the records add up."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT factory_id, hour, sprocket_production_actual, sprocket_production_goal, "
            "records FROM production_productionhourlyrollup ORDER BY 1, 2"
        )
        stored = cursor.fetchall()
        cursor.execute(
            "SELECT factory_id, date_trunc('hour', time, 'UTC'), sum(sprocket_production_actual),"
            " sum(sprocket_production_goal), count(*) FROM production_productionrecord "
            "GROUP BY 1, 2 ORDER BY 1, 2"
        )
        return stored, cursor.fetchall()


def names_of_the_table() -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = "
            "'production_productionrecord'::regclass ORDER BY 1"
        )
        constraints = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = "
            "'production_productionrecord'::regclass AND NOT tgisinternal ORDER BY 1"
        )
        triggers = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT pg_get_serial_sequence('production_productionrecord', 'id')")
        sequence = cursor.fetchone()[0]
        cursor.execute("SELECT to_regclass('production_record_time_brin') IS NOT NULL")
        brin = cursor.fetchone()[0]
    return {"constraints": constraints, "triggers": triggers, "sequence": sequence, "brin": brin}


def test_a_fresh_install_gets_the_partitioned_table_from_the_migrations():
    assert production_partitioned()


def test_the_command_converts_keeping_every_record_rollup_and_name(unpartitioned):
    before = contents()
    rollups_before = rollups_recomputed()
    names_before = names_of_the_table()

    call_command("production_partitions", "--convert", "--batch-rows", "1000")

    assert production_partitioned()
    assert contents() == before
    assert rollups_recomputed() == rollups_before
    assert names_of_the_table() == names_before
    periods = {start for _, start, _ in production_partitions_list()}
    assert {datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)} <= periods
    later = production_record_create(
        factory_id=unpartitioned[0].pk,
        time=LATER,
        sprocket_production_actual=5,
        sprocket_production_goal=6,
    )
    assert later.pk > before[-1][0]  # the identity goes on past every id the old table gave
    stored, recomputed = rollups_recomputed()
    assert stored == recomputed  # the rollup triggers are on the new table


def test_before_conversion_nothing_is_dropped_and_every_factory_window_deletes_row_by_row(
    unpartitioned, settings, api_client
):
    settings.PRODUCTION_RAW_RETENTION = "1 month"  # would reach past January 2024
    window = {"after": START, "before": START + timedelta(days=1)}
    deleted = production_window_delete(factory_id=None, **window)

    assert deleted == 4 * 1440
    assert not ProductionRecord.objects.filter(time__lt=window["before"]).exists()
    stored, recomputed = rollups_recomputed()
    assert stored == recomputed
    assert production_records_kept_since() is None
    assert "Production-Records-Since" not in api_client.get("/sprocketFactory/v1/production")

    call_command("production_partitions", "--convert")

    assert production_records_kept_since() is not None
    assert "Production-Records-Since" in api_client.get("/sprocketFactory/v1/production")


def test_a_copy_that_differs_is_not_swapped_and_the_old_table_is_left_as_it_was(unpartitioned):
    before = contents()

    def lose_a_row(message: str) -> None:
        if message.startswith("copied"):
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {NEW} WHERE id = (SELECT min(id) FROM {NEW})")  # noqa: S608

    with pytest.raises(ConversionMismatch, match="1 factory months differ"):
        production_records_convert(batch_rows=5000, progress=lose_a_row)

    assert not production_partitioned()
    assert contents() == before
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [NEW])
        assert cursor.fetchone()[0] is None
    record = production_record_create(
        factory_id=unpartitioned[0].pk,
        time=LATER,
        sprocket_production_actual=5,
        sprocket_production_goal=6,
    )
    assert record.pk  # writes go on without the repeating triggers


def test_an_interrupted_conversion_is_undone_and_a_second_run_converts(unpartitioned):
    before = contents()

    def interrupted(message: str) -> None:
        if message.startswith("copied"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        production_records_convert(batch_rows=2000, progress=interrupted)
    assert not production_partitioned()

    assert production_records_convert(batch_rows=2000) is not None
    assert production_partitioned()
    assert contents() == before
    assert production_records_convert() is None  # nothing left to convert


class Writer(threading.Thread):
    """Writes to one factory through the services until told to stop, keeping a model of
    what its factory's records must be: {time: (actual, goal)}."""

    def __init__(self, factory_id: int, model: dict, stop: threading.Event) -> None:
        super().__init__()
        self.factory_id, self.model, self.stop = factory_id, model, stop
        self.writes, self.error = 0, None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.write(self.writes)
                self.writes += 1
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            connections.close_all()


class Creator(Writer):
    def write(self, step: int) -> None:
        time = LATER + timedelta(minutes=step) if step % 2 else START - timedelta(minutes=step + 1)
        production_record_create(
            factory_id=self.factory_id,
            time=time,
            sprocket_production_actual=step % 50,
            sprocket_production_goal=40,
        )
        self.model[time] = (step % 50, 40)


class Upserter(Writer):
    """Bulk upserts of 30 rows: half over existing minutes, half new ones."""

    def write(self, step: int) -> None:
        first = START + timedelta(minutes=step * 15)
        times = [first + timedelta(minutes=i) for i in range(30)]
        columns = ProductionColumns(
            factory_ids=array("q", [self.factory_id] * 30),
            times=array("q", [int(time.timestamp()) for time in times]),
            actual=array("q", [step % 90] * 30),
            goal=array("q", [50] * 30),
        )
        production_rows_write(columns=columns, on_conflict=OnConflict.UPDATE)
        for time in times:
            self.model[time] = (step % 90, 50)


class Mover(Writer):
    """Changes a record's actual, and every third time moves it a minute past the data."""

    def write(self, step: int) -> None:
        time = START + timedelta(minutes=step * 11 % MINUTES)
        record = ProductionRecord.objects.filter(factory_id=self.factory_id, time=time).first()
        if record is None:
            return
        moved = START + timedelta(minutes=MINUTES + step) if step % 3 == 0 else time
        production_record_update(record=record, time=moved, sprocket_production_actual=99)
        self.model[moved] = (99, self.model.pop(time)[1])


class Deleter(Writer):
    """Deletes windows of 20 minutes."""

    def write(self, step: int) -> None:
        after = START + timedelta(minutes=step * 37 % MINUTES)
        production_window_delete(
            factory_id=self.factory_id, after=after, before=after + timedelta(minutes=20)
        )
        for time in [time for time in self.model if after <= time < after + timedelta(minutes=20)]:
            del self.model[time]


def factory_model(factory_id: int) -> dict:
    return {
        time: (actual, goal)
        for time, actual, goal in ProductionRecord.objects.filter(factory_id=factory_id)
        .order_by("time")
        .values_list("time", "sprocket_production_actual", "sprocket_production_goal")
    }


def test_writes_of_every_kind_during_the_conversion_all_arrive_in_the_partitioned_table(
    unpartitioned,
):
    ids_before = dict(ProductionRecord.objects.values_list("id", "factory_id").iterator())
    models = {factory.pk: factory_model(factory.pk) for factory in unpartitioned}
    stop = threading.Event()
    writers = [
        kind(factory.pk, models[factory.pk], stop)
        for kind, factory in zip((Creator, Upserter, Mover, Deleter), unpartitioned, strict=True)
    ]
    for writer in writers:
        writer.start()
    writes_when_copied = {}

    def before_swap() -> None:
        writes_when_copied.update({type(writer).__name__: writer.writes for writer in writers})

    try:
        converted = production_records_convert(
            batch_rows=400, pause_seconds=0.02, before_swap=before_swap
        )
        while min(writer.writes for writer in writers) < writes_when_copied[
            "Deleter"
        ] + 5 and not any(writer.error for writer in writers):
            stop.wait(0.05)  # and some writes after the swap
    finally:
        stop.set()
        for writer in writers:
            writer.join()

    assert [writer.error for writer in writers] == [None] * 4
    assert converted.batches >= 30
    assert min(writes_when_copied.values()) >= 5, writes_when_copied  # writes met the copy
    assert production_partitioned()
    for writer in writers:
        assert factory_model(writer.factory_id) == writer.model, type(writer).__name__
    stored, recomputed = rollups_recomputed()
    assert stored == recomputed
    ids_after = dict(ProductionRecord.objects.values_list("id", "factory_id").iterator())
    kept = {id_ for id_ in ids_before if id_ in ids_after}
    assert all(ids_after[id_] == ids_before[id_] for id_ in kept)  # rows keep their ids
    call_command("production_partitions")  # the default partition's rows get partitions
    assert factory_model(unpartitioned[0].pk) == models[unpartitioned[0].pk]
