"""A single-record write and a bulk upsert that meet in opposite key order (PostgreSQL only).

A PATCH moves record X from (factory B, t1) to (A, t2) while an `on_conflict=update` bulk
writes (A, t2) then (B, t1), in key order: the PATCH holds X and waits for the bulk's new
(A, t2); the bulk waits for X. PostgreSQL breaks the deadlock by failing one of them. Neither
client may see a 5xx for it, and the data must stay consistent.

The interleaving is forced: a third connection holds X while the PATCH, then the bulk, queue
for it, and lets go once both wait. Each side gets its own `deadlock_timeout`, which decides
which one PostgreSQL picks as the victim.
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import psycopg
import pytest
from django.db import OperationalError, connection

from core.api.exceptions import api_exception_handler, error_status_and_detail
from ingest.body import Counts
from ingest.models import OnConflict
from inventory.tests.factories import FactoryFactory
from production.columns import ProductionColumns
from production.copy import RowConflicts, production_rows_copy
from production.models import ProductionRecord
from production.tests.factories import FIRST_MINUTE
from tests.servers import wait_until

API = "/sprocketFactory/v1"
BULK = f"{API}/production/bulk?on_conflict=update"
ROUNDS = 4
# The victim notices the deadlock after its own timeout; the other side never does first.
QUICK, PATIENT = "200ms", "60s"

# Threads with connections of their own see only committed data.
on_postgresql_with_threads = pytest.mark.usefixtures("on_postgresql", "transactional_db")


def new_connection(*, autocommit: bool) -> psycopg.Connection:
    params = connection.settings_dict
    return psycopg.connect(
        dbname=params["NAME"],
        user=params["USER"],
        password=params["PASSWORD"] or None,
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        autocommit=autocommit,
    )


def waiting_on_locks(monitor: psycopg.Connection) -> int:
    return monitor.execute(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    ).fetchone()[0]


def with_deadlock_timeout(timeout: str, request):
    """Runs `request()` on this thread's own connection, closed afterwards."""

    def run():
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"SET deadlock_timeout = '{timeout}'")
            return request()
        finally:
            connection.close()

    return run


def rollups_match_records() -> bool:
    """Both rollups hold exactly the sums of the raw records."""
    with connection.cursor() as cursor:
        for table, unit, column in (
            ("production_productionhourlyrollup", "hour", "hour"),
            ("production_productiondailyrollup", "day", "day"),
        ):
            cursor.execute(
                f"""
                WITH raw AS (
                    SELECT factory_id, date_trunc('{unit}', time, 'UTC') AS period,
                           sum(sprocket_production_actual) AS actual,
                           sum(sprocket_production_goal) AS goal, count(*) AS records
                    FROM production_productionrecord GROUP BY 1, 2),
                kept AS (
                    SELECT factory_id, {column} AS period, sprocket_production_actual AS actual,
                           sprocket_production_goal AS goal, records
                    FROM {table})
                SELECT count(*) FROM ((TABLE raw EXCEPT TABLE kept)
                                      UNION ALL (TABLE kept EXCEPT TABLE raw)) AS difference
                """  # noqa: S608 (names from the constants above)
            )
            if cursor.fetchone()[0]:
                return False
    return True


def keys_are_unique() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM production_productionrecord "
            "GROUP BY factory_id, time HAVING count(*) > 1) AS repeated"
        )
        return cursor.fetchone()[0] == 0


@pytest.mark.parametrize(
    ("victim", "patch_timeout", "bulk_timeout", "patch_status"),
    [
        # The PATCH fails first; retried, it finds (A, t2) taken by the bulk: a 409.
        ("patch", QUICK, PATIENT, 409),
        # The bulk fails first; retried after the PATCH committed, it updates X at (A, t2).
        ("bulk", PATIENT, QUICK, 200),
    ],
)
@on_postgresql_with_threads
def test_a_patch_and_a_bulk_that_deadlock_answer_without_a_5xx(
    operator, manager, victim, patch_timeout, bulk_timeout, patch_status
):
    factory_a, factory_b = FactoryFactory(), FactoryFactory()
    assert factory_a.pk < factory_b.pk  # the bulk writes (A, t2) first
    monitor = new_connection(autocommit=True)
    blocker = new_connection(autocommit=False)
    statuses = []
    try:
        for round_ in range(ROUNDS):
            t1 = FIRST_MINUTE + timedelta(hours=2 * round_)
            t2 = t1 + timedelta(hours=1)
            moved = ProductionRecord.objects.create(
                factory=factory_b, time=t1, sprocket_production_actual=1, sprocket_production_goal=1
            )
            blocker.execute(
                "SELECT 1 FROM production_productionrecord WHERE id = %s FOR UPDATE", [moved.pk]
            )
            patch = with_deadlock_timeout(
                patch_timeout,
                lambda moved=moved, t2=t2: operator.patch(
                    f"{API}/production/records/{moved.pk}",
                    {"factory_id": factory_a.pk, "time": t2.isoformat()},
                    format="json",
                ),
            )
            rows = [
                {"factory_id": factory_a.pk, "time": t2.isoformat(), "sprocket_production_actual": 7,
                 "sprocket_production_goal": 8},
                {"factory_id": factory_b.pk, "time": t1.isoformat(), "sprocket_production_actual": 5,
                 "sprocket_production_goal": 6},
            ]  # fmt: skip
            bulk = with_deadlock_timeout(
                bulk_timeout, lambda rows=rows: manager.post(BULK, rows, format="json")
            )
            with ThreadPoolExecutor(max_workers=2) as threads:
                patched = threads.submit(patch)
                wait_until(lambda: waiting_on_locks(monitor) == 1, timeout=10, what="PATCH waits")
                ingested = threads.submit(bulk)
                wait_until(lambda: waiting_on_locks(monitor) == 2, timeout=10, what="bulk waits")
                blocker.commit()
                patch_response = patched.result(timeout=60)
                bulk_response = ingested.result(timeout=60)
            statuses.append((patch_response.status_code, bulk_response.status_code))

            assert patch_response.status_code < 500, patch_response.content
            assert bulk_response.status_code < 500, bulk_response.content
            assert patch_response.status_code == patch_status, patch_response.content
            assert bulk_response.status_code == 201, bulk_response.content
    finally:
        blocker.close()
        monitor.close()

    assert statuses == [(patch_status, 201)] * ROUNDS
    assert keys_are_unique()
    assert rollups_match_records()
    assert ProductionRecord.objects.count() == 2 * ROUNDS


