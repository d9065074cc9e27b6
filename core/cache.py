"""Cache generations: every resource's counter, bumped by each write to it.

Read responses are cached under keys that carry the generation of every resource they depend
on (`core.api.caching`). A write bumps its resource's generation (one INCR) after commit, so
every later read builds a new key and never sees an older response; old entries simply
expire (CACHE_TTL). Nothing is ever searched for or deleted by pattern.

Apps name their resources in their own `AppConfig.ready` (`cache_resources_register`).

Redis being down never fails a request: reads go to the database and a warning is logged.
After any failed Redis call a process trusts the cache again only once it has restarted every
generation from the clock (past any value it had): a bump lost in the outage, by this process
or another, or in a failover to a replica that had not received it, cannot leave an old entry
in service. A watchdog thread pings Redis (CACHE_WATCHDOG_SECONDS), so an idle process
notices an outage too, and makes that recovery bump as soon as Redis answers again.
"""

import logging
import os
import threading
import time
from collections.abc import Iterable

from django.apps import AppConfig
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models.signals import post_migrate

logger = logging.getLogger(__name__)

_resources: list[str] = []
# Set by any failed Redis call; cleared once every generation has been bumped again.
_cache_outage = threading.Event()
_watchdog_pid: int | None = None
# Resources whose bump waits for the current transaction to commit, per thread.
_pending = threading.local()


def cache_resources_register(app_config: AppConfig, *resources: str) -> None:
    """Name an app's cached resources; migrate and flush (which change data without saving
    models) bump them after the app's post_migrate."""
    for resource in resources:
        if resource not in _resources:
            _resources.append(resource)
    post_migrate.connect(
        lambda **_: cache_generations_bump(resources),
        sender=app_config,
        weak=False,
        dispatch_uid=f"cache_generations_bump_after_migrate:{app_config.label}",
    )


def cache_resources() -> tuple[str, ...]:
    """Every resource an app registered."""
    return tuple(_resources)


def _generation_key(resource: str) -> str:
    return f"generation:{resource}"


def _fresh_generation() -> int:
    # Microseconds: far ahead of any count of bumps, so a counter that was evicted or lost in
    # a restart starts above every value it ever had, and no old entry comes back to life.
    return time.time_ns() // 1000


def redis_client():
    """The raw Redis client, when the cache is django-redis; None for the local-memory cache."""
    get_client = getattr(cache, "client", None)
    return get_client.get_client(write=True) if get_client is not None else None


def _bump_one(resource: str) -> None:
    key = cache.make_and_validate_key(_generation_key(resource))
    client = redis_client()
    if client is None:
        try:
            cache.incr(_generation_key(resource))
        except ValueError:
            cache.set(_generation_key(resource), _fresh_generation(), timeout=None)
        return
    if client.incr(key) == 1:
        # The counter had been lost: INCR started it from zero. Start it from the clock.
        client.set(key, _fresh_generation())


# The counter at the larger of one more and the clock: after a failover the new primary may
# lack the last bumps the old one took (replication is asynchronous), and one more than what it
# has could be a value that old entries were stored under.
RESTART_FROM_CLOCK = """
local restarted = math.max(tonumber(redis.call('GET', KEYS[1]) or '0') + 1, tonumber(ARGV[1]))
redis.call('SET', KEYS[1], string.format('%d', restarted))
return restarted
"""


# With read replicas, each resource also has a mark: the primary's WAL position after its last
# write (core/replicas.py reads it). Raised before the generation is bumped, so a reader that
# sees the new generation sees the new mark too; never lowered (a Lua max).
RAISE_MARK = """
if tonumber(ARGV[1]) > tonumber(redis.call('GET', KEYS[1]) or '-1') then
    redis.call('SET', KEYS[1], ARGV[1])
end
return 1
"""


def _mark_key(resource: str) -> str:
    return cache.make_and_validate_key(f"lsn:{resource}")


def _primary_position() -> int:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        # The end of the last record inserted, every committed write's included.
        cursor.execute("SELECT pg_current_wal_insert_lsn() - '0/0'")
        return int(cursor.fetchone()[0])


def _marks_raise(resources: Iterable[str], position: int | None = None) -> None:
    if not settings.DATABASE_REPLICA_URLS or (client := redis_client()) is None:
        return
    position = _primary_position() if position is None else position
    pipeline = client.pipeline(transaction=False)
    for resource in resources:
        pipeline.eval(RAISE_MARK, 1, _mark_key(resource), position)
    pipeline.execute()


