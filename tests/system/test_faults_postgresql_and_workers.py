"""Faults of PostgreSQL and of the workers under load: a restart, a worker killed mid-ingest,
a client that hangs up half-way through a body."""

import json
import re
import socket
import subprocess
import threading
import time
from itertools import count

import requests
from psycopg import sql

from tests.system.conftest import (
    PrivatePostgres,
    PrivateRedis,
    Service,
    running_service,
    wait_until,
)
from tests.system.fault_helpers import (
    API,
    ReadLoad,
    as_role,
    assert_json_503,
    bulk_post,
    dashboard_seeded,
    database,
    factory_create,
    production_rows,
    record_count,
    round_robin,
    scalar,
)


def test_a_postgresql_restart_under_read_load_fails_at_most_one_read_per_worker(
    own_postgres: PrivatePostgres, own_redis: PrivateRedis
):
    with running_service(own_postgres, own_redis) as service:
        _, reads, expected = dashboard_seeded(service)
        workers = len(service.worker_pids())
        uncached = count()

        def fresh_detail(_: int) -> tuple[str, str]:
            # A query string never asked before: a cache miss, so the read goes to PostgreSQL.
            return "detail", f"{reads['detail']}?probe={next(uncached)}"

        # Every gunicorn thread gets a persistent connection to PostgreSQL.
        warm = ReadLoad(service, fresh_detail, threads=8, max_requests=5)
        with warm.running():
            pass
        assert {a.status for a in warm.answers} == {200}

        dashboards = ReadLoad(service, round_robin(reads), threads=4, seconds=5)
        direct = ReadLoad(service, fresh_detail, threads=1, seconds=5)
        with dashboards.running(), direct.running():
            wait_until(lambda: len(dashboards.answers) >= 40, timeout=10, what="40 reads")
            restart_began = time.monotonic()
            own_postgres.restart()
            restarted_at = time.monotonic()
            # The first reads that need PostgreSQL again, on every thread of every worker.
            probe = ReadLoad(service, fresh_detail, threads=8, max_requests=5)
            with probe.running():
                pass

        failed = [a for a in [*dashboards.answers, *probe.answers] if a.status != 200]
        assert len(failed) <= workers, [(a.kind, a.status, a.body[:200]) for a in failed]
        for answer in [*failed, *(a for a in direct.answers if a.status != 200)]:
            assert_json_503(answer)
            assert answer.retry_after is not None
        # Reads that had to reach PostgreSQL fail only while it restarts.
        for answer in direct.answers:
            if answer.status != 200:
                assert restart_began < answer.started + answer.seconds
                assert answer.started < restarted_at
        for answer in [*dashboards.answers, *direct.answers, *probe.answers]:
            if answer.status == 200:
                assert answer.json() == expected[answer.kind], answer.kind
        after = [a for a in [*dashboards.answers, *direct.answers] if a.started > restarted_at]
        assert after, "no reads after the restart"
        assert all(a.status == 200 for a in after)
        assert len(probe.answers) == 40


