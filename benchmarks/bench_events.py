"""Live events (GET /production/events, Server-Sent Events) behind nginx: what idle streams
cost the rest of the API and in memory, and how soon a bulk commit reaches every client, for
each candidate ASGI server of the events endpoint.

    .venv/bin/python benchmarks/bench_events.py [--clients 1000] [--rounds 5] [--seconds 15]
        [--latency-clients 200] [--posts 50] [--spacings 0.1,1.0] [--no-wsgi]
        [--candidates uvicorn-h11,uvicorn-h11-2w,uvicorn-uvloop,hypercorn]
        [--addresses 0]

Targets (the live-events issue), on this 2-core machine:
  - 1,000 idle streams open: the API's req/s ≥ 90% of the same run without them;
  - bulk commit → event at each of 200 connected clients: p99 < 500 ms.

The service runs as the system tests run it (tests/system/conftest.py): gunicorn WSGI with
its production config, the events server, nginx with deploy/nginx.conf.template, on a
scratch database and Redis db 3. hypercorn is optional: `pip install --target
/tmp/bench-hypercorn hypercorn uvloop httptools` (BENCH_HYPERCORN), never into the project's
virtualenv; the uvicorn-uvloop candidate takes uvloop and httptools from there too.
`--addresses N` spreads the streams over N client addresses (default 0: every stream from
127.0.0.1, the address wrk and the poster use). BENCH_KEEP=1 keeps the servers' logs.
"""

import argparse
import http.client
import resource
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import fresh_database, manage, record
from benchmarks.events_clients import Clients
from benchmarks.events_service import (
    BULK_PATH,
    CANDIDATES,
    DATABASE,
    EVENTS_CONFIG,
    HYPERCORN,
    READ_PATH,
    BenchService,
    alive,
    cpu_seconds,
    median,
    memory,
    percentile,
    service_start,
    service_stop,
    wrk,
)


def idle_streams(service: BenchService, options) -> dict:
    """wrk without streams (A) and with `clients` idle streams open (B), in rounds AB, BA,
    AB...: a drift of the machine during the run weighs on both arms alike."""
    host, port = service.address()
    url, events = service.url(READ_PATH), service.events_process.pid
    Clients(host, port, 10, addresses=options.addresses).close()  # imports, pools warmed
    wrk(url, options.seconds)  # the web workers warm up (their first ~30 s are slower)
    rounds, restarts = [], 0
    while len(rounds) < options.rounds:
        arms, order = {}, ("A", "B") if len(rounds) % 2 == 0 else ("B", "A")
        for arm in order:
            if arm == "B":
                before = memory(service)
                clients = Clients(host, port, options.clients, addresses=options.addresses)
                time.sleep(2)
                held = memory(service)
            cpu = cpu_seconds(events)
            arms[arm] = wrk(url, options.seconds)
            arms[arm]["events_cpu_s"] = round(cpu_seconds(events) - cpu, 2)
            if arm == "B":
                closed = clients.close()
                time.sleep(3)
        if not alive(service):
            restarts += 1
            events = service.events_process.pid
            continue
        rounds.append(
            {
                "order": "".join(order),
                "rps_without": arms["A"]["rps"],
                "rps_with": arms["B"]["rps"],
                "arms": arms,
                "opened": clients.opened,
                **{k: closed[k] for k in ("dropped", "unavailable", "heartbeats")},
                "memory": {"before": before, "held": held, "after_close": memory(service)},
            }
        )
        print(f"  idle {''.join(order)}: {arms} opened {clients.opened}", flush=True)
    first = rounds[0]["memory"]
    without = median([r["rps_without"] for r in rounds])
    loaded = median([r["rps_with"] for r in rounds])
    return {
        "rps_without": without,
        "rps_with": loaded,
        "ratio": round(loaded / without, 3),
        # Each round's B over its A: drift between rounds cancels out.
        "round_ratio_median": round(median([r["rps_with"] / r["rps_without"] for r in rounds]), 3),
        # The first round: later ones reuse memory the first one's streams left to the worker.
        "per_stream": {
            key: round((first["held"][key] - first["before"][key]) / options.clients, 2)
            for key in ("events_kb", "nginx_kb", "redis_clients", "redis_bytes")
        },
        "restarts": restarts,
        "rounds": rounds,
    }


def latency(service: BenchService, token: str, options, start: datetime, spacing: float) -> dict:
    """`posts` bulk commits, `spacing` s apart, each seen by `latency_clients` clients."""
    host, port = service.address()
    clients = Clients(host, port, options.latency_clients, addresses=options.addresses)
    if clients.opened["ready"] != options.latency_clients:
        print(f"  WARNING: not every client is subscribed: {clients.opened}")
    connection = http.client.HTTPConnection(host, port, timeout=30)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    posts, acks, failed, cpu = {}, [], [], cpu_seconds(service.events_process.pid)
    for index in range(options.posts):
        first = start + timedelta(minutes=10 * index)
        rows = [
            {"factory_id": 1, "time": (first + timedelta(minutes=k)).isoformat()}
            | {"sprocket_production_actual": 30, "sprocket_production_goal": 32}
            for k in range(3)
        ]
        sent = time.monotonic()
        connection.request("POST", BULK_PATH, orjson.dumps(rows), headers)
        response = connection.getresponse()
        answer = response.read()
        acked = time.monotonic()
        if response.status == 201:
            posts[first.strftime("%Y-%m-%dT%H:%M:%SZ")] = (sent, acked)
            acks.append(acked - sent)
        else:
            failed.append((response.status, answer[:200].decode(errors="replace")))
        time.sleep(max(0.0, spacing - (time.monotonic() - sent)))
    time.sleep(3)
    cpu = cpu_seconds(service.events_process.pid) - cpu
    closed = clients.close()
    from_ack, from_send = [], []
    for key, (sent, acked) in posts.items():
        for arrived in closed["events"].get(key, []):
            from_ack.append(arrived - acked)
            from_send.append(arrived - sent)
    ms = lambda values, p: round(1000 * percentile(values, p), 1)  # noqa: E731
    result = {
        "spacing_s": spacing,
        "deliveries": len(from_ack),
        "missing": options.latency_clients * len(posts) - len(from_ack),
        "posts_failed": failed,
        **{k: closed[k] for k in ("dropped", "unavailable")},
        "events_cpu_ms_per_delivery": round(1000 * cpu / max(1, len(from_ack)), 3),
        "ack_ms": {"p50": ms(acks, 50), "p99": ms(acks, 99)},
        "from_ack_ms": {p: ms(from_ack, q) for p, q in (("p50", 50), ("p99", 99), ("max", 100))},
        "from_send_ms": {p: ms(from_send, q) for p, q in (("p50", 50), ("p99", 99), ("max", 100))},
    }
    print(f"  latency: {result}", flush=True)
    return result


