"""Concurrent work kept in bounds: slots for long streams, and deadlock victims retried.

A CSV export holds a thread and a database transaction for as long as its client reads. A
`ConcurrencyLimit` hands out leases: at most so many per user across every process (a Redis
sorted set of leases that expire unless renewed, so a worker that dies cannot leak one) and
so many per process (a counter under a lock, which keeps threads free for everything else).
When Redis is missing or down, each process counts its users' leases itself: the per-process
bound holds whatever happens. `LeasedStream` holds a lease while a response body is sent and
ends a stream whose client stops taking it.
"""

import contextlib
import gc
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import TypeVar

from django.db import OperationalError, connection

from core.cache import redis_client

logger = logging.getLogger(__name__)

DEADLOCK_DETECTED = "40P01"  # PostgreSQL's SQLSTATE for the victim of a deadlock

T = TypeVar("T")

# KEYS[1]: the user's leases; ARGV: the bound, the lease's seconds, its token. Expired leases
# go first; scores are expiry times by Redis's own clock, so no two hosts' clocks are compared.
ACQUIRE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 1000))
return 1
"""
# ARGV: the lease's seconds, its token. A lease that has expired meanwhile stays gone.
RENEW = """
if not redis.call('ZSCORE', KEYS[1], ARGV[2]) then return 0 end
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1]) * 1000))
return 1
"""


def is_deadlock(error: BaseException) -> bool:
    """Whether a database error is PostgreSQL breaking a deadlock by failing this statement."""
    return (
        isinstance(error, OperationalError)
        and getattr(error.__cause__, "sqlstate", None) == DEADLOCK_DETECTED
    )


def deadlock_retried(write: Callable[[], T], *, again: Callable[[], T] | None = None) -> T:
    """`write()`, and `again()` (by default `write()` once more) if PostgreSQL picked it as
    a deadlock's victim.

    `write` must open its own transaction or savepoint: rolling it back releases the locks it
    took, so the other writer goes on. `again` should take its locks in an order that waits
    for that writer instead of crossing it once more. A second deadlock is raised (the API
    answers it as a retryable 409).
    """
    try:
        return write()
    except OperationalError as error:
        if not is_deadlock(error):
            raise
        logger.warning("Deadlock victim, run once more: %s", str(error).splitlines()[0])
    return (again or write)()


class LimitReached(Exception):
    """No lease: `scope` says which bound is full ("user" or "process")."""

    def __init__(self, scope: str, bound: int) -> None:
        super().__init__(f"{scope} bound of {bound} reached")
        self.scope = scope
        self.bound = bound


class Lease:
    """One slot of a `ConcurrencyLimit`, held until `release()` (which may be called twice)."""

    def __init__(self, limit: "ConcurrencyLimit", who: str, seconds: float, token: str | None):
        self.limit, self.who, self.seconds, self.token = limit, who, seconds, token
        self.renewed_at = time.monotonic()
        self.released = False

    def renew(self) -> None:
        """Keep a Redis lease alive; cheap to call for every chunk (renews every third of it)."""
        if self.token is None or time.monotonic() - self.renewed_at < self.seconds / 3:
            return
        self.renewed_at = time.monotonic()
        key = self.limit._key(self.who)
        self.limit._redis_call(
            "renew",
            lambda client: client.register_script(RENEW)(
                keys=[key], args=[self.seconds, self.token], client=client
            ),
        )

    def release(self) -> None:
        self.limit._release(self)

    def dropped(self) -> None:
        """Its holder was garbage-collected unclosed: release it at the limit's next use (not
        now, from inside the collector, which may have interrupted the limit's own counting)."""
        if not self.released:
            self.limit._dropped.append(self)


