"""Bulk ingest through the API vs `psql \\copy` of the same rows into the same table.

    .venv/bin/python benchmarks/bench_bulk_ingest.py [--rows 100000] [--big-rows 500000]

Target (DESIGN §9): the API's rows/s ≥ 70% of psql's; a 500k-record body is accepted.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import database_url, fresh_database, gunicorn, manage, psql, record, request

DATABASE = "sprocket_bench_ingest"
TABLE = "production_productionrecord"
START = 1_704_067_200  # 2024-01-01T00:00:00Z


def rows(count: int, factory_id: int) -> list[tuple[int, int, int, int]]:
    return [(factory_id, START + 60 * i, 28 + i % 7, 32) for i in range(count)]


def json_body(records) -> bytes:
    return orjson.dumps(
        [
            {
                "factory_id": f,
                "time": t,
                "sprocket_production_actual": a,
                "sprocket_production_goal": g,
            }
            for f, t, a, g in records
        ]
    )


def csv_file(records, directory: str) -> str:
    path = Path(directory) / "rows.csv"
    with path.open("w") as out:
        for f, t, a, g in records:
            out.write(f"{f},{datetime.fromtimestamp(t, UTC).isoformat()},{a},{g}\n")
    return str(path)


def timed_psql_copy(path: str) -> float:
    psql(DATABASE, f"TRUNCATE {TABLE}")
    started = time.perf_counter()
    subprocess.run(
        [
            "psql",
            database_url(DATABASE),
            "-qX",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            f"\\copy {TABLE} (factory_id, time, sprocket_production_actual, "
            f"sprocket_production_goal) from '{path}' with (format csv)",
        ],
        check=True,
    )
    return time.perf_counter() - started


def timed_api_post(base: str, token: str, body: bytes, expected: int) -> float:
    psql(DATABASE, f"TRUNCATE {TABLE}")
    started = time.perf_counter()
    status, _, answer = request(
        "POST",
        f"{base}/sprocketFactory/v1/production/bulk",
        body,
        {"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    elapsed = time.perf_counter() - started
    created = orjson.loads(answer)["created"]
    if status != 201 or created != expected:
        raise RuntimeError(f"bulk answered {status} {answer[:200]!r}")
    return elapsed


def bench_database(database: str) -> tuple[int, str]:
    """A fresh database with one factory and a manager's token: its id and the token."""
    fresh_database(database)
    factory_id = int(
        psql(
            database,
            "INSERT INTO inventory_factory (name, timezone, is_active, created_at, "
            "updated_at) VALUES ('Bench', 'UTC', true, now(), now()) RETURNING id",
        ).split()[0]
    )
    token = manage(database, "issue_token", "bench", "--group", "manager", "--ttl", "7200")
    return factory_id, token


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--big-rows", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()

    factory_id, token = bench_database(DATABASE)
    records = rows(options.rows, factory_id)
    body = json_body(records)

    with tempfile.TemporaryDirectory() as directory:
        path = csv_file(records, directory)
        with gunicorn(DATABASE) as base:
            timed_api_post(base, token, body, options.rows)  # warm-up: imports, connections
            psql_times, api_times = [], []
            # Interleaved, so drift on a shared machine hits both alike.
            for _ in range(options.repeat):
                psql_times.append(timed_psql_copy(path))
                api_times.append(timed_api_post(base, token, body, options.rows))
            big = rows(options.big_rows, factory_id)
            big_seconds = timed_api_post(base, token, json_body(big), options.big_rows)

    psql_rps = options.rows / statistics.median(psql_times)
    api_rps = options.rows / statistics.median(api_times)
    record(
        "bulk_ingest",
        {
            "rows": options.rows,
            "body_bytes": len(body),
            "psql_copy_rows_per_s": round(psql_rps),
            "api_rows_per_s": round(api_rps),
            "api_vs_psql": round(api_rps / psql_rps, 3),
            "target": ">= 0.70",
            "big_body_rows": options.big_rows,
            "big_body_seconds": round(big_seconds, 2),
            "big_body_rows_per_s": round(options.big_rows / big_seconds),
        },
    )


if __name__ == "__main__":
    main()
