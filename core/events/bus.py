"""Where events go after commit, and where streams read them from.

With Redis (REDIS_URL) each stream is a Redis Stream: XADD with an approximate MAXLEN
(EVENTS_STREAM_MAXLEN), read by every open connection with XREAD from the last id it sent,
so a slow reader only ever delays itself and a reconnecting one resumes where it stopped.
Without Redis (the embedded default, one process) a bounded list in memory does the same.

An event id is `<epoch>.<entry id>`. The epoch is the stream's birth: a Redis that restarted
(it keeps nothing on disk) starts a new one, so a client holding an id of the old epoch is
told it missed events instead of silently resuming. A client whose next event was trimmed
away is told the same (`Batch.behind`).
"""

import asyncio
import contextlib
import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import orjson
from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver

from core.cache import redis_client
from core.redis_connections import redis_from_settings


@dataclass
class Batch:
    """Entries after a position, oldest first; `behind` when some were lost before them."""

    entries: list[tuple[str, str, dict]] = field(default_factory=list)  # (id, kind, data)
    behind: bool = False


def _entry_id_key(entry_id: str) -> tuple[int, int]:
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds), int(sequence or 0)


def event_id_split(event_id: str | None) -> tuple[str, str] | None:
    """(epoch, entry id) of an id a client sent back, or None if it is not one of ours."""
    if not event_id:
        return None
    epoch, dot, entry_id = event_id.partition(".")
    try:
        _entry_id_key(entry_id)
    except ValueError:
        return None
    return (epoch, entry_id) if dot and epoch.isdigit() else None


class LocalBus:
    """One process's streams in memory: the embedded default (runserver, no Redis)."""

    def __init__(self) -> None:
        self.epoch_value = str(time.time_ns() // 1000)
        self._condition = threading.Condition()
        self._streams: dict[str, deque] = {}
        self._trimmed: dict[str, tuple[int, int]] = {}
        self._sequence = itertools.count()
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def publish(self, stream: str, events: list[tuple[str, dict]]) -> None:
        with self._condition:
            entries = self._streams.setdefault(stream, deque())
            for kind, data in events:
                entries.append(
                    (f"{time.time_ns() // 1_000_000}-{next(self._sequence)}", kind, data)
                )
            while len(entries) > settings.EVENTS_STREAM_MAXLEN:
                self._trimmed[stream] = _entry_id_key(entries.popleft()[0])
            self._condition.notify_all()
            waiters = list(self._async_waiters)
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)

    def epoch(self, stream: str) -> str:
        return self.epoch_value

    async def aepoch(self, stream: str) -> str:
        return self.epoch_value

    async def alatest(self, stream: str) -> str:
        return self.latest(stream)

    def latest(self, stream: str) -> str:
        with self._condition:
            entries = self._streams.get(stream)
            return entries[-1][0] if entries else "0-0"

    def _after(self, stream: str, after: str) -> Batch:
        position = _entry_id_key(after)
        entries = self._streams.get(stream, ())
        newer = [entry for entry in entries if _entry_id_key(entry[0]) > position]
        return Batch(newer, behind=self._trimmed.get(stream, (0, 0)) > position)

    def read(self, stream: str, after: str, block_seconds: float) -> Batch:
        with self._condition:
            self._condition.wait_for(lambda: self.latest(stream) != after, timeout=block_seconds)
            return self._after(stream, after)

    async def aread(self, stream: str, after: str, block_seconds: float) -> Batch:
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        self._async_waiters.add(waiter)
        try:
            if self.latest(stream) == after:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter[1].wait(), block_seconds)
            with self._condition:
                return self._after(stream, after)
        finally:
            self._async_waiters.discard(waiter)


