"""IngestBatch moved from production to ingest: a database migrated before the move keeps
every audit row, with its id, after migrating forward."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_THE_MOVE = [("production", "0006_time_whole_second"), ("ingest", None)]


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def latest(executor: MigrationExecutor) -> list:
    return executor.loader.graph.leaf_nodes()


@pytest.fixture
def database_before_the_move(transactional_db):
    executor = migrate(BEFORE_THE_MOVE)
    yield executor.loader.project_state(BEFORE_THE_MOVE[0]).apps
    migrate(latest(MigrationExecutor(connection)))


def audit_rows(model) -> list[tuple]:
    return list(
        model.objects.order_by("id").values_list(
            "id",
            "user__username",
            "resource",
            "shape",
            "on_conflict",
            "idempotency_key",
            "status_code",
            "rows",
            "created",
            "response",
        )
    )


def test_migrating_forward_keeps_every_ingest_batch_with_its_id(database_before_the_move):
    old_apps = database_before_the_move
    user = old_apps.get_model("auth", "User").objects.create(username="etl")
    OldBatch = old_apps.get_model("production", "IngestBatch")
    for number in range(3):
        OldBatch.objects.create(
            user=user,
            resource="production",
            shape="array",
            on_conflict="error",
            idempotency_key=f"key-{number}",
            request_hash=f"{number:064d}",
            status_code=201,
            rows=10 * number,
            created=10 * number,
            response={"created": 10 * number, "batch": number},
        )
    OldBatch.objects.filter(idempotency_key="key-1").delete()
    before = audit_rows(OldBatch)

    executor = migrate(latest(MigrationExecutor(connection)))

    new_apps = executor.loader.project_state(latest(executor)).apps
    NewBatch = new_apps.get_model("ingest", "IngestBatch")
    assert audit_rows(NewBatch) == before
    assert "production_ingestbatch" not in connection.introspection.table_names()


def test_a_batch_created_after_the_move_gets_an_id_after_the_moved_ones(
    database_before_the_move,
):
    OldBatch = database_before_the_move.get_model("production", "IngestBatch")
    moved = OldBatch.objects.create(
        resource="production", on_conflict="error", request_hash="0" * 64, status_code=201
    )

    migrate(latest(MigrationExecutor(connection)))

    from ingest.models import IngestBatch

    created = IngestBatch.objects.create(
        resource="production", on_conflict="error", request_hash="1" * 64, status_code=201
    )
    assert created.pk > moved.pk
    assert IngestBatch.objects.filter(pk=moved.pk).exists()


def test_migrating_back_returns_the_batches_to_the_old_table(transactional_db):
    from ingest.models import IngestBatch

    kept = IngestBatch.objects.create(
        resource="sprockets", on_conflict="error", request_hash="2" * 64, status_code=400
    )

    executor = migrate(BEFORE_THE_MOVE)

    OldBatch = executor.loader.project_state(BEFORE_THE_MOVE[0]).apps.get_model(
        "production", "IngestBatch"
    )
    assert list(OldBatch.objects.values_list("id", "resource", "status_code")) == [
        (kept.pk, "sprockets", 400)
    ]
    migrate(latest(executor))
