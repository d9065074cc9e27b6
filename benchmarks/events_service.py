"""The service of the live-events benchmark (bench_events.py): started as the system tests
start it, with the events server of a candidate; and the measures of its processes."""

import contextlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import redis

from benchmarks.common import REDIS_URL, ROOT, WRK_RPS, database_url
from tests.system.conftest import FrontProxy, Service, service_env

DATABASE = "sprocket_bench_events"
READ_PATH = "/sprocketFactory/v1/production/summary?factory_id=1"
BULK_PATH = "/sprocketFactory/v1/production/bulk"
HYPERCORN = Path(
    os.environ.get("BENCH_HYPERCORN") or Path(tempfile.gettempdir(), "bench-hypercorn")
)
EVENTS_CONFIG = ["-m", "gunicorn", "-c", "sprocket_factory/gunicorn_events.conf.py"]
CANDIDATES = {
    # As configured: uvicorn_worker.UvicornH11Worker (asyncio loop, h11 parser), one worker.
    "uvicorn-h11": EVENTS_CONFIG,
    # The same with EVENTS_CONCURRENCY=2 (one worker per core).
    "uvicorn-h11-2w": [*EVENTS_CONFIG, "-w", "2"],
    # uvicorn with uvloop and httptools: needs them on the path (BENCH_UVLOOP, as hypercorn).
    "uvicorn-uvloop": [*EVENTS_CONFIG, "-k", "uvicorn_worker.UvicornWorker"],
    "hypercorn": shlex.split("-m hypercorn -w 1 -k uvloop sprocket_factory.asgi:application"),
}


@dataclass
class BenchService(Service):
    """The system tests' service, with the events server's command of a candidate."""

    events_args: list[str] = field(default_factory=lambda: EVENTS_CONFIG)

    def _gunicorn(self, config: str) -> subprocess.Popen:
        if config != "gunicorn_events.conf.py":
            return super()._gunicorn(config)
        args, env = list(self.events_args), dict(self.env)
        if args[1] == "hypercorn":
            args[2:2] = ["-b", self.env["EVENTS_BIND"]]
        if args[1] == "hypercorn" or "uvicorn_worker.UvicornWorker" in args:
            env["PYTHONPATH"] = str(HYPERCORN)  # hypercorn, uvloop, httptools
        return subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env=env,
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def service_start(
    events_args: list[str], *, events_to_wsgi: bool = False, **extra: str
) -> BenchService:
    workdir = Path(tempfile.mkdtemp(prefix="sprocket-bench-events-"))
    # Production's heartbeat (the system tests' service_env shortens it).
    env = service_env(
        database_url(DATABASE),
        REDIS_URL,
        workdir,
        LOG_LEVEL="WARNING",
        EVENTS_HEARTBEAT_SECONDS="15",
        # No worker recycling: a restart every ~5,000 requests (each few arms) costs ~1 s of
        # CPU and swings one arm by ±40%, whatever the streams do.
        GUNICORN_MAX_REQUESTS="0",
        **extra,
    )
    front = FrontProxy(
        directory=workdir / "nginx",
        upstream=env["GUNICORN_BIND"],
        events_upstream=env["GUNICORN_BIND" if events_to_wsgi else "EVENTS_BIND"],
        static_root=Path(env["STATIC_ROOT"]),
    )
    service = BenchService(env=env, front=front, events_args=events_args)
    service.start()
    return service


def service_stop(service: BenchService) -> None:
    service.stop()
    workdir = Path(service.env["STATIC_ROOT"]).parent
    if os.environ.get("BENCH_KEEP"):
        print(f"  logs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def tree(pid: int) -> list[int]:
    """A process and all its descendants (a server's master and workers)."""
    found, pids = [], [pid]
    while pids:
        found.append(pids.pop())
        children = subprocess.run(["pgrep", "-P", str(found[-1])], capture_output=True, text=True)
        pids += [int(child) for child in children.stdout.split()]
    return found


def rss_kb(pid: int) -> int:
    total = 0
    for each in tree(pid):
        with contextlib.suppress(FileNotFoundError):
            status = Path(f"/proc/{each}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process tree (its workers that exited are not counted)."""
    total = 0
    for each in tree(pid):
        with contextlib.suppress(FileNotFoundError):
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def memory(service: BenchService) -> dict:
    info = redis.Redis.from_url(REDIS_URL).info()
    return {
        "events_kb": rss_kb(service.events_process.pid),
        "nginx_kb": rss_kb(service.front.process.pid),
        "redis_clients": info["connected_clients"],
        "redis_bytes": info["used_memory"],
    }


def wrk(url: str, seconds: int, timeout: str = "10s") -> dict:
    """req/s of `wrk -t2 -c16` and the errors it saw (never raises on them)."""
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "--timeout", timeout, url],
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(WRK_RPS.search(out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1).strip() if errors else "",
    }


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values) or [float("nan")]
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def alive(service: BenchService) -> bool:
    """Whether every server still runs; if one exited, all are restarted (the caller redoes
    what it measured)."""
    processes = {"web": service.process, "events": service.events_process}
    exited = {
        name: process.returncode
        for name, process in {**processes, "nginx": service.front.process}.items()
        if process.poll() is not None
    }
    if exited:
        print(f"  WARNING: exited {exited} (signal < 0): restarting, measuring again", flush=True)
        service.stop()
        service.start()
    return not exited
