"""Server-Sent Events clients for benchmarks/bench_events.py: many streams in one asyncio
process (raw sockets, HTTP/1.1 with chunked bodies), run in a child process of the benchmark.

`Clients(...)` starts the child, which opens `count` streams through nginx, each from a
loopback source address of its own group (127.0.1.x: another client to nginx's per-address
limits), reads each up to `event: ready` and then keeps reading (heartbeats, events). Every
`production` event is stamped with `time.monotonic()` as it is read: CLOCK_MONOTONIC is one
clock for every process of the machine, so the parent compares it with its own stamps.
"""

import asyncio
import multiprocessing
import time
from collections import defaultdict

import orjson

PATH = "/sprocketFactory/v1/production/events"


class Stats:
    def __init__(self) -> None:
        self.ready = self.failed = self.dropped = self.heartbeats = self.unavailable = 0
        self.failures: list[str] = []
        self.events: dict[str, list[float]] = defaultdict(list)  # event's `first` -> arrivals


async def _body(reader: asyncio.StreamReader, chunked: bool):
    """The body's bytes as they arrive, with the time each piece was read."""
    while True:
        if not chunked:
            data = await reader.read(65536)
            if not data:
                return
            yield data, time.monotonic()
            continue
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            return
        data = await reader.readexactly(size + 2)
        yield data[:-2], time.monotonic()


async def _stream(host, port, source, stats: Stats, ready: asyncio.Event, stop: asyncio.Event):
    try:
        reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
    except OSError as error:
        stats.failed += 1
        stats.failures.append(f"connect: {error}")
        ready.set()
        return
    is_ready = False
    try:
        writer.write(
            f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise ConnectionError(head.split(b"\r\n")[0].decode())
        pending = b""
        async for data, arrived in _body(reader, b"transfer-encoding: chunked" in head.lower()):
            pending += data
            while b"\n\n" in pending:
                frame, pending = pending.split(b"\n\n", 1)
                if frame.startswith(b": heartbeat"):
                    stats.heartbeats += 1
                elif b"event: ready" in frame and not is_ready:
                    is_ready = True
                    stats.ready += 1
                    ready.set()
                elif b"event: unavailable" in frame:
                    stats.unavailable += 1
                elif b"event: production" in frame:
                    data_line = frame[frame.index(b"data: ") + 6 :].split(b"\n")[0]
                    stats.events[orjson.loads(data_line)["first"]].append(arrived)
        if not stop.is_set():
            stats.dropped += 1
    except (OSError, asyncio.IncompleteReadError, ConnectionError, ValueError) as error:
        if not stop.is_set():
            stats.dropped += 1 if is_ready else 0
            stats.failed += 0 if is_ready else 1
            stats.failures.append(f"{type(error).__name__}: {error}")
    except asyncio.CancelledError:
        pass
    finally:
        ready.set()
        writer.close()


async def _run(conn, host, port, count, addresses, open_timeout):
    stats, stop, loop = Stats(), asyncio.Event(), asyncio.get_running_loop()
    started, tasks, readies = time.monotonic(), [], []
    opening = asyncio.Semaphore(100)

    async def one(index):
        ready = asyncio.Event()
        readies.append(ready)
        source = f"127.0.1.{1 + index % addresses}" if addresses else "127.0.0.1"
        async with opening:
            tasks.append(asyncio.create_task(_stream(host, port, source, stats, ready, stop)))
            await asyncio.wait_for(ready.wait(), open_timeout)

    opened = await asyncio.gather(*(one(i) for i in range(count)), return_exceptions=True)
    timed_out = sum(isinstance(result, BaseException) for result in opened)
    conn.send(
        {
            "ready": stats.ready,
            "failed": stats.failed,
            "timed_out": timed_out,
            "open_seconds": round(time.monotonic() - started, 2),
            "failures": stats.failures[:5],
        }
    )
    # Wait for the parent's "stop" without blocking the loop.
    told = asyncio.Event()
    loop.add_reader(conn.fileno(), told.set)
    await told.wait()
    loop.remove_reader(conn.fileno())
    conn.recv()
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    conn.send(
        {
            "dropped": stats.dropped,
            "unavailable": stats.unavailable,
            "heartbeats": stats.heartbeats,
            "failures": stats.failures[:5],
            "events": dict(stats.events),
        }
    )


def _child(conn, *args) -> None:
    asyncio.run(_run(conn, *args))


class Clients:
    """`count` SSE streams held open by a child process until `close()`."""

    def __init__(self, host, port, count, *, addresses=20, open_timeout=120.0) -> None:
        self.conn, child_conn = multiprocessing.Pipe()
        self.process = multiprocessing.Process(
            target=_child,
            args=(child_conn, host, port, count, addresses, open_timeout),
            daemon=True,
        )
        self.process.start()
        self.opened = self.conn.recv()

    def close(self) -> dict:
        self.conn.send("stop")
        result = self.conn.recv()
        self.process.join(30)
        return result
