"""Events published when the transaction that caused them commits, merged per transaction.

Writes add what they changed (`events_add_on_commit`); each transaction publishes once, after
it commits, from the same after-commit point that bumps the cache generations (a write calls
the bump first, so a client that refetches on an event never reads an old cached answer).
A transaction that rolls back publishes nothing. Events merge by key within a transaction:
a `loaddata` of 20,000 records is one event per factory, not 20,000.

Publishing never fails a write. A process that could not publish marks the stream; its next
publish that succeeds is preceded by a `reset` event, so readers learn they missed some.
"""

import logging
import threading
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction

from core.events.bus import event_bus

logger = logging.getLogger(__name__)

Merge = Callable[[dict, dict], dict]

_local = threading.local()
_lost_streams: set[str] = set()


class _PendingEvents:
    """One transaction's events, published by its on-commit callback."""

    def __init__(self) -> None:
        self.events: dict[tuple[str, Any], tuple[str, dict]] = {}
        self.published = False

    def add(self, stream: str, key: Any, kind: str, data: dict, merge: Merge | None) -> None:
        earlier = self.events.get((stream, key))
        if earlier is not None and merge is not None:
            data = merge(earlier[1], data)
        self.events[(stream, key)] = (kind, data)

    def __call__(self) -> None:
        self.published = True
        by_stream: dict[str, list[tuple[str, dict]]] = {}
        for (stream, _key), event in self.events.items():
            by_stream.setdefault(stream, []).append(event)
        for stream, events in by_stream.items():
            events_publish(stream, events)


def _pending() -> _PendingEvents:
    pending = getattr(_local, "pending", None)
    # The on-commit callbacks of a transaction that rolled back are dropped with it: a batch
    # no longer among them belongs to a transaction that is over.
    waiting = any(callback is pending for _, callback, _ in connection.run_on_commit)
    if pending is None or pending.published or not waiting:
        pending = _local.pending = _PendingEvents()
        transaction.on_commit(pending)
    return pending


def events_add_on_commit(
    stream: str, *, key: Any, kind: str, data: dict, merge: Merge | None = None
) -> None:
    """Publish `data` as a `kind` event on `stream` after the current transaction commits
    (at once outside a transaction); a later event of the same key merges into it."""
    if not connection.in_atomic_block:
        events_publish(stream, [(kind, data)])
        return
    _pending().add(stream, key, kind, data, merge)


def events_publish(stream: str, events: list[tuple[str, dict]]) -> None:
    """Publish now; on failure log, and tell readers on the next publish that they missed some."""
    if stream in _lost_streams:
        lost = {"detail": "Events were lost while the event store was down: refetch."}
        events = [("reset", lost), *events]
    try:
        event_bus().publish(stream, events)
    except Exception:
        _lost_streams.add(stream)
        logger.warning("Events not published to %s: the event store is unavailable", stream)
        return
    _lost_streams.discard(stream)
