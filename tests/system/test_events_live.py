"""Live events in the production topology: nginx in front, the WSGI service for the API and
the ASGI events server (gunicorn with uvicorn's worker) for /production/events, on private
PostgreSQL and Redis. A write through nginx reaches every open stream; streams pass nginx
unbuffered with their heartbeats; many open streams cost the API nothing; a client that
stops reading delays nobody else."""

import json
import socket
import time

import pytest
import requests

from tests.events_helpers import frames_parse

pytestmark = pytest.mark.system

API = "/sprocketFactory/v1"
EVENTS = f"{API}/production/events"
DELIVERY_SECONDS = 2.0


class SSEClient:
    """A raw SSE connection, as an EventSource opens one, and the whole frames it has read
    (HTTP/1.0: the answer comes unchunked, ending when the connection does)."""

    def __init__(self, address: tuple[str, int], path: str = EVENTS, *, receive_buffer=None):
        self.sock = socket.socket()
        if receive_buffer:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.connect(address)
        self.sock.sendall(
            f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        self.text = ""

    def frames_until(self, condition, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.text.partition("\r\n\r\n")[2]
            whole = body[: body.rfind("\n\n") + 2] if "\n\n" in body else ""
            frames = frames_parse(whole)
            events = [f for f in frames if "event" in f or "comment" in f]
            if condition(events):
                return events
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            self.text += chunk.decode(errors="replace")
        raise AssertionError(f"not there in {timeout} s: {self.text[-2000:]}")

    def ready(self) -> list[dict]:
        return self.frames_until(lambda events: any(e.get("event") == "ready" for e in events))

    def close(self) -> None:
        self.sock.close()


def post_rows(service, token: str, factory_id: int, minute: int):
    rows = [
        {
            "factory_id": factory_id,
            "time": f"2024-05-01T10:{minute:02d}:00Z",
            "sprocket_production_actual": 7,
            "sprocket_production_goal": 8,
        }
    ]
    return requests.post(
        service.url(f"{API}/production/bulk?on_conflict=update"),
        data=json.dumps(rows),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        timeout=10,
    )


@pytest.fixture(scope="module")
def manager_token(service) -> str:
    return service.token("manager", "events-manager")


@pytest.fixture(scope="module")
def factory_id(service, manager_token) -> int:
    response = requests.post(
        service.url(f"{API}/factories"),
        json={"name": "Plant Events"},
        headers={"Authorization": f"Token {manager_token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def production_events(events: list[dict]) -> list[dict]:
    return [e for e in events if e.get("event") == "production"]


def test_a_bulk_write_through_nginx_reaches_an_open_stream_promptly(
    service, manager_token, factory_id
):
    client = SSEClient(service.address())
    try:
        client.ready()
        written = post_rows(service, manager_token, factory_id, 1)
        acknowledged = time.monotonic()

        events = client.frames_until(lambda e: production_events(e), timeout=DELIVERY_SECONDS)

        assert written.status_code == 201, written.text
        assert time.monotonic() - acknowledged < DELIVERY_SECONDS
        assert production_events(events)[0]["data"]["factory_id"] == factory_id
    finally:
        client.close()


def test_heartbeats_pass_nginx_unbuffered(service):
    client = SSEClient(service.address())
    try:
        client.ready()
        events = client.frames_until(
            lambda e: sum(1 for x in e if x.get("comment") == "heartbeat") >= 2, timeout=5
        )
        head = client.text.split("\r\n\r\n")[0].lower()
    finally:
        client.close()

    assert "content-type: text/event-stream" in head
    assert [x for x in events if x.get("comment") == "heartbeat"]


def test_many_open_streams_hold_no_thread_of_the_api(service):
    # The WSGI service has 2 workers of 4 threads: were streams served there, these would
    # exhaust them (or be refused at EVENTS_MAX_SYNC_STREAMS). More than the 64 requests in
    # progress nginx allows one address: streams are counted apart.
    clients = [SSEClient(service.address()) for _ in range(80)]
    try:
        for client in clients:
            client.ready()
        started = time.monotonic()
        response = requests.get(service.url(f"{API}/sprockets"), timeout=10)
        elapsed = time.monotonic() - started
    finally:
        for client in clients:
            client.close()

    assert response.status_code == 200
    assert elapsed < 2.0


def test_a_client_that_stops_reading_delays_no_other(
    service, private_redis, manager_token, factory_id
):
    stalled = SSEClient(service.address(), receive_buffer=4096)
    reader = SSEClient(service.address())
    try:
        stalled.ready()
        reader.ready()
        # Megabytes of events the stalled client will never take, straight into the stream.
        padding = "x" * 20000
        for _ in range(300):
            private_redis.command(
                "XADD",
                ":1:events:production",
                "MAXLEN",
                "~",
                "10000",
                "*",
                "kind",
                "production",
                "data",
                json.dumps({"factory_id": -1, "padding": padding}),
            )
        reader.frames_until(lambda e: len(production_events(e)) >= 300, timeout=20)
        post_rows(service, manager_token, factory_id, 2)
        posted = time.monotonic()

        reader.frames_until(
            lambda e: any(x["data"].get("factory_id") == factory_id for x in production_events(e)),
            timeout=DELIVERY_SECONDS,
        )

        assert time.monotonic() - posted < DELIVERY_SECONDS
    finally:
        stalled.close()
        reader.close()


def test_streams_that_reach_the_wsgi_threads_anyway_take_at_most_half_of_them(service):
    # 2 workers of 4 threads: each holds at most 2 streams, and answers 429 beyond. A stream
    # the worker took may still end at once saying the event store is unavailable (a Redis
    # that did not answer in time) and give its place back: only streams held are counted.
    clients = [SSEClient(service.address(direct=True)) for _ in range(7)]
    answers = {"ready", "error", "unavailable"}
    try:
        heads = []
        for client in clients:
            events = client.frames_until(
                lambda e: any(x.get("event") in answers for x in e), timeout=10
            )
            heads.append((client.text.split("\r\n")[0], events))
        answered = requests.get(service.url(f"{API}/sprockets", direct=True), timeout=10)
    finally:
        for client in clients:
            client.close()

    statuses = [head.split()[1] for head, _ in heads]
    held = [events for _, events in heads if any(x.get("event") == "ready" for x in events)]
    assert 1 <= len(held) <= 4
    assert "429" in statuses
    assert answered.status_code == 200