def _worker_with_local_port(service: Service, port: int) -> int:
    """The gunicorn worker whose PostgreSQL connection leaves from `port`."""
    out = subprocess.run(
        ["ss", "-Htnp", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    owners = {int(pid) for pid in re.findall(r"pid=(\d+)", out)}
    (worker,) = owners & set(service.worker_pids())
    return worker


def test_a_worker_killed_in_the_middle_of_a_bulk_ingest_writes_none_of_it(
    own_postgres: PrivatePostgres, own_redis: PrivateRedis
):
    with running_service(own_postgres, own_redis) as service:
        manager = as_role(service, "manager")
        factory_id = factory_create(service, manager, "Killed mid-ingest")
        rows = production_rows(factory_id, 100_000)
        answers: list[requests.Response | Exception] = []

        def ingest() -> None:
            try:
                answers.append(bulk_post(service, manager, rows, timeout=120))
            except requests.RequestException as error:
                answers.append(error)

        with database(service) as connection, database(service) as watcher:
            batches_before = scalar(connection, "SELECT count(*) FROM ingest_ingestbatch")
            # The COPY's statement trigger waits for this lock after every row is in the
            # table, uncommitted: the worker is killed at that point, every time.
            with connection.transaction():
                connection.execute(
                    "LOCK TABLE production_productionhourlyrollup, production_productiondailyrollup "
                    "IN SHARE MODE"
                )
                poster = threading.Thread(target=ingest, daemon=True)
                poster.start()

                def copy_waiting() -> tuple | None:
                    return watcher.execute(
                        "SELECT pid, client_port FROM pg_stat_activity WHERE datname = "
                        "current_database() AND query LIKE 'COPY production_productionrecord%' "
                        "AND wait_event_type = 'Lock'"
                    ).fetchone()

                wait_until(copy_waiting, timeout=60, what="the bulk COPY waiting on the lock")
                backend, client_port = copy_waiting()
                # Every row is written (the table's partitions have grown by them) but none is
                # committed.
                assert scalar(watcher, "SELECT count(*) FROM production_productionrecord") == 0
                assert scalar(
                    watcher,
                    "SELECT sum(pg_relation_size(relid)) "
                    "FROM pg_partition_tree('production_productionrecord')",
                ) > 40 * len(rows)
                victim = _worker_with_local_port(service, client_port)
                subprocess.run(["kill", "-KILL", str(victim)], check=True)
                poster.join(timeout=30)
                assert not poster.is_alive()
            # The lock is released: the backend finds its client gone and rolls back.

            def backend_gone() -> bool:
                return not scalar(
                    watcher, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (backend,)
                )

            wait_until(backend_gone, timeout=30, what="the killed worker's session ended")
            # nginx answers for the worker that died.
            (answer,) = answers
            assert not isinstance(answer, Exception), answer
            assert answer.status_code == 502
            assert answer.headers["Content-Type"] == "application/json"
            assert record_count(service, factory_id) == 0
            for rollup in ("production_productionhourlyrollup", "production_productiondailyrollup"):
                query = sql.SQL("SELECT count(*) FROM {} WHERE factory_id = %s")
                assert not scalar(watcher, query.format(sql.Identifier(rollup)), (factory_id,))
            assert scalar(watcher, "SELECT count(*) FROM ingest_ingestbatch") == batches_before

        wait_until(
            lambda: len(set(service.worker_pids()) - {victim}) == 2,
            timeout=30,
            what="gunicorn replaced the killed worker",
        )
        small = production_rows(factory_id, 50)
        response = bulk_post(service, manager, small)
        assert response.status_code == 201, response.text
        assert response.json()["created"] == 50
        assert record_count(service, factory_id) == 50
        summary = requests.get(
            service.url(f"{API}/production/summary?factory_id={factory_id}"), timeout=10
        ).json()
        (overall,) = [row for row in summary if row["bucket"] is None]
        assert overall["sprocket_production_actual"] == sum(
            r["sprocket_production_actual"] for r in small
        )


def test_a_client_that_hangs_up_half_way_through_a_bulk_body_writes_none_of_it(
    service: Service,
):
    manager = as_role(service, "manager")
    factory_id = factory_create(service, manager, "Half a body")
    body = json.dumps(production_rows(factory_id, 20_000)).encode()
    host, port = service.env["GUNICORN_BIND"].rsplit(":", 1)
    request_id = f"half-body-{time.monotonic_ns()}"
    head = (
        f"POST {API}/production/bulk HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        f"Authorization: {manager['Authorization']}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Request-ID: {request_id}\r\n"
        "\r\n"
    ).encode()

    with socket.create_connection((host, int(port)), timeout=10) as client:
        client.sendall(head + body[: len(body) // 2])

    def logged() -> list[dict]:
        return [json.loads(line) for line in service.log().splitlines() if request_id in line]

    # The service is done with the request once it has logged it.
    wait_until(
        lambda: any(line.get("event") == "request" for line in logged()),
        timeout=30,
        what="the half-sent request was answered",
    )
    (line,) = [line for line in logged() if line.get("event") == "request"]
    assert 400 <= line["status"] < 500, line
    assert record_count(service, factory_id) == 0

    response = bulk_post(service, manager, production_rows(factory_id, 30))
    assert response.status_code == 201, response.text
    assert record_count(service, factory_id) == 30
