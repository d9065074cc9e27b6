"""Server-Sent Events: a stream of one event bus stream, as `text/event-stream`.

A view declares its `stream` and which events a request wants (`event_wanted`); everything
else — resuming from `Last-Event-ID`, telling a client that is too far behind to refetch
(`reset`), heartbeats, saying the event store is down (`unavailable`) and ending, capping
the streams a process holds — is here. Under ASGI a stream is an async generator: an idle
stream costs a coroutine and one Redis connection, no thread. Under WSGI (runserver, the
embedded default) it is a plain generator holding its thread, capped by
EVENTS_MAX_SYNC_STREAMS.
"""

import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator

import orjson
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import connections
from django.http import StreamingHttpResponse
from rest_framework.exceptions import Throttled
from rest_framework.renderers import BaseRenderer
from rest_framework.views import APIView

from core.api.renderers import ORJSONRenderer
from core.events.bus import Batch, event_bus, event_id_split

logger = logging.getLogger(__name__)

HEARTBEAT = b": heartbeat\n\n"
UNAVAILABLE = {
    "detail": "Live updates are unavailable (the event store is down): refetch periodically; "
    "the stream reconnects by itself."
}


class EventStreamRenderer(BaseRenderer):
    """What an EventSource accepts; errors before the stream opens come as an `error` event."""

    media_type = "text/event-stream"
    format = "event-stream"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return frame("error", data)


def frame(kind: str, data: dict, event_id: str | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {kind}\n".encode() + b"data: " + orjson.dumps(data) + b"\n\n"


class _OpenStreams:
    """Streams this process holds, per kind (sync: each holds a thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = {"sync": 0, "async": 0}

    def take(self, kind: str, limit: int) -> bool:
        """Count one more stream of `kind` if fewer than `limit` are open: checked and counted
        at once, so a burst of requests cannot all pass the check together."""
        with self._lock:
            if self.count[kind] >= limit:
                return False
            self.count[kind] += 1
            return True

    def give_back(self, kind: str) -> None:
        with self._lock:
            self.count[kind] -= 1


open_streams = _OpenStreams()


class _HeldStream:
    """A stream's frames holding one of its process's places until the server closes the
    response, which it always does, also when the client left before the first frame."""

    def __init__(self, frames, kind: str) -> None:
        self.frames, self.kind, self.held = frames, kind, True

    def close(self) -> None:
        if self.held:
            self.held = False
            open_streams.give_back(self.kind)
        if hasattr(self.frames, "close"):
            self.frames.close()


class _SyncStream(_HeldStream):
    def __iter__(self):
        return self.frames


class _AsyncStream(_HeldStream):
    def __aiter__(self):
        return self.frames


class _Frames:
    """One client's stream: where it starts, and the frames each read of the bus gives."""

    def __init__(self, view: "EventStreamView", last_event_id: str | None) -> None:
        self.view, self.stream, self.bus = view, view.stream, event_bus()
        self.resume_from = event_id_split(last_event_id)
        self.asked_to_resume = bool(last_event_id)
        self.epoch = self.after = ""
        self.deadline = time.monotonic() + settings.EVENTS_STREAM_SECONDS

    def opening(self, epoch: str, latest: str) -> list[bytes]:
        self.epoch = epoch
        frames = [f"retry: {settings.EVENTS_RETRY_MILLISECONDS}\n\n".encode()]
        if self.resume_from and self.resume_from[0] == epoch:
            self.after = self.resume_from[1]
        else:
            self.after = latest
            if self.asked_to_resume:
                frames.append(frame("reset", {"detail": "Your last event is not held: refetch."}))
        frames.append(
            frame("ready", {"last_event_id": self.event_id(self.after)}, self.event_id(self.after))
        )
        return frames

    def event_id(self, entry_id: str) -> str:
        return f"{self.epoch}.{entry_id}"

    def frames(self, batch: Batch, latest: str | None = None) -> list[bytes]:
        if batch.behind:
            self.after = latest or self.after
            return [
                frame(
                    "reset", {"detail": "Events were missed: refetch."}, self.event_id(self.after)
                )
            ]
        frames = []
        for entry_id, kind, data in batch.entries:
            self.after = entry_id
            if kind != "reset" and not self.view.event_wanted(data):
                continue
            frames.append(frame(kind, data, self.event_id(entry_id)))
        return frames or [HEARTBEAT]

    def over(self) -> bool:
        return time.monotonic() >= self.deadline

    def sync_iter(self) -> Iterator[bytes]:
        heartbeat = settings.EVENTS_HEARTBEAT_SECONDS
        try:
            yield from self.opening(self.bus.epoch(self.stream), self.bus.latest(self.stream))
            while not self.over():
                batch = self.bus.read(self.stream, self.after, heartbeat)
                latest = self.bus.latest(self.stream) if batch.behind else None
                yield from self.frames(batch, latest)
        except Exception:
            logger.warning("Event stream %s unavailable", self.stream, exc_info=True)
            yield frame("unavailable", UNAVAILABLE)

    async def async_iter(self) -> AsyncIterator[bytes]:
        heartbeat = settings.EVENTS_HEARTBEAT_SECONDS
        try:
            epoch = await self.bus.aepoch(self.stream)
            for opening in self.opening(epoch, await self.bus.alatest(self.stream)):
                yield opening
            while not self.over():
                batch = await self.bus.aread(self.stream, self.after, heartbeat)
                latest = await self.bus.alatest(self.stream) if batch.behind else None
                for each in self.frames(batch, latest):
                    yield each
        except Exception:
            logger.warning("Event stream %s unavailable", self.stream, exc_info=True)
            yield frame("unavailable", UNAVAILABLE)


def _database_connections_release() -> None:
    # A stream never queries: it must not hold a database connection while it is open.
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


class EventStreamView(APIView):
    """GET: the stream as Server-Sent Events (see the module's text)."""

    stream: str
    renderer_classes = [ORJSONRenderer, EventStreamRenderer]

    def event_wanted(self, data: dict) -> bool:
        return True

    def prepare(self, request) -> None:
        """Read and check the request's parameters (raising its errors) before streaming."""

    def get(self, request):
        self.prepare(request)
        under_asgi = isinstance(request._request, ASGIRequest)
        kind, limit = (
            ("async", settings.EVENTS_MAX_ASYNC_STREAMS)
            if under_asgi
            else ("sync", settings.EVENTS_MAX_SYNC_STREAMS)
        )
        if not open_streams.take(kind, limit):
            raise Throttled(
                wait=settings.EVENTS_RETRY_MILLISECONDS / 1000,
                detail="This process holds as many event streams as it may; retry shortly.",
            )
        stream = _Frames(self, request.headers.get("Last-Event-ID"))
        _database_connections_release()
        response = StreamingHttpResponse(
            _AsyncStream(stream.async_iter(), kind)
            if under_asgi
            else _SyncStream(stream.sync_iter(), kind),
            content_type="text/event-stream; charset=utf-8",
        )
        response["Cache-Control"] = "no-cache, no-store"
        # nginx passes each event on at once instead of buffering the answer.
        response["X-Accel-Buffering"] = "no"
        return response
