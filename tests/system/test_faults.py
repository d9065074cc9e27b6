"""Faults under load: Redis or PostgreSQL going away, a worker killed, a client that hangs up.

Every test that stops a server has servers of its own (`own_postgres`, `own_redis`).
"""

import contextlib
import http.client
import json
import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import count

import psycopg
import requests
from psycopg import sql

from tests.system.conftest import (
    PrivatePostgres,
    PrivateRedis,
    Service,
    running_service,
    wait_until,
)

API = "/sprocketFactory/v1"
BASE_TIME = 1_704_067_200  # 2024-01-01T00:00:00Z
# django-redis's key for the production generation (no KEY_PREFIX, version 1).
GENERATION_KEY = ":1:generation:production"
PROMPT_SECONDS = 1.0


# --- helpers -------------------------------------------------------------------------------


def as_role(service: Service, role: str) -> dict[str, str]:
    return {"Authorization": f"Token {service.token(role)}"}


def factory_create(service: Service, manager: dict[str, str], name: str) -> int:
    response = requests.post(
        service.url(f"{API}/factories"), json={"name": name}, headers=manager, timeout=10
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def production_rows(factory_id: int, size: int, *, start: int = BASE_TIME) -> list[dict]:
    """`size` minute-spaced records from `start` (unix seconds) on."""
    return [
        {
            "factory_id": factory_id,
            "time": start + 60 * i,
            "sprocket_production_actual": i % 97,
            "sprocket_production_goal": 100,
        }
        for i in range(size)
    ]


def bulk_post(
    service: Service, manager: dict[str, str], rows: list[dict], timeout: float = 60
) -> requests.Response:
    return requests.post(
        service.url(f"{API}/production/bulk"),
        data=json.dumps(rows).encode(),
        headers={**manager, "Content-Type": "application/json"},
        timeout=timeout,
    )


@contextlib.contextmanager
def database(service: Service) -> Iterator[psycopg.Connection]:
    """A connection of the test's own to the service's database (autocommit)."""
    with psycopg.connect(service.env["DATABASE_URL"], autocommit=True) as connection:
        yield connection


def scalar(connection: psycopg.Connection, query, params: tuple = ()) -> object:
    (value,) = connection.execute(query, params).fetchone()
    return value


def record_count(service: Service, factory_id: int) -> int:
    with database(service) as connection:
        return scalar(
            connection,
            "SELECT count(*) FROM production_productionrecord WHERE factory_id = %s",
            (factory_id,),
        )


@dataclass
class Answer:
    kind: str
    started: float
    seconds: float
    status: int | None  # None: no HTTP answer at all
    content_type: str = ""
    etag: str | None = None
    body: bytes = b""
    error: str = ""
    retry_after: str | None = None

    def json(self) -> object:
        return json.loads(self.body)


@dataclass
class ReadLoad:
    """Threads sending GETs back to back (each its own keep-alive session) until `seconds`
    have passed or each has sent `max_requests`; every answer is kept."""

    service: Service
    next_read: Callable[[int], tuple[str, str]]  # request number -> (kind, path)
    threads: int = 4
    seconds: float = 4.0
    max_requests: int = 5000
    answers: list[Answer] = field(default_factory=list)

    def _run(self, offset: int, deadline: float) -> None:
        with requests.Session() as session:
            for n in range(self.max_requests):
                if time.monotonic() > deadline:
                    return
                kind, path = self.next_read(offset + n)
                started = time.monotonic()
                try:
                    response = session.get(self.service.url(path), timeout=10)
                except requests.RequestException as error:
                    answer = Answer(
                        kind, started, time.monotonic() - started, None, error=str(error)
                    )
                else:
                    answer = Answer(
                        kind,
                        started,
                        response.elapsed.total_seconds(),
                        response.status_code,
                        response.headers.get("Content-Type", ""),
                        response.headers.get("ETag"),
                        response.content,
                        retry_after=response.headers.get("Retry-After"),
                    )
                self.answers.append(answer)

    @contextlib.contextmanager
    def running(self) -> Iterator["ReadLoad"]:
        deadline = time.monotonic() + self.seconds
        workers = [
            threading.Thread(target=self._run, args=(i * 7, deadline), daemon=True)
            for i in range(self.threads)
        ]
        for worker in workers:
            worker.start()
        try:
            yield self
        finally:
            for worker in workers:
                worker.join(timeout=self.seconds + 30)
        assert not any(worker.is_alive() for worker in workers), "a load thread did not end"


def dashboard_reads(factory_id: int, record_id: int) -> dict[str, str]:
    """What a dashboard reads: lists, a detail, chart data and a summary."""
    return {
        "list": f"{API}/production?factory_id={factory_id}&limit=100",
        "factory-list": f"{API}/production/{factory_id}?limit=50&ordering=-time",
        "detail": f"{API}/production/records/{record_id}",
        "chart-data": f"{API}/factories/{factory_id}/chart-data",
        "summary": f"{API}/production/summary?factory_id={factory_id}&bucket=hour",
    }


def round_robin(reads: dict[str, str]) -> Callable[[int], tuple[str, str]]:
    items = list(reads.items())
    return lambda n: items[n % len(items)]


def dashboard_seeded(service: Service, size: int = 600) -> tuple[dict, dict[str, str], dict]:
    """A factory with `size` records; the dashboard's reads and what each must answer."""
    manager = as_role(service, "manager")
    factory_id = factory_create(service, manager, f"Plant {time.monotonic_ns()}")
    rows = production_rows(factory_id, size)
    assert bulk_post(service, manager, rows).status_code == 201
    (first,) = requests.get(
        service.url(f"{API}/production/{factory_id}?limit=1"), timeout=10
    ).json()
    reads = dashboard_reads(factory_id, first["id"])
    expected = {
        kind: requests.get(service.url(path), timeout=10).json() for kind, path in reads.items()
    }
    # What the database answered, checked against what was written.
    assert [r["sprocket_production_actual"] for r in expected["list"]] == [
        r["sprocket_production_actual"] for r in rows[:100]
    ]
    assert expected["detail"] == first
    assert expected["chart-data"]["factory"]["chart_data"]["time"] == [r["time"] for r in rows]
    (overall,) = [row for row in expected["summary"] if row["bucket"] is None]
    assert overall["sprocket_production_actual"] == sum(
        r["sprocket_production_actual"] for r in rows
    )
    return {"factory_id": factory_id, "manager": manager, "rows": rows}, reads, expected


def assert_json_503(answer: Answer) -> None:
    assert answer.status == 503, (answer.status, answer.error, answer.body[:300])
    assert answer.content_type == "application/json", answer.body[:300]
    assert "detail" in answer.json()


class RedisLink:
    """A TCP relay on loopback between the service and Redis that a test cuts and mends: a
    network partition, during which Redis keeps every key it had."""

    MAX_CONNECTIONS = 1000

    def __init__(self, redis: PrivateRedis) -> None:
        self.target = ("127.0.0.1", redis.port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.is_cut = threading.Event()
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _accept(self) -> None:
        for _ in range(self.MAX_CONNECTIONS):
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            if self.is_cut.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=1)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            for _ in range(1_000_000):
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.is_cut.set()
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for end in sockets:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def mend(self) -> None:
        self.is_cut.clear()

    def close(self) -> None:
        self.cut()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()


def _worker_serving(service: Service, connection: http.client.HTTPConnection) -> int:
    """The gunicorn worker that accepted this keep-alive connection."""
    port = connection.sock.getsockname()[1]
    out = subprocess.run(
        ["ss", "-Htnp", "state", "established", f"( dport = :{port} )"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (worker,) = {int(pid) for pid in re.findall(r"pid=(\d+)", out)} & set(service.worker_pids())
    return worker


@contextlib.contextmanager
def connections_to_each_worker(service: Service) -> Iterator[list[http.client.HTTPConnection]]:
    """One keep-alive connection to each of the two workers (closed after)."""
    host, port = service.env["GUNICORN_BIND"].rsplit(":", 1)
    by_worker: dict[int, http.client.HTTPConnection] = {}
    # Which worker accepts a connection is a race between them; on a busy machine one may win
    # many times running, so try often, within a deadline.
    deadline = time.monotonic() + 30
    try:
        for _ in range(1000):
            if time.monotonic() > deadline:
                break
            connection = http.client.HTTPConnection(host, int(port), timeout=10)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            worker = _worker_serving(service, connection)
            if worker in by_worker:
                connection.close()
            else:
                by_worker[worker] = connection
            if len(by_worker) == 2:
                break
        assert len(by_worker) == 2, "no connection reached the second worker"
        yield list(by_worker.values())
    finally:
        for connection in by_worker.values():
            connection.close()


def response_cached(redis: PrivateRedis, etag: str) -> bool:
    """Whether Redis holds the response entry behind `etag` (the ETag is its key)."""
    key = etag.strip('"')
    return redis.command("EXISTS", f":1:response:{key}").strip() == "1"


def _exchange(
    connection: http.client.HTTPConnection, method: str, path: str, **kwargs
) -> tuple[http.client.HTTPResponse, object]:
    connection.request(method, path, **kwargs)
    response = connection.getresponse()
    body = response.read()
    return response, json.loads(body) if body else None


# --- Redis ---------------------------------------------------------------------------------


def test_reads_are_served_from_postgresql_while_redis_is_down_and_cached_again_after(
    own_postgres: PrivatePostgres, own_redis: PrivateRedis
):
    with running_service(own_postgres, own_redis) as service:
        plant, reads, expected = dashboard_seeded(service)
        load = ReadLoad(service, round_robin(reads), threads=4, seconds=4)

        with load.running():
            wait_until(lambda: len(load.answers) >= 40, timeout=10, what="40 reads answered")
            own_redis.stop()
            redis_down_at = time.monotonic()

        after_stop = [a for a in load.answers if a.started > redis_down_at]
        assert len(after_stop) >= 100, "too few reads while Redis was down"
        for answer in load.answers:
            assert answer.status == 200, (answer.kind, answer.status, answer.error)
            assert answer.json() == expected[answer.kind], answer.kind
        slowest = max(load.answers, key=lambda a: a.seconds)
        assert slowest.seconds < PROMPT_SECONDS, (slowest.kind, slowest.seconds)
        # Straight from PostgreSQL: no ETag without the generations kept in Redis.
        assert all(a.etag is None for a in after_stop)
        assert "Cache unavailable" in service.log()

        # A write while Redis is down is read back at once.
        (late,) = production_rows(plant["factory_id"], 1, start=BASE_TIME + 60 * 10_000)
        created = requests.post(
            service.url(f"{API}/production"), json=late, headers=plant["manager"], timeout=10
        )
        assert created.status_code == 201, created.text
        newest = requests.get(service.url(reads["factory-list"]), timeout=10).json()
        assert newest[0] == created.json()

        own_redis.start()
        # One connection to each worker: each has served from the cache again, not just one.
        with connections_to_each_worker(service) as connections:

            def cached_again() -> bool:
                etags = {
                    _exchange(c, "GET", reads["factory-list"])[0].getheader("ETag")
                    for c in connections
                }
                return len(etags) == 1 and None not in etags and response_cached(own_redis, *etags)

            wait_until(cached_again, timeout=10, what="responses cached again by every worker")
            for connection in connections:
                first, _ = _exchange(connection, "GET", reads["factory-list"])
                second, body = _exchange(connection, "GET", reads["factory-list"])
                assert first.getheader("ETag") == second.getheader("ETag")
                assert body[0] == created.json()  # no stale entry
                revalidated, _ = _exchange(
                    connection,
                    "GET",
                    reads["factory-list"],
                    headers={"If-None-Match": second.getheader("ETag")},
                )
                assert revalidated.status == 304
        summary = requests.get(service.url(reads["summary"]), timeout=10).json()
        (overall,) = [row for row in summary if row["bucket"] is None]
        assert overall["sprocket_production_actual"] == sum(
            r["sprocket_production_actual"] for r in [*plant["rows"], late]
        )


def test_a_write_during_a_partition_from_redis_is_seen_by_every_worker_after_it(
    own_postgres: PrivatePostgres, own_redis: PrivateRedis
):
    # Redis kept its entries and the generation it had; the writer's bump was lost in the cut.
    # Every worker that noticed the cut (a failed call or its watchdog's ping) bumps every
    # generation as Redis answers again, before trusting the cache; the test waits for that
    # bump to land, without any request, then reads from the other worker.
    link = RedisLink(own_redis)
    try:
        with running_service(own_postgres, own_redis, REDIS_URL=link.url) as service:
            manager = as_role(service, "manager")
            factory_id = factory_create(service, manager, "Partitioned")
            assert bulk_post(service, manager, production_rows(factory_id, 10)).status_code == 201
            newest = f"{API}/production/{factory_id}?ordering=-time&limit=1"
            with connections_to_each_worker(service) as (writer, reader):
                for connection in (writer, reader):
                    response, before = _exchange(connection, "GET", newest)
                    assert response.status == 200
                assert own_redis.command("DBSIZE").strip() != "0"

                generation_before_cut = own_redis.command("GET", GENERATION_KEY)
                link.cut()
                (late,) = production_rows(factory_id, 1, start=BASE_TIME + 60 * 1000)
                response, created = _exchange(
                    writer,
                    "POST",
                    f"{API}/production",
                    body=json.dumps(late),
                    headers={**manager, "Content-Type": "application/json"},
                )
                assert response.status == 201
                link.mend()
                wait_until(
                    lambda: own_redis.command("GET", GENERATION_KEY) != generation_before_cut,
                    timeout=10,
                    what="no worker bumped the generations after the cut",
                )

                seen = [_exchange(reader, "GET", newest)[1] for _ in range(3)]
    finally:
        link.close()

    assert before != [created]
    assert seen == [[created]] * 3


# --- PostgreSQL ----------------------------------------------------------------------------


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


# --- a worker killed, a client gone --------------------------------------------------------


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
                # Every row is written (the table has grown by them) but none is committed.
                assert scalar(watcher, "SELECT count(*) FROM production_productionrecord") == 0
                assert scalar(
                    watcher, "SELECT pg_relation_size('production_productionrecord')"
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
            (answer,) = answers
            assert isinstance(answer, requests.ConnectionError), answer
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
