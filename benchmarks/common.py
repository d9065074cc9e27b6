"""What every benchmark needs: a scratch PostgreSQL database, gunicorn with the production
config, tokens, and wrk. Run from the repository root with the virtualenv's python."""

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(name: str) -> str:
    return f"{PG_ADMIN_URL}/{name}"


def service_env(database: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(database),
        REDIS_URL=REDIS_URL,
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def psql(database: str, *sql: str) -> str:
    args = ["psql", database_url(database), "-qAtX", "-v", "ON_ERROR_STOP=1"]
    for statement in sql:
        args += ["-c", statement]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def fresh_database(name: str) -> None:
    psql("postgres", f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
    manage(name, "migrate", "--noinput", "-v0")


def manage(database: str, *args: str, **env: str) -> str:
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=service_env(database, **env),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@contextlib.contextmanager
def gunicorn(database: str, *, workers: int = 2, **env: str) -> Iterator[str]:
    """gunicorn with the repository's config file; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "-c", "sprocket_factory/gunicorn.conf.py"],
        cwd=ROOT,
        env=service_env(
            database, GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY=str(workers), **env
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(f"{base}/healthz", process, "gunicorn")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_until_answers(url: str, process: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{name} did not start") from None
            time.sleep(0.1)


@contextlib.contextmanager
def fastapi_reference(database: str, *, workers: int = 2) -> Iterator[str]:
    """benchmarks/fastapi_reference.py under uvicorn with `workers` processes
    (benchmarks/fastapi_serve.py); yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [PYTHON, "-m", "benchmarks.fastapi_serve", str(port), str(workers)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url(database)},
        # Its errors (a failed import, a refused DSN) show; at "warning" it says nothing else.
        stdout=subprocess.DEVNULL,
        # Its own process group: the workers go with the supervisor however it ends.
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(f"{base}/healthz", process, "uvicorn")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def request(method: str, url: str, body: bytes | None = None, headers: dict | None = None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=600) as response:
        return response.status, dict(response.headers), response.read()


WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_LATENCY = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
UNIT = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def wrk(
    url: str, *, seconds: int = 10, connections: int = 8, headers=(), script: str | None = None
) -> dict:
    """requests/s and latency percentiles (ms) from wrk on loopback."""
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for header in headers:
        args += ["-H", header]
    if script:
        args += ["-s", script]
    output = subprocess.run(
        [*args, url], check=True, capture_output=True, text=True, timeout=seconds + 60
    ).stdout
    if "Non-2xx or 3xx responses" in output:
        raise RuntimeError(f"wrk saw errors:\n{output}")
    latency = {f"p{p}": float(v) * UNIT[u] for p, v, u in WRK_LATENCY.findall(output)}
    return {"rps": float(WRK_RPS.search(output).group(1)), **latency}


def record(name: str, result: dict) -> None:
    """Print a result and append it to benchmarks/results.jsonl."""
    line = {"benchmark": name, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **result}
    print(json.dumps(line, indent=2))
    with (ROOT / "benchmarks" / "results.jsonl").open("a") as out:
        out.write(json.dumps(line) + "\n")