def wsgi_streams(options) -> dict:
    """The alternative: the WSGI gunicorn (2 workers × 4 threads) serving the streams too,
    with its cap (EVENTS_MAX_SYNC_STREAMS, half the threads) and without (8: every thread)."""
    results = {}
    for cap in ("default", "8"):
        extra = {} if cap == "default" else {"EVENTS_MAX_SYNC_STREAMS": cap}
        service = service_start(EVENTS_CONFIG, events_to_wsgi=True, **extra)
        try:
            host, port = service.address()
            url = service.url(READ_PATH)
            wrk(url, 10)  # warm-up
            without = wrk(url, 10)
            clients = Clients(host, port, 8, addresses=options.addresses, open_timeout=15)
            loaded = wrk(url, 10, timeout="2s")
            clients.close()
            results[cap] = {"opened": clients.opened, "without": without, "with": loaded}
        finally:
            service_stop(service)
        print(f"  WSGI streams, cap {cap}: {results[cap]}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--latency-clients", type=int, default=200)
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=15)
    # Client source addresses 127.0.1.1..N (0: every stream from 127.0.0.1, like wrk).
    parser.add_argument("--addresses", type=int, default=0)
    parser.add_argument("--candidates", default=",".join(CANDIDATES))
    # Seconds between two commits of a latency pass; a pass per value.
    parser.add_argument("--spacings", default="0.1,1.0")
    parser.add_argument("--no-wsgi", action="store_true")
    # The events server's Redis pool size (0: redis-py's default, 100 in 8.x).
    options = parser.parse_args()
    # Stopped from outside: the servers are stopped too (the `finally` below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))

    fresh_database(DATABASE)
    manage(DATABASE, "generate_production", "--factories", "2", "--days", "7")
    names = [name for name in options.candidates.split(",") if name]
    if "hypercorn" in names and not (HYPERCORN / "hypercorn").is_dir():
        print(f"hypercorn is not in {HYPERCORN}: skipped")
        names.remove("hypercorn")
    results = {}
    for index, name in enumerate(names):
        print(f"== {name}", flush=True)
        service = service_start(CANDIDATES[name])
        try:
            token = service.token("manager", username=f"bench-events-{index}")
            results[name] = {"idle": idle_streams(service, options), "latency": []}
            for turn, spacing in enumerate(float(each) for each in options.spacings.split(",")):
                for attempt in range(2):
                    start = datetime(2030 + index, 1 + turn, 1 + 10 * attempt, tzinfo=UTC)
                    measured = latency(service, token, options, start, spacing)
                    if alive(service):
                        break
                results[name]["latency"].append(measured)
        finally:
            service_stop(service)
    wsgi = None if options.no_wsgi else wsgi_streams(options)

    print(f"\n{options.clients} idle streams; {options.latency_clients} clients per commit")
    print(
        f"{'server':17} {'req/s 0':>8} {'req/s N':>8} {'ratio':>6} {'paired':>6} {'KiB/str':>7}"
        f" {'nginx':>6}"
        f" {'spacing':>7} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'CPU ms':>6} {'miss':>4}"
    )
    for name, result in results.items():
        idle = result["idle"]
        for turn in result["latency"]:
            lat = turn["from_ack_ms"]
            print(
                f"{name:17} {idle['rps_without']:8.1f} {idle['rps_with']:8.1f}"
                f" {idle['ratio']:6.3f} {idle['round_ratio_median']:6.3f}"
                f" {idle['per_stream']['events_kb']:7.1f}"
                f" {idle['per_stream']['nginx_kb']:6.1f} {turn['spacing_s']:7.2f}"
                f" {lat['p50']:7.1f} {lat['p99']:7.1f} {lat['max']:7.1f}"
                f" {turn['events_cpu_ms_per_delivery']:6.2f} {turn['missing']:4}"
            )
    for cap, result in (wsgi or {}).items():
        print(
            f"WSGI threads asked for 8 streams (cap {cap}): {result['opened']['ready']} open;"
            f" API {result['without']['rps']:.1f} → {result['with']['rps']:.1f} req/s"
        )
    record(
        "events",
        {
            "clients": options.clients,
            "latency_clients": options.latency_clients,
            "posts": options.posts,
            "rounds": options.rounds,
            "seconds": options.seconds,
            "read": READ_PATH,
            "addresses": options.addresses,
            "candidates": results,
            "wsgi_streams": wsgi,
            "targets": {"ratio": 0.9, "p99_ms": 500},
        },
    )


if __name__ == "__main__":
    main()
