"""CSV exports are bounded (DESIGN §4 CSV export, §7): how many run at once per user and per
process, how long their statement may run, and how long a client may leave a stream unread.

A stream holds a thread and a transaction while its client reads: a client that never reads
must not hold them forever, and many of them must not take every thread. The real thing
(gunicorn, clients that stop reading) is in tests/system/test_export_stalls.py.
"""

import gc
import socket
from datetime import UTC, datetime

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from redis.backoff import NoBackoff
from redis.retry import Retry
from rest_framework.throttling import ScopedRateThrottle

from core.ops import concurrency
from core.ops.concurrency import ConcurrencyLimit, LeasedStream, LimitReached
from inventory.tests.factories import FactoryFactory
from production.tests.factories import create_records
from tests.servers import wait_until

PRODUCTION = "/sprocketFactory/v1/production"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_history(settings) -> None:
    # Throttle counts and leases live in the cache under user ids, which tests reuse.
    cache.clear()
    settings.EXPORT_MAX_PER_USER = 2
    settings.EXPORT_MAX_PER_PROCESS = 4


@pytest.fixture
def plant():
    factory = FactoryFactory()
    create_records(factory, 50, start=datetime(2021, 1, 21, tzinfo=UTC))
    return factory


def export(client, plant):
    return client.get(f"{PRODUCTION}/{plant.pk}?format=csv")


def read(response) -> bytes:
    return b"".join(response.streaming_content)


def close(response) -> None:
    """As a WSGI server closes a response; the test's database connection stays open (as the
    test client keeps it for the responses it closes itself)."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


# How many at once.


def test_a_third_export_of_a_user_with_two_running_is_a_429_with_retry_after(viewer, plant):
    running = [export(viewer, plant) for _ in range(2)]

    refused = export(viewer, plant)

    assert [response.status_code for response in running] == [200, 200]
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    assert "EXPORT_MAX_PER_USER" in refused.json()["detail"]
    assert int(refused["Retry-After"]) > 0
    for response in running:
        close(response)


def test_a_finished_export_frees_its_slot(viewer, plant, settings):
    settings.EXPORT_MAX_PER_USER = 1
    statuses = []

    for _ in range(3):
        response = export(viewer, plant)
        statuses.append(response.status_code)
        read(response)  # to the end, which closes it

    assert statuses == [200, 200, 200]


def test_an_export_closed_before_it_was_read_frees_its_slot(viewer, plant, settings):
    settings.EXPORT_MAX_PER_USER = 1
    close(export(viewer, plant))

    assert export(viewer, plant).status_code == 200


def test_an_export_response_dropped_unsent_frees_its_slot(viewer, plant, settings):
    settings.EXPORT_MAX_PER_USER = 1
    export(viewer, plant)  # never read, never closed: only garbage
    gc.collect()

    response = export(viewer, plant)

    assert response.status_code == 200
    close(response)


def test_exports_beyond_the_process_bound_are_refused_whoever_asks(api_client_as, plant, settings):
    settings.EXPORT_MAX_PER_PROCESS = 2
    viewer, operator, manager = (api_client_as(role) for role in ("viewer", "operator", "manager"))
    running = [export(viewer, plant), export(operator, plant)]

    refused = export(manager, plant)

    assert [response.status_code for response in running] == [200, 200]
    assert refused.status_code == 429
    assert "EXPORT_MAX_PER_PROCESS" in refused.json()["detail"]
    for response in running:
        close(response)


def test_exports_refused_for_running_too_many_do_not_use_up_the_export_rate(
    viewer, plant, settings, monkeypatch
):
    monkeypatch.setattr(
        ScopedRateThrottle, "THROTTLE_RATES", {"export": "3/min", "login": "10/min"}
    )
    settings.EXPORT_MAX_PER_USER = 1
    running = export(viewer, plant)
    refusals = [export(viewer, plant).status_code for _ in range(5)]  # a client retrying
    close(running)
    statuses = []

    for _ in range(3):
        response = export(viewer, plant)
        statuses.append(response.status_code)
        close(response)

    assert refusals == [429] * 5
    assert statuses == [200, 200, 429]  # the rate counted the exports that ran, only


def test_other_reads_are_not_bounded_by_running_exports(viewer, plant, settings):
    settings.EXPORT_MAX_PER_PROCESS = 1
    running = export(viewer, plant)

    assert viewer.get(f"{PRODUCTION}/{plant.pk}").status_code == 200
    assert viewer.get(f"{PRODUCTION}/{plant.pk}?format=json").status_code == 200
    close(running)


def test_a_refused_export_starts_no_query_on_the_records(viewer, plant, settings):
    settings.EXPORT_MAX_PER_USER = 1
    running = export(viewer, plant)

    with CaptureQueriesContext(connection) as queries:
        refused = export(viewer, plant)

    assert refused.status_code == 429
    assert not [q for q in queries if "production_productionrecord" in q["sql"]]
    close(running)


# The leases behind the bounds.


def test_the_user_bound_holds_across_processes_through_redis(on_redis):
    one, other = ConcurrencyLimit("test-export"), ConcurrencyLimit("test-export")  # 2 processes
    held = [one.acquire("user:1", per_user=2, per_process=9, seconds=60)]
    held.append(other.acquire("user:1", per_user=2, per_process=9, seconds=60))

    with pytest.raises(LimitReached) as refused:
        one.acquire("user:1", per_user=2, per_process=9, seconds=60)

    assert refused.value.scope == "user"
    assert other.acquire("user:2", per_user=2, per_process=9, seconds=60)
    held[0].release()
    assert one.acquire("user:1", per_user=2, per_process=9, seconds=60)


def test_a_lease_of_a_process_that_died_expires_by_itself(on_redis):
    dead, alive = ConcurrencyLimit("test-export"), ConcurrencyLimit("test-export")
    dead.acquire("user:3", per_user=1, per_process=9, seconds=0.3)  # never released

    def free_again() -> bool:
        try:
            alive.acquire("user:3", per_user=1, per_process=9, seconds=60).release()
        except LimitReached:
            return False
        return True

    wait_until(free_again, timeout=5, what="the dead process's lease did not expire")


def test_a_lease_renewed_by_its_stream_does_not_expire(on_redis):
    limit, other = ConcurrencyLimit("test-export"), ConcurrencyLimit("test-export")
    lease = limit.acquire("user:4", per_user=1, per_process=9, seconds=0.6)
    deadline = lease.renewed_at + 1.5

    while lease.renewed_at < deadline:  # a stream sending chunks for longer than the lease
        lease.renew()
        with pytest.raises(LimitReached):
            other.acquire("user:4", per_user=1, per_process=9, seconds=60)
    lease.release()


def test_with_redis_down_each_process_counts_its_users_and_its_own_bound(monkeypatch):
    limit = ConcurrencyLimit("test-export")
    monkeypatch.setattr(concurrency, "redis_client", lambda: unreachable_redis())
    leases = [limit.acquire("user:5", per_user=2, per_process=3, seconds=60) for _ in range(2)]

    with pytest.raises(LimitReached) as per_user:
        limit.acquire("user:5", per_user=2, per_process=3, seconds=60)
    leases.append(limit.acquire("user:6", per_user=2, per_process=3, seconds=60))
    with pytest.raises(LimitReached) as per_process:
        limit.acquire("user:7", per_user=2, per_process=3, seconds=60)

    assert (per_user.value.scope, per_process.value.scope) == ("user", "process")
    for lease in leases:
        lease.release()
        lease.release()  # twice is harmless
    assert limit.acquire("user:5", per_user=2, per_process=3, seconds=60)


def unreachable_redis() -> redis.Redis:
    """A client of a Redis that is down, giving up at once as the cache's client does."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once closed
    return redis.Redis(port=port, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))