class ConcurrencyLimit:
    """Leases of one kind of work (`name`), bounded per user and per process."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._running = 0
        self._local_by_user: Counter[str] = Counter()
        self._dropped: list[Lease] = []

    def acquire(self, who: str, *, per_user: int, per_process: int, seconds: float) -> Lease:
        """A lease for `who` (a user key), or LimitReached; a Redis lease lasts `seconds`
        after it is taken or renewed."""
        self._release_dropped()
        try:
            return self._acquire(who, per_user=per_user, per_process=per_process, seconds=seconds)
        except LimitReached:
            # A response dropped without being closed (an error after the view; Django's test
            # client keeps an unread stream in a reference cycle) gives its lease back only
            # when collected: look once before refusing. Refusals are rare and rate-throttled.
            gc.collect()
            if not self._dropped:
                raise
        self._release_dropped()
        return self._acquire(who, per_user=per_user, per_process=per_process, seconds=seconds)

    def _release_dropped(self) -> None:
        while True:
            try:
                lease = self._dropped.pop()
            except IndexError:
                return
            lease.release()

    def _acquire(self, who: str, *, per_user: int, per_process: int, seconds: float) -> Lease:
        with self._lock:
            if self._running >= per_process:
                raise LimitReached("process", per_process)
            self._running += 1
        try:
            return self._user_lease(who, per_user=per_user, seconds=seconds)
        except BaseException:
            with self._lock:
                self._running -= 1
            raise

    def _user_lease(self, who: str, *, per_user: int, seconds: float) -> Lease:
        token = uuid.uuid4().hex
        taken = self._redis_call(
            "acquire",
            lambda client: client.register_script(ACQUIRE)(
                keys=[self._key(who)], args=[per_user, seconds, token], client=client
            ),
        )
        if taken is not None:
            if not taken:
                raise LimitReached("user", per_user)
            return Lease(self, who, seconds, token)
        with self._lock:  # no Redis: this process's own count
            if self._local_by_user[who] >= per_user:
                raise LimitReached("user", per_user)
            self._local_by_user[who] += 1
        return Lease(self, who, seconds, None)

    def _release(self, lease: Lease) -> None:
        with self._lock:
            if lease.released:
                return
            lease.released = True
            self._running -= 1
            if lease.token is None:
                self._local_by_user[lease.who] -= 1
                if not self._local_by_user[lease.who]:
                    del self._local_by_user[lease.who]
        if lease.token is not None:
            self._redis_call(
                "release", lambda client: client.zrem(self._key(lease.who), lease.token)
            )

    def _key(self, who: str) -> str:
        # User ids are a database's: two deployments sharing one Redis count apart.
        return f"concurrency:{self.name}:{connection.settings_dict['NAME']}:{who}"

    def _redis_call(self, what: str, call: Callable):
        """`call(client)`'s answer, or None without Redis or when it fails (logged)."""
        client = redis_client()
        if client is None:
            return None
        try:
            return call(client)
        except Exception as error:
            logger.warning("Redis unavailable for %s leases (%s): %s", self.name, what, error)
            return None


class LeasedStream:
    """A streamed response body that holds `lease` until it is closed, and gives up on a
    client that has not taken a chunk for `idle_seconds`.

    gunicorn's threads write with blocking sockets: a client that stops reading would keep
    the thread, and whatever the stream holds (a transaction), forever. A send timeout on the
    client's socket (`gunicorn.socket` in the WSGI environ) makes the write fail instead;
    gunicorn then closes the body, which ends the stream and frees the lease.
    """

    def __init__(self, chunks: Iterator[bytes], *, lease: Lease, sock=None, idle_seconds: float):
        self._chunks = chunks
        self._lease = lease
        self._sock = sock if idle_seconds > 0 else None
        if self._sock is not None:
            self._prior_timeout = self._sock.gettimeout()
            self._sock.settimeout(idle_seconds)

    def __iter__(self) -> "LeasedStream":
        return self

    def __next__(self) -> bytes:
        chunk = next(self._chunks)
        self._lease.renew()
        return chunk

    def close(self) -> None:
        try:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
        finally:
            if self._sock is not None:
                with contextlib.suppress(OSError):
                    self._sock.settimeout(self._prior_timeout)
                self._sock = None
            self._lease.release()

    def __del__(self) -> None:
        # A response dropped unsent (an error after the view) must not keep its slot.
        self._lease.dropped()