@on_postgresql_with_threads
def test_writers_that_cross_each_other_at_random_leave_consistent_data(operator, manager):
    """Unforced: PATCHes moving records back and forth between two factories while bulk
    upserts write the same keys, many times over; whatever the timing, no 5xx."""
    factory_a, factory_b = FactoryFactory(), FactoryFactory()
    times = [FIRST_MINUTE + timedelta(minutes=n) for n in range(6)]
    records = [
        ProductionRecord.objects.create(
            factory=factory_b, time=moment, sprocket_production_actual=1, sprocket_production_goal=1
        )
        for moment in times[:3]
    ]

    def patches():
        answers = []
        for round_ in range(15):
            for record, moment in zip(records, times[3:], strict=True):
                target = (factory_a, moment) if round_ % 2 == 0 else (factory_b, record.time)
                answers.append(
                    operator.patch(
                        f"{API}/production/records/{record.pk}",
                        {"factory_id": target[0].pk, "time": target[1].isoformat()},
                        format="json",
                    ).status_code
                )
        return answers

    def bulks():
        rows = [
            {"factory_id": factory.pk, "time": moment.isoformat(),
             "sprocket_production_actual": 3, "sprocket_production_goal": 4}
            for factory in (factory_a, factory_b) for moment in times
        ]  # fmt: skip
        return [manager.post(BULK, rows, format="json").status_code for _ in range(15)]

    with ThreadPoolExecutor(max_workers=2) as threads:
        patched = threads.submit(with_deadlock_timeout("100ms", patches))
        ingested = threads.submit(with_deadlock_timeout("100ms", bulks))
        answers = patched.result(timeout=120) + ingested.result(timeout=120)

    assert all(status < 500 for status in answers), answers
    assert keys_are_unique()
    assert rollups_match_records()


# A deadlock that still reaches the API (a second one, after the retry) is a retryable 409.


def deadlock_error() -> OperationalError:
    error = OperationalError("deadlock detected")
    error.__cause__ = psycopg.errors.DeadlockDetected("deadlock detected")
    return error


def test_a_deadlock_that_reaches_the_api_is_a_retryable_409_not_unavailable():
    response = api_exception_handler(deadlock_error(), {"view": None})

    assert response.status_code == 409
    assert response["Retry-After"] == "1"
    assert "retry" in response.data["detail"].lower()
    assert "unavailable" not in response.data["detail"]


def test_a_deadlock_is_audited_as_the_409_it_is_answered_with():
    status_code, detail = error_status_and_detail(deadlock_error())

    assert status_code == 409
    assert "retry" in str(detail).lower()


# The careful second run writes what the first would have.


@pytest.mark.usefixtures("on_postgresql")
@pytest.mark.parametrize(
    ("on_conflict", "counts"),
    [
        (OnConflict.ERROR, None),  # (B, t1) exists: a conflict, nothing written
        (OnConflict.SKIP, Counts(created=1, skipped=1)),
        (OnConflict.UPDATE, Counts(created=1, updated=1)),
    ],
)
def test_a_careful_write_gives_what_a_first_one_gives(on_conflict, counts):
    factory_a, factory_b = FactoryFactory(), FactoryFactory()
    t1, t2 = FIRST_MINUTE, FIRST_MINUTE + timedelta(hours=1)
    ProductionRecord.objects.create(
        factory=factory_b, time=t1, sprocket_production_actual=1, sprocket_production_goal=1
    )
    columns = ProductionColumns()
    for factory, moment in ((factory_a, t2), (factory_b, t1)):
        columns.factory_ids.append(factory.pk)
        columns.times.append(int(moment.timestamp()))
        columns.actual.append(5)
        columns.goal.append(6)

    if counts is None:
        with pytest.raises(RowConflicts):
            production_rows_copy(columns, on_conflict=on_conflict, conflict_limit=10, careful=True)
        assert ProductionRecord.objects.count() == 1
    else:
        written = production_rows_copy(
            columns, on_conflict=on_conflict, conflict_limit=10, careful=True
        )
        assert written == counts
        assert ProductionRecord.objects.count() == 2
    assert rollups_match_records()
