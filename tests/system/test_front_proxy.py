"""nginx in front of gunicorn (deploy/nginx.conf.template): slow clients cost nginx a connection,
never a gunicorn thread; every error nginx or gunicorn answers itself is JSON; throttles see
the client's address; static files and bulk bodies pass.
"""

import contextlib
import http.client
import json
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.system.conftest import (
    FrontProxy,
    PrivateRedis,
    Service,
    free_port,
    running_service,
    wait_until,
)

API = "/sprocketFactory/v1"
PROMPT_SECONDS = 1.0
NORMAL_READS = ["/healthz", f"{API}/sprockets"]
# A header that never ends, and a body that never ends: each comes a line or a byte a second.
SLOW_HEADER = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
SLOW_BODY = (
    f"POST {API}/production/bulk HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n["
).encode()


@pytest.fixture(scope="module")
def front_service(private_postgres) -> Iterator[Service]:
    """A service of its own: its gunicorn is stalled on purpose, its login throttle strict."""
    redis = PrivateRedis()
    redis.start()
    try:
        with running_service(private_postgres, redis, LOGIN_THROTTLE_RATE="3/min") as running:
            yield running
    finally:
        redis.stop()


def cut_off(sock: socket.socket) -> bool:
    """Whether the server has closed this connection."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


class SlowClients:
    """`headers` clients that send a request line and then a header line a second, and `bodies`
    clients that send a whole header and then a byte of their body a second, from `source`."""

    def __init__(
        self, address: tuple[str, int], *, headers: int, bodies: int, source: str = "127.0.0.1"
    ) -> None:
        self.address, self.source = address, source
        self.counts = {"header": headers, "body": bodies}
        self.sockets: dict[str, list[socket.socket]] = {"header": [], "body": []}
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._trickle, daemon=True)

    def __enter__(self) -> "SlowClients":
        for kind, opening in (("header", SLOW_HEADER), ("body", SLOW_BODY)):
            for _ in range(self.counts[kind]):
                sock = socket.create_connection(self.address, 5, (self.source, 0))
                sock.settimeout(None)  # blocking, so that MSG_DONTWAIT decides
                sock.sendall(opening)
                self.sockets[kind].append(sock)
        self.thread.start()
        return self

    def _trickle(self) -> None:
        while not self.stopped.wait(1.0):
            for kind, piece in (("header", b"X-Slow: 1\r\n"), ("body", b" ")):
                for sock in self.sockets[kind]:
                    with contextlib.suppress(OSError):
                        sock.send(piece, socket.MSG_DONTWAIT)

    def still_open(self, kind: str) -> int:
        return sum(not cut_off(sock) for sock in self.sockets[kind])

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)
        for sock in self.sockets["header"] + self.sockets["body"]:
            sock.close()


def normal_reads(service: Service, *, direct: bool, seconds: float, timeout: float) -> list:
    """(path, seconds, status or None when unanswered in `timeout`) of reads sent one after
    another, each on a new connection, for `seconds`."""
    answers = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for path in NORMAL_READS:
            started = time.monotonic()
            try:
                status = requests.get(service.url(path, direct=direct), timeout=timeout).status_code
            except requests.Timeout:
                status = None
            answers.append((path, time.monotonic() - started, status))
    return answers


def test_slow_clients_leave_normal_requests_prompt_behind_nginx(front_service: Service):
    with SlowClients(front_service.address(), headers=200, bodies=50) as slow:
        answers = normal_reads(front_service, direct=False, seconds=4, timeout=5)
        assert (slow.still_open("header"), slow.still_open("body")) == (200, 50)

    latencies = [seconds for _, seconds, _ in answers]
    print(
        f"\nbehind nginx, 200 slow-header + 50 slow-body clients: {len(answers)} reads, "
        f"median {1000 * statistics.median(latencies):.1f} ms, max {1000 * max(latencies):.1f} ms"
    )
    assert {path for path, _, _ in answers} == set(NORMAL_READS)
    assert {status for _, _, status in answers} == {200}
    assert max(latencies) < PROMPT_SECONDS


def test_the_same_slow_clients_stall_gunicorn_without_nginx(front_service: Service):
    # Each gunicorn thread (2 workers x 4) waits on a client that has sent its first bytes.
    with SlowClients(front_service.address(direct=True), headers=200, bodies=50):
        answers = normal_reads(front_service, direct=True, seconds=2, timeout=PROMPT_SECONDS)

    print(f"\ngunicorn alone, the same slow clients: {len(answers)} reads, none answered in 1 s")
    assert answers
    assert {status for _, _, status in answers} == {None}
    wait_until(
        lambda: front_service.healthy(direct=True), timeout=30, what="gunicorn answered again"
    )


def test_nginx_cuts_off_a_header_that_trickles_and_a_body_that_stalls(front_service: Service):
    started = time.monotonic()
    with (
        SlowClients(front_service.address(), headers=5, bodies=5) as slow,
        socket.create_connection(front_service.address()) as stalled,
    ):
        stalled.sendall(SLOW_BODY)

        wait_until(
            lambda: slow.still_open("header") == 0 and cut_off(stalled),
            timeout=20,
            what="nginx cut off the slow header and the stalled body",
        )
        elapsed = time.monotonic() - started
        # A body that keeps coming, however slowly, is not cut off.
        assert slow.still_open("body") == 5
        assert stalled.recv(1024) == b""  # no answer: nginx sends no 408

    assert 9 < elapsed < 15  # client_header_timeout and client_body_timeout: 10 s


def test_connections_in_progress_per_client_address_are_limited(front_service: Service):
    answers = []

    def refused() -> bool:
        answers.append(fetch(front_service, "GET", f"{API}/sprockets", source="127.0.0.4"))
        return answers[-1].status != 200

    # 64 bodies on their way from one address: nginx counts each once it has read its header.
    with SlowClients(front_service.address(), headers=0, bodies=64, source="127.0.0.4"):
        wait_until(refused, timeout=10, what="a 65th request from the address was refused")
        other = fetch(front_service, "GET", f"{API}/sprockets", source="127.0.0.5")

    assert_json(answers[-1], 429)
    assert answers[-1].getheader("Retry-After") == "1"
    assert other.status == 200


def fetch(service: Service, method: str, path: str, *, source: str, **kwargs):
    """A request through nginx from a loopback address of our own (127.0.0.0/8 is all ours)."""
    connection = http.client.HTTPConnection(*service.address(), 10, (source, 0))
    connection.request(method, path, **kwargs)
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def assert_json(response, status: int) -> dict:
    assert response.status == status, response.body[:300]
    assert response.getheader("Content-Type") == "application/json", response.getheaders()
    return json.loads(response.body)


def test_throttles_tell_clients_apart_by_the_address_nginx_forwards(front_service: Service):
    def login(source: str, **headers: str) -> int:
        body = json.dumps({"username": "nobody", "password": "wrong"})
        headers |= {"Content-Type": "application/json"}
        return fetch(
            front_service, "POST", f"{API}/auth/token", source=source, body=body, headers=headers
        ).status

    # LOGIN_THROTTLE_RATE is 3/min; gunicorn sees every client come from nginx, 127.0.0.1.
    assert [login("127.0.0.2") for _ in range(3)] == [400, 400, 400]
    assert login("127.0.0.2") == 429
    # What the client says it forwards is kept, but nginx's entry is the one read.
    assert login("127.0.0.2", **{"X-Forwarded-For": "203.0.113.9"}) == 429
    assert login("127.0.0.3") == 400


def test_nginx_passes_the_host_and_replaces_a_forwarded_proto_the_client_sent(
    front_service: Service,
):
    manager = {"Authorization": f"Token {front_service.token('manager', 'front-manager')}"}
    headers = {**manager, "X-Forwarded-Proto": "https"}

    behind = requests.post(
        front_service.url(f"{API}/factories"), json={"name": "Front"}, headers=headers, timeout=10
    )
    direct = requests.post(
        front_service.url(f"{API}/factories", direct=True),
        json={"name": "Direct"},
        headers=headers,
        timeout=10,
    )

    assert behind.status_code == direct.status_code == 201
    assert behind.headers["Location"].startswith(front_service.base_url + API)
    # Why gunicorn is never published: TRUST_X_FORWARDED_PROTO believes whoever reaches it.
    assert direct.headers["Location"].startswith("https://")


def test_static_files_are_served_by_nginx_from_the_collected_root(front_service: Service):
    front_service.manage("collectstatic", "--noinput", "-v0")
    collected = Path(front_service.env["STATIC_ROOT"]) / "production" / "dashboard.js"

    response = requests.get(
        front_service.url("/static/production/dashboard.js"),
        headers={"Accept-Encoding": "gzip"},
        timeout=10,
    )

    assert response.status_code == 200
    assert response.content == collected.read_bytes()
    assert response.headers["Content-Encoding"] == "gzip"  # the .gz collectstatic wrote
    assert "X-Request-ID" not in response.headers  # gunicorn never saw the request


def test_a_bulk_body_of_several_megabytes_passes(front_service: Service):
    manager = {"Authorization": f"Token {front_service.token('manager', 'front-manager')}"}
    factory = requests.post(
        front_service.url(f"{API}/factories"), json={"name": "Bulky"}, headers=manager, timeout=10
    ).json()
    rows = [
        {
            "factory_id": factory["id"],
            "time": 1_704_067_200 + 60 * n,
            "sprocket_production_actual": n % 97,
            "sprocket_production_goal": 100,
        }
        for n in range(50_000)
    ]
    body = json.dumps(rows).encode()
    assert len(body) > 4 * 1024 * 1024

    response = requests.post(
        front_service.url(f"{API}/production/bulk"),
        data=body,
        headers={**manager, "Content-Type": "application/json"},
        timeout=120,
    )

    assert response.status_code == 201, response.text
    assert response.json()["created"] == 50_000


# (id, raw request, status behind nginx, status from gunicorn alone)
HOST = "Host: 127.0.0.1\r\n"
MALFORMED = [
    (
        "request-line-too-long",
        f"GET {API}/sprockets?q={'a' * 9000} HTTP/1.1\r\n{HOST}\r\n",
        414,
        414,
    ),
    (
        "header-too-long",
        f"GET {API}/sprockets HTTP/1.1\r\n{HOST}X-Big: {'a' * 9000}\r\n\r\n",
        400,
        431,
    ),
    ("not-http", "HELLO THERE\r\n\r\n", 400, 400),
    ("bad-header-line", f"GET {API}/sprockets HTTP/1.1\r\n{HOST}Accept json\r\n\r\n", 400, 400),
    ("trace", f"TRACE {API}/sprockets HTTP/1.1\r\n{HOST}\r\n", 405, 405),
    ("http-2-request-line", f"GET {API}/sprockets HTTP/2.0\r\n{HOST}\r\n", 505, 400),
    (
        "unknown-transfer-coding",
        f"POST {API}/factories HTTP/1.1\r\n{HOST}Transfer-Encoding: bogus\r\n\r\n",
        501,
        501,
    ),
]


def raw_exchange(address: tuple[str, int], request: bytes) -> http.client.HTTPResponse:
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock)
        response.begin()
        response.body = response.read()
    return response


@pytest.mark.parametrize("direct", [False, True], ids=["nginx", "gunicorn"])
@pytest.mark.parametrize(
    ("request_text", "behind_nginx", "alone"),
    [pytest.param(*case[1:], id=case[0]) for case in MALFORMED],
)
def test_a_request_the_servers_refuse_themselves_is_answered_in_json(
    front_service: Service, direct: bool, request_text: str, behind_nginx: int, alone: int
):
    response = raw_exchange(front_service.address(direct=direct), request_text.encode())

    assert "detail" in assert_json(response, alone if direct else behind_nginx)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("GET", "/sprockets", None), ("POST", "/production/bulk", b"[" + b" " * 2_000_000 + b"]")],
    ids=["read", "bulk"],
)
def test_a_service_that_is_down_is_a_json_502(tmp_path: Path, method, path, body):
    front = FrontProxy(
        tmp_path,
        upstream=f"127.0.0.1:{free_port()}",
        events_upstream=f"127.0.0.1:{free_port()}",
        static_root=tmp_path,
    )
    front.start()
    try:
        response = requests.request(method, f"{front.url}{API}{path}", data=body, timeout=10)
    finally:
        front.stop()

    assert response.status_code == 502
    assert response.headers["Content-Type"] == "application/json"
    assert "unavailable" in response.json()["detail"]


def test_a_service_that_does_not_take_the_connection_is_a_json_504(tmp_path: Path):
    # A listener whose accept queue is full: the kernel drops nginx's connection attempts.
    with socket.create_server(("127.0.0.1", 0), backlog=0) as listener:
        waiting = [socket.socket() for _ in range(3)]
        for sock in waiting:
            sock.setblocking(False)
            sock.connect_ex(listener.getsockname())
        front = FrontProxy(
            tmp_path,
            upstream=f"127.0.0.1:{listener.getsockname()[1]}",
            events_upstream=f"127.0.0.1:{free_port()}",
            static_root=tmp_path,
        )
        front.start()
        try:
            response = requests.get(f"{front.url}{API}/sprockets", timeout=30)
        finally:
            front.stop()
            for sock in waiting:
                sock.close()

    assert response.status_code == 504  # after proxy_connect_timeout, 5 s
    assert response.headers["Content-Type"] == "application/json"
    assert "in time" in response.json()["detail"]
