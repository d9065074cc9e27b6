"""Reads with a streaming replica: how many the replica serves while writes keep arriving, and
what routing costs, against the same service without a replica, in one run.

    .venv/bin/python benchmarks/bench_replicas.py [--seconds 10]

A primary and a replica of our own (initdb, pg_basebackup -R), a Redis of our own, gunicorn
with the production config and uncached reads (CACHE_RESPONSES=false: every read reaches a
database). wrk reads one factory's 1,000-row page while a writer adds one record every
`--write-every` seconds to that factory (each write raises the page's mark: the replica must
replay it before it serves the page again). Which database answered comes from the service's
metric `sprocket_database_reads_total`.
"""

import argparse
import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import PYTHON, ROOT, free_port, record, request, wait_until_answers, wrk
from tests.servers import PrivatePostgres, PrivateRedis

METRICS_TOKEN = secrets.token_urlsafe(16)
RECORDS = 100_000


def primary_and_replica() -> tuple[PrivatePostgres, PrivatePostgres]:
    # Each in a folder of its own, which the postgres user owns (tests/servers.py).
    primary = PrivatePostgres(Path(tempfile.mkdtemp(prefix="bench-primary-")))
    primary.init()
    primary.start()
    replica = PrivatePostgres(Path(tempfile.mkdtemp(prefix="bench-replica-")))
    replica.base_backup_of(primary)
    replica.start()
    return primary, replica


@contextlib.contextmanager
def service(database_url: str, redis_url: str, **env: str) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "-c", "sprocket_factory/gunicorn.conf.py"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("DATABASE")},
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "CACHE_RESPONSES": "false",
            "METRICS_TOKEN": METRICS_TOKEN,
            "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="bench-metrics-"),
            **env,
        },
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


def manage(database_url: str, redis_url: str, *args: str) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
    }
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def reads_served(base: str) -> dict[str, float]:
    _, _, body = request(
        "GET", f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    found = re.findall(
        r'^sprocket_database_reads_total\{database="(\w+)"\} ([\d.e+]+)$', body.decode(), re.M
    )
    return {database: float(count) for database, count in found}


def measure(base: str, token: str, seconds: int, write_every: float, first_write: int) -> dict:
    stop = threading.Event()
    writes = []

    def write() -> None:
        minute = 0
        while not stop.is_set():
            body = orjson.dumps(
                {
                    "factory_id": 1,
                    "time": first_write + 60 * minute,
                    "sprocket_production_actual": 1,
                    "sprocket_production_goal": 1,
                }
            )
            status, _, _ = request(
                "POST",
                f"{base}/sprocketFactory/v1/production",
                body,
                {"Authorization": f"Token {token}", "Content-Type": "application/json"},
            )
            writes.append(status)
            minute += 1
            stop.wait(write_every)

    page = f"{base}/sprocketFactory/v1/production/1?limit=1000"
    wrk(page, seconds=1)
    before = reads_served(base)
    writer = threading.Thread(target=write)
    writer.start()
    result = wrk(page, seconds=seconds)
    stop.set()
    writer.join()
    after = reads_served(base)
    served = {name: after.get(name, 0) - before.get(name, 0) for name in after}
    return {
        "rps": result["rps"],
        "p99_ms": result.get("p99"),
        "reads": served,
        "writes": len(writes),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--write-every", type=float, default=0.1)
    options = parser.parse_args()

    redis = PrivateRedis()
    redis.start()
    primary, replica = primary_and_replica()
    try:
        name = "bench_replicas"
        primary_url = primary.create_database(name)
        replica_url = replica.url(name)
        manage(primary_url, redis.url, "migrate", "--noinput", "-v0")
        subprocess.run(
            [
                "psql", primary_url, "-qAtX", "-v", "ON_ERROR_STOP=1",
                "-c", "INSERT INTO inventory_factory (name, timezone, is_active, created_at, "
                "updated_at) VALUES ('Bench', 'UTC', true, now(), now())",
                "-c", "INSERT INTO production_productionrecord (factory_id, time, "
                "sprocket_production_actual, sprocket_production_goal) SELECT 1, "
                "timestamptz '2024-01-01' + n * interval '1 minute', 28 + n % 7, 32 "
                f"FROM generate_series(0, {RECORDS - 1}) AS n",
                "-c", "ANALYZE",
            ],
            check=True,
        )  # fmt: skip
        token = manage(primary_url, redis.url, "issue_token", "bench", "--group", "operator")
        time.sleep(2)  # the replica replays the seed
        results = {}
        with service(primary_url, redis.url) as base:
            results["primary_only"] = measure(
                base, token, options.seconds, options.write_every, first_write=2_000_000_000
            )
        with service(primary_url, redis.url, DATABASE_REPLICA_URLS=replica_url) as base:
            results["with_replica"] = measure(
                base, token, options.seconds, options.write_every, first_write=2_100_000_000
            )
        reads = results["with_replica"]["reads"]
        total = sum(reads.values()) or 1
        record(
            "replicas",
            {
                "records": RECORDS,
                "seconds": options.seconds,
                "write_every_s": options.write_every,
                **results,
                "replica_share_of_reads": round(reads.get("replica_0", 0) / total, 3),
                "with_replica_vs_primary_only": round(
                    results["with_replica"]["rps"] / results["primary_only"]["rps"], 2
                ),
            },
        )
    finally:
        for server in (replica, primary):
            with contextlib.suppress(subprocess.SubprocessError):
                server.stop("immediate")
            shutil.rmtree(server.directory, ignore_errors=True)
        redis.stop()


if __name__ == "__main__":
    main()
