"""Read replicas that never serve a stale read (DATABASE_REPLICA_URLS).

Every committed write raises its resources' marks to the primary's WAL position before their
cache generations are bumped (core/cache.py). A read of a view that declares what it depends
on (`cache_depends_on`) goes to a replica only when that replica has replayed past the highest
of those marks and lags no more than REPLICA_MAX_LAG_SECONDS; otherwise — no replica far
enough, a replica down, Redis not answering, inside a transaction — to the primary. A mark
never set starts at the primary's current position. Since every write of every client raises the marks, the guarantee holds for every
client, not only the one who wrote. Writes, migrations, the admin and authentication always
use the primary. A replica that fails a read is left alone for REPLICA_RETRY_SECONDS and the
read is run again on the primary.
"""

import random
import threading
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, Error, connections
from prometheus_client import Counter, Gauge

from core.cache import cache_marks_get

_read_alias: ContextVar[str] = ContextVar("sprocket_read_alias", default=DEFAULT_DB_ALIAS)
# A mark is the primary's insert position: the end of the last record, rounded up to 8 bytes.
# A replica reports the end of the last record it replayed, not rounded. No WAL record is
# shorter than 24 bytes, so a replayed end within 7 bytes below the mark is the end of the
# marked record itself, or of a later one.
WAL_ALIGNMENT = 8
# Replayed position and lag. A replica with nothing received left to replay has no lag,
# however long ago the primary last wrote; nor has one not streaming (after a restart, before
# it reconnects): what it has not received, the marks keep it from serving.
REPLICA_STATE = """
SELECT pg_last_wal_replay_lsn() - '0/0',
       CASE WHEN pg_last_wal_receive_lsn() IS NULL
              OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
            ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END
"""
REPLICA_LAG = Gauge(
    "sprocket_replica_lag_seconds",
    "Replay lag of each read replica, as last checked",
    ["database"],
    multiprocess_mode="max",
)
READS = Counter("sprocket_database_reads_total", "Routed reads per database", ["database"])


@dataclass
class _ReplicaState:
    checked: float = 0.0
    replayed: int = -1
    lag: float = float("inf")
    down_until: float = 0.0


_states: dict[str, _ReplicaState] = {}
_states_lock = threading.Lock()


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith("replica_")]


class ReplicaRouter:
    """Reads where the current request was sent (the primary unless `replica_routed_read`
    chose a replica); everything else on the primary."""

    def db_for_read(self, model, **hints) -> str:
        alias = _read_alias.get()
        if alias != DEFAULT_DB_ALIAS and connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return alias

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, first, second, **hints) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS


def _replica_down(alias: str) -> None:
    connections[alias].close()
    with _states_lock:
        state = _states.setdefault(alias, _ReplicaState())
        state.down_until = time.monotonic() + settings.REPLICA_RETRY_SECONDS


def _state(alias: str) -> _ReplicaState | None:
    now = time.monotonic()
    state = _states.get(alias)
    if state is not None and now < state.down_until:
        return None
    if state is None or now - state.checked > settings.REPLICA_CHECK_MILLISECONDS / 1000:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute(REPLICA_STATE)
                replayed, lag = cursor.fetchone()
        except Error:  # any failure of the replica: InterfaceError is no DatabaseError
            _replica_down(alias)
            return None
        state = _ReplicaState(now, -1 if replayed is None else int(replayed), float(lag))
        with _states_lock:
            _states[alias] = state
        REPLICA_LAG.labels(alias).set(state.lag)
    return state


def replica_for(resources: Iterable[str]) -> str:
    """A replica that has replayed every write to `resources`, or the primary."""
    aliases = replica_aliases()
    if not aliases or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    marks = cache_marks_get(resources)
    if not marks:
        return DEFAULT_DB_ALIAS
    needed = max(marks)
    for alias in random.sample(aliases, len(aliases)):
        state = _state(alias)
        if (
            state is not None
            and state.replayed + WAL_ALIGNMENT - 1 >= needed
            and state.lag <= settings.REPLICA_MAX_LAG_SECONDS
        ):
            return alias
    return DEFAULT_DB_ALIAS


def replica_routed_read(resources: Iterable[str], produce: Callable):
    """`produce()` with its reads on a replica that is far enough, else on the primary; run
    again on the primary if the replica fails it."""
    if not replica_aliases():
        return produce()
    alias = replica_for(resources)
    if alias != DEFAULT_DB_ALIAS:
        token = _read_alias.set(alias)
        try:
            response = produce()
        except Error:
            _replica_down(alias)
        else:
            READS.labels(alias).inc()
            return response
        finally:
            _read_alias.reset(token)
    READS.labels(DEFAULT_DB_ALIAS).inc()
    return produce()
