"""What the fault tests (tests/system/test_faults_*.py) share: clients, loads, a Redis link
that can be cut, and ways to reach each gunicorn worker.

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

import psycopg
import requests

from tests.system.conftest import (
    PrivateRedis,
    Service,
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
    """Whether Redis holds the response behind `etag`: the view's entry (the ETag is its key),
    or, for an anonymous read, the whole answer kept for replay (core/ops/replay.py)."""
    key = etag.strip('"')
    if redis.command("EXISTS", f":1:response:{key}").strip() == "1":
        return True
    replays = redis.command("KEYS", ":1:replay:*:meta").split()
    return any(json.loads(redis.command("GET", meta))["etag"] == etag for meta in replays)


def http_exchange(
    connection: http.client.HTTPConnection, method: str, path: str, **kwargs
) -> tuple[http.client.HTTPResponse, object]:
    connection.request(method, path, **kwargs)
    response = connection.getresponse()
    body = response.read()
    return response, json.loads(body) if body else None


# --- Redis ---------------------------------------------------------------------------------