def test_without_redis_at_all_each_process_counts_its_users(monkeypatch):
    limit = ConcurrencyLimit("test-export")
    monkeypatch.setattr(concurrency, "redis_client", lambda: None)  # the embedded default's cache
    lease = limit.acquire("user:9", per_user=1, per_process=3, seconds=60)

    with pytest.raises(LimitReached):
        limit.acquire("user:9", per_user=1, per_process=3, seconds=60)
    lease.release()
    assert limit.acquire("user:9", per_user=1, per_process=3, seconds=60)


@pytest.fixture
def on_redis() -> None:
    if getattr(cache, "client", None) is None:
        pytest.skip("needs Redis (set REDIS_URL)")


# A client that stops reading.


def send_body(stream: LeasedStream, sock: socket.socket) -> None:
    """As gunicorn writes a response body."""
    for chunk in stream:
        sock.sendall(chunk)


def test_a_stream_whose_client_stops_reading_fails_its_send_after_the_idle_deadline():
    limit = ConcurrencyLimit("test-export")
    lease = limit.acquire("user:8", per_user=1, per_process=1, seconds=60)
    server, client = socket.socketpair()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    chunks = iter([b"x" * 65536] * 1000)  # far more than the socket buffers hold
    stream = LeasedStream(chunks, lease=lease, sock=server, idle_seconds=0.2)
    try:
        with pytest.raises(TimeoutError):
            send_body(stream, server)  # the client reads nothing
        stream.close()

        assert server.gettimeout() is None  # as gunicorn had it
        assert limit.acquire("user:8", per_user=1, per_process=1, seconds=60)
    finally:
        server.close()
        client.close()


# How long an export may run.


def test_exports_have_a_statement_timeout_by_default():
    assert django_settings.EXPORT_STATEMENT_TIMEOUT > 0


def test_an_export_runs_under_export_statement_timeout(viewer, plant, settings, on_postgresql):
    settings.EXPORT_STATEMENT_TIMEOUT = 123_456

    with CaptureQueriesContext(connection) as queries:
        read(export(viewer, plant))

    assert any("statement_timeout = 123456" in q["sql"] for q in queries)


def test_the_bounds_are_on_every_export_path(viewer, plant, settings):
    settings.EXPORT_MAX_PER_USER = 1
    running = viewer.get(f"{PRODUCTION}?format=csv")

    assert export(viewer, plant).status_code == 429
    close(running)