def cache_marks_get(resources: Iterable[str]) -> list[int] | None:
    """Each resource's mark, or None when Redis cannot say. A mark never set (no write since
    replicas were configured, or Redis lost it) starts at the primary's position now, past
    every write acknowledged before this read began."""
    resources = list(resources)
    client = redis_client()
    if client is None or not cache_trusted():
        return None
    try:
        values = client.mget([_mark_key(resource) for resource in resources])
        missing = [r for r, value in zip(resources, values, strict=True) if value is None]
        if missing:
            position = _primary_position()
            _marks_raise(missing, position)
            values = [position if value is None else value for value in values]
    except Exception:
        cache_outage_begins("marks")
        return None
    return [int(value) for value in values]


def _restart_from_clock(resource: str) -> None:
    client = redis_client()
    if client is None:
        _bump_one(resource)
        return
    key = cache.make_and_validate_key(_generation_key(resource))
    client.eval(RESTART_FROM_CLOCK, 1, key, _fresh_generation())


def cache_outage_begins(what: str) -> None:
    """Note a failed cache call: the cache is not trusted until every generation is bumped."""
    logger.warning("Cache unavailable (%s): serving from the database", what)
    _cache_outage.set()


def _outage_ends() -> bool:
    """True when the cache can be trusted: no outage, or every generation bumped since."""
    if not _cache_outage.is_set():
        return True
    try:
        # Marks first: no write acknowledged before now can be missed by a replica chosen after.
        _marks_raise(_resources)
        for resource in _resources:
            _restart_from_clock(resource)
    except Exception:
        return False
    _cache_outage.clear()
    logger.warning("Cache reachable again: every generation restarted from the clock")
    return True


def _watch(interval: float) -> None:
    while True:
        time.sleep(interval)
        if _cache_outage.is_set():
            _outage_ends()
            continue
        try:
            redis_client().ping()
        except Exception:
            cache_outage_begins("ping")


def _ensure_watchdog() -> None:
    """One watchdog thread per process (started after gunicorn forks), for Redis only."""
    global _watchdog_pid
    if _watchdog_pid == os.getpid() or redis_client() is None:
        return
    _watchdog_pid = os.getpid()
    threading.Thread(
        target=_watch, args=(settings.CACHE_WATCHDOG_SECONDS,), name="cache-watchdog", daemon=True
    ).start()


def cache_generations_bump(resources: Iterable[str]) -> None:
    """Bump each resource's generation now (one INCR each; once more on a new connection if
    the first try fails, since a blip is likelier than an outage), after raising its mark."""
    resources = list(resources)
    try:
        _marks_raise(resources)
    except Exception:
        cache_outage_begins("could not mark the writes' position")
    for resource in resources:
        try:
            _bump_one(resource)
        except Exception:
            try:
                _bump_one(resource)
            except Exception:
                cache_outage_begins(f"could not bump {resource}")


def _pending_resources() -> set[str]:
    if not hasattr(_pending, "resources"):
        _pending.resources = set()
    return _pending.resources


def _bump_pending() -> None:
    # The first callback of a commit bumps everything that commit wrote; the rest find the
    # set empty. A rolled-back write leaves its resource here: the next commit bumps it too,
    # which costs one INCR and never serves a stale read.
    resources = _pending_resources()
    if resources:
        bumped = sorted(resources)
        resources.clear()
        cache_generations_bump(bumped)


def cache_generations_bump_on_commit(*resources: str) -> None:
    """Bump after the current transaction commits (at once outside a transaction); each
    resource once per commit however many writes name it."""
    _pending_resources().update(resources)
    transaction.on_commit(_bump_pending)


def cache_trusted() -> bool:
    """Whether cached entries may be served now (see the module's text on outages)."""
    _ensure_watchdog()
    return _outage_ends()


def cache_generation_keys() -> dict[str, str]:
    """Each registered resource's generation counter, by its key in Redis."""
    return {cache.make_and_validate_key(_generation_key(r)): r for r in _resources}


def cache_generations_get(resources: Iterable[str]) -> tuple[int, ...] | None:
    """The current generation of each resource, or None when the cache cannot be trusted."""
    resources = tuple(resources)
    _ensure_watchdog()
    if not _outage_ends():
        return None
    keys = [_generation_key(r) for r in resources]
    try:
        found = cache.get_many(keys)
        for key in keys:
            if key not in found:
                cache.add(key, _fresh_generation(), timeout=None)
                found[key] = cache.get(key)
    except Exception:
        cache_outage_begins("generations")
        return None
    if any(found[key] is None for key in keys):
        return None
    return tuple(int(found[key]) for key in keys)