def _decoded(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisBus:
    """Streams in Redis: shared by every process of every web node. Every open stream holds
    one connection of its process's pool (redis-py's default pool holds 100)."""

    # How many entries one read hands a stream at most; the next read takes the rest.
    READ_COUNT = 500

    def __init__(self) -> None:
        self._sync_client = None
        self._async_clients: dict[int, object] = {}

    @staticmethod
    def key(stream: str) -> str:
        return cache.make_and_validate_key(f"events:{stream}")

    def _client(self):
        # Its own connections: XREAD BLOCK waits longer than the cache's socket timeout.
        if self._sync_client is None:
            self._sync_client = redis_from_settings(
                max_connections=settings.EVENTS_MAX_SYNC_STREAMS + POOL_SPARE,
                **self._timeouts(),
            )
        return self._sync_client

    def _aclient(self):
        loop = id(asyncio.get_running_loop())
        if loop not in self._async_clients:
            self._async_clients[loop] = redis_from_settings(
                asynchronous=True,
                max_connections=settings.EVENTS_MAX_ASYNC_STREAMS + POOL_SPARE,
                **self._timeouts(),
            )
        return self._async_clients[loop]

    @staticmethod
    def _timeouts() -> dict:
        # Nobody waits on a stream's connect as on a cached read: a busy moment may take a
        # second rather than end the stream (a Redis that is down refuses at once anyway).
        return {
            "socket_connect_timeout": max(settings.REDIS_SOCKET_TIMEOUT, 2.0),
            "socket_timeout": settings.EVENTS_HEARTBEAT_SECONDS + 5,
        }

    def publish(self, stream: str, events: list[tuple[str, dict]]) -> None:
        key = self.key(stream)
        pipeline = redis_client().pipeline(transaction=False)
        pipeline.set(f"{key}:epoch", str(time.time_ns() // 1000), nx=True)
        for kind, data in events:
            pipeline.xadd(
                key,
                {"kind": kind, "data": orjson.dumps(data)},
                maxlen=settings.EVENTS_STREAM_MAXLEN,
                approximate=True,
            )
        pipeline.execute()

    def epoch(self, stream: str) -> str:
        key = f"{self.key(stream)}:epoch"
        pipeline = self._client().pipeline(transaction=False)
        pipeline.set(key, str(time.time_ns() // 1000), nx=True)
        pipeline.get(key)
        return _decoded(pipeline.execute()[1])

    def latest(self, stream: str) -> str:
        newest = self._client().xrevrange(self.key(stream), count=1)
        return _decoded(newest[0][0]) if newest else "0-0"

    @staticmethod
    def _batch(found) -> Batch:
        batch = Batch()
        for _key, entries in found or ():
            for entry_id, fields in entries:
                fields = {_decoded(name): value for name, value in fields.items()}
                batch.entries.append(
                    (_decoded(entry_id), _decoded(fields["kind"]), orjson.loads(fields["data"]))
                )
        return batch

    @staticmethod
    def _missed(info, after: tuple[int, int]) -> bool:
        """Whether entries after `after` are gone: trimmed by MAXLEN (which removes the oldest:
        `after` is older than the first entry held, and some were trimmed) or deleted."""
        if isinstance(info, Exception):
            return False  # no stream (nothing published since Redis started): none trimmed
        first = _entry_id_key(_decoded(info.get("recorded-first-entry-id") or "0-0"))
        trimmed = int(info.get("entries-added") or 0) > int(info.get("length") or 0)
        deleted = _entry_id_key(_decoded(info.get("max-deleted-entry-id") or "0-0"))
        return (trimmed and after < first and first != (0, 0)) or deleted > after

    @staticmethod
    def _may_follow_a_trim(found) -> bool:
        # MAXLEN ~ never trims below EVENTS_STREAM_MAXLEN entries, and only the oldest: were
        # any after the reader's position gone, every entry held would be after it, and the
        # read would have come back full. A read that did not is whole; one that did is checked.
        held = sum(len(entries) for _key, entries in found or ())
        return held >= min(RedisBus.READ_COUNT, settings.EVENTS_STREAM_MAXLEN)

    def read(self, stream: str, after: str, block_seconds: float) -> Batch:
        key, client = self.key(stream), self._client()
        block = int(block_seconds * 1000) if block_seconds > 0 else None
        found = client.xread({key: after}, count=self.READ_COUNT, block=block)
        if self._may_follow_a_trim(found) and self._missed(
            client.xinfo_stream(key), _entry_id_key(after)
        ):
            return Batch(behind=True)
        return self._batch(found)

    async def aread(self, stream: str, after: str, block_seconds: float) -> Batch:
        key, client = self.key(stream), self._aclient()
        block = int(block_seconds * 1000) if block_seconds > 0 else None
        found = await client.xread({key: after}, count=self.READ_COUNT, block=block)
        if self._may_follow_a_trim(found) and self._missed(
            await client.xinfo_stream(key), _entry_id_key(after)
        ):
            return Batch(behind=True)
        return self._batch(found)

    async def aepoch(self, stream: str) -> str:
        key = f"{self.key(stream)}:epoch"
        pipeline = self._aclient().pipeline(transaction=False)
        pipeline.set(key, str(time.time_ns() // 1000), nx=True)
        pipeline.get(key)
        return _decoded((await pipeline.execute())[1])

    async def alatest(self, stream: str) -> str:
        newest = await self._aclient().xrevrange(self.key(stream), count=1)
        return _decoded(newest[0][0]) if newest else "0-0"


# Connections of a pool beyond one per stream: epochs and positions asked while streams open.
POOL_SPARE = 20

_buses: dict[str, object] = {}


def event_bus() -> LocalBus | RedisBus:
    """The bus of this configuration: Redis when REDIS_URL is set, else this process's own."""
    kind = "redis" if settings.REDIS_URL else "local"
    if kind not in _buses:
        _buses[kind] = RedisBus() if kind == "redis" else LocalBus()
    return _buses[kind]


@receiver(setting_changed)
def _buses_forget(setting: str, **_kwargs) -> None:
    # Tests point the cache and REDIS_URL at other servers: the next stream reads from there.
    if setting in {"REDIS_URL", "CACHES"}:
        _buses.clear()
