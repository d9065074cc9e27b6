"""CSV exports whose clients never read (DESIGN §4 CSV export, §7), against gunicorn itself.

gunicorn's threads write with blocking sockets: a client that stops reading a 300k-row export
leaves its thread blocked in a send and its PostgreSQL transaction open. Such clients may take
no more than EXPORT_MAX_PER_USER streams each and EXPORT_MAX_PER_PROCESS per worker (the rest
get a JSON 429), `/healthz` and ordinary reads keep answering meanwhile, and every stalled
stream ends, with its transaction, once its client has taken nothing for EXPORT_IDLE_SECONDS.

The clients talk to gunicorn directly (GUNICORN_BIND): a buffering proxy in front would read
the stream for them.
"""

import contextlib
import json
import socket
import urllib.request
from collections.abc import Iterator

import psycopg
import pytest

from tests.servers import wait_until
from tests.system.conftest import PrivatePostgres, PrivateRedis, Service, running_service

API = "/sprocketFactory/v1"
ROWS = 300_000
# A worker may run more exports than one user may: the third of a user is refused by the
# user bound, whichever worker its connection reaches. One thread per worker stays free.
WORKERS, PER_USER, PER_PROCESS, IDLE_SECONDS = 2, 2, 3, 3


@pytest.fixture
def service(private_postgres: PrivatePostgres) -> Iterator[Service]:
    redis = PrivateRedis()  # leases of this test's own
    redis.start()
    try:
        with running_service(
            private_postgres,
            redis,
            WEB_CONCURRENCY=str(WORKERS),
            GUNICORN_THREADS="4",
            EXPORT_MAX_PER_USER=str(PER_USER),
            EXPORT_MAX_PER_PROCESS=str(PER_PROCESS),
            EXPORT_IDLE_SECONDS=str(IDLE_SECONDS),
            EXPORT_THROTTLE_RATE="1000/hour",
        ) as running:
            yield running
    finally:
        redis.stop()


def gunicorn_address(service: Service) -> tuple[str, int]:
    host, port = service.env["GUNICORN_BIND"].rsplit(":", 1)
    return host, int(port)


def factory_with_rows(service: Service, rows: int) -> int:
    with psycopg.connect(service.env["DATABASE_URL"], autocommit=True) as connection:
        (factory_id,) = connection.execute(
            "INSERT INTO inventory_factory (name, timezone, is_active, created_at, updated_at) "
            "VALUES ('Stalled exports', 'UTC', true, now(), now()) RETURNING id"
        ).fetchone()
        connection.execute(
            "INSERT INTO production_productionrecord (factory_id, time, "
            "sprocket_production_actual, sprocket_production_goal) "
            "SELECT %s, timestamptz '2021-01-01 00:00Z' + n * interval '1 minute', n %% 17, 20 "
            "FROM generate_series(0, %s - 1) AS n",
            (factory_id, rows),
        )
    return factory_id


def exports_in_postgresql(service: Service) -> int:
    """Backends of the service's database running an export's COPY or holding its
    transaction open."""
    with psycopg.connect(service.env["DATABASE_URL"], autocommit=True) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND (query ILIKE 'COPY%%' AND state <> 'idle' "
            "OR state LIKE 'idle in transaction%%')"
        ).fetchone()
    return count


class StalledExport:
    """A client that asks for an export and never reads its body (only the status line)."""

    def __init__(self, service: Service, token: str, factory_id: int) -> None:
        self.sock = socket.socket()
        # A small window, so the stream fills the buffers between us quickly.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(10)
        self.sock.connect(gunicorn_address(service))
        self.sock.sendall(
            f"GET {API}/production/{factory_id}?format=csv HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\nAuthorization: Token {token}\r\n\r\n".encode()
        )
        self.status = int(self.sock.recv(12).split()[1])  # b"HTTP/1.1 200"

    def refusal(self) -> tuple[dict[str, str], dict]:
        """The headers and JSON body of a (short) refusal, read to its end."""
        answer = b""
        while chunk := self.sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer:
                head, body = answer.split(b"\r\n\r\n", 1)
                headers = dict(
                    line.split(": ", 1) for line in head.decode().split("\r\n")[1:] if ": " in line
                )
                if len(body) >= int(headers["Content-Length"]):
                    return headers, json.loads(body)
        raise AssertionError(f"the connection closed mid-answer: {answer!r}")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def answers_within_a_second(url: str, token: str | None = None) -> bool:
    headers = {"Authorization": f"Token {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=1) as answer:
        answer.read()
        return answer.status == 200


def test_clients_that_never_read_take_no_more_than_the_bounds_and_are_let_go(service: Service):
    factory_id = factory_with_rows(service, ROWS)
    tokens = {user: service.token("viewer", username=f"stalled-{user}") for user in "abcd"}
    reader = service.token("viewer", username="reader")
    direct = "http://" + service.env["GUNICORN_BIND"]
    stalled: list[StalledExport] = []
    try:
        # One user: two streams, then a 429, whichever worker each connection reaches.
        stalled += [StalledExport(service, tokens["a"], factory_id) for _ in range(PER_USER + 1)]
        assert [export.status for export in stalled] == [200] * PER_USER + [429]
        headers, body = stalled[-1].refusal()
        assert headers["Content-Type"] == "application/json"
        assert int(headers["Retry-After"]) > 0
        assert "EXPORT_MAX_PER_USER" in body["detail"]

        # More users: no worker runs more than its bound, whoever asks.
        for user in "bcd":
            stalled += [StalledExport(service, tokens[user], factory_id) for _ in range(PER_USER)]
        accepted = [export for export in stalled if export.status == 200]
        assert PER_USER <= len(accepted) <= WORKERS * PER_PROCESS
        assert all(export.status in {200, 429} for export in stalled)
        # Six more asked, with room for four: the workers refused the rest.
        refused = [export for export in stalled[PER_USER + 1 :] if export.status == 429]
        assert len(refused) >= 6 - (WORKERS * PER_PROCESS - PER_USER)
        assert "EXPORT_MAX_PER_PROCESS" in refused[0].refusal()[1]["detail"]
        wait_until(
            lambda: exports_in_postgresql(service) == len(accepted),
            timeout=10,
            what="each accepted export holding its transaction",
        )

        # Meanwhile the service answers, on every worker (each request a new connection).
        for _ in range(10):
            assert answers_within_a_second(f"{direct}/healthz")
        assert answers_within_a_second(f"{direct}{API}/production/{factory_id}?limit=10", reader)
        assert exports_in_postgresql(service) == len(accepted)  # still stalled, still held

        # The idle deadline ends every stalled stream and its transaction.
        wait_until(
            lambda: exports_in_postgresql(service) == 0,
            timeout=IDLE_SECONDS + 20,
            what="the stalled exports' transactions ending",
        )
        # Their leases are free again: the first user exports the whole factory.
        request = urllib.request.Request(
            f"{direct}{API}/production/{factory_id}?format=csv",
            headers={"Authorization": f"Token {tokens['a']}"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: answer.read(1 << 20), b""))
        assert lines == ROWS + 1
    finally:
        for export in stalled:
            export.close()
