"""Reading the production event stream in tests: from the bus, and from an SSE response."""

import json

from core.events.bus import event_bus
from production.events import STREAM


def bus_position() -> str:
    """Where the production stream is now: later reads return only what comes after."""
    return event_bus().latest(STREAM)


def events_since(position: str) -> list[dict]:
    """The production stream's event data since `position`, oldest first."""
    batch = event_bus().read(STREAM, position, 0)
    assert not batch.behind
    return [data for _id, kind, data in batch.entries if kind == "production"]


def frames_parse(text: str) -> list[dict]:
    """SSE text as frames: {"id", "event", "data", "comment", "retry"} (those present)."""
    frames = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        frame: dict = {}
        for line in block.split("\n"):
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "":
                frame["comment"] = value
            elif field == "data":
                frame["data"] = json.loads(value)
            else:
                frame[field] = value
        frames.append(frame)
    return frames


def frames_read(response, *, until, limit: int = 50) -> list[dict]:
    """Frames of a streaming test-client response, chunk by chunk, until `until(frames)`."""
    text, frames = "", []
    chunks = iter(response.streaming_content)
    for _ in range(limit):
        text += next(chunks).decode()
        frames = frames_parse(text)
        if until(frames):
            return frames
    raise AssertionError(f"the stream never got there: {frames}")


def named(frames: list[dict], event: str) -> list[dict]:
    return [frame for frame in frames if frame.get("event") == event]
