"""Peak memory of the gunicorn worker for the worst bulk bodies under BULK_MAX_BYTES.

    .venv/bin/python benchmarks/bench_bulk_memory.py [--rows 500000]

Target (DESIGN §9): a worker's peak resident memory stays under 600 MB for a 64 MiB body of
empty items (`[{},{},...]`, refused with a 413) and for a legitimate 500k-row body (ingested).
A third body measures the most a body may make the worker build: as many rows and values as
the bounds let through (500k objects of five fields, every value a string of its own, refused
with a 400 once built; field names are bounded, and repeated names cost nothing). Each body goes to a fresh single-worker gunicorn; its `VmHWM` (peak resident
set) is read from /proc before and after.
"""

import argparse
import sys
import urllib.error
import urllib.request
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.bench_bulk_ingest import bench_database, json_body, rows
from benchmarks.bench_export_memory import peak_rss_mb, worker_pids
from benchmarks.common import gunicorn, psql, record

DATABASE = "sprocket_bench_bulk_memory"
MIB = 1024 * 1024
TARGET_MB = 600


def empty_items(limit: int) -> bytes:
    """`[{},{},...]` as long as fits in `limit` bytes."""
    count = (limit - 1) // 3
    return b"[" + b",".join([b"{}"] * count) + b"]"


def most_values(count: int) -> bytes:
    """`count` objects of five fields named alike, each value a string of its own."""
    return orjson.dumps(
        [{name: f"{name}{n:07d}" for name in ("a", "b", "c", "d", "e")} for n in range(count)]
    )


def post(url: str, body: bytes, token: str) -> tuple[int, bytes]:
    """The status and body of the answer, a refusal's included."""
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data=body, headers=headers), timeout=600
        ) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as refusal:
        return refusal.code, refusal.read()


def peak_for(body: bytes, token: str) -> dict:
    with gunicorn(DATABASE, workers=1, CACHE_RESPONSES="false") as base:
        port = int(base.rsplit(":", 1)[1])
        pids = worker_pids(port)  # the worker, and the master (far smaller)
        before = max(map(peak_rss_mb, pids))
        psql(DATABASE, "TRUNCATE production_productionrecord")
        status, answer = post(f"{base}/sprocketFactory/v1/production/bulk", body, token)
        after = max(map(peak_rss_mb, pids))
    return {
        "body_bytes": len(body),
        "status": status,
        "answer": answer[:160].decode(errors="replace"),
        "worker_peak_rss_mb_before": round(before, 1),
        "worker_peak_rss_mb_after": round(after, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500_000)
    options = parser.parse_args()

    factory_id, token = bench_database(DATABASE)
    results = {
        "empty_items_64mib": peak_for(empty_items(64 * MIB), token),
        f"legitimate_{options.rows}_rows": peak_for(
            json_body(rows(options.rows, factory_id)), token
        ),
        f"most_values_{options.rows}_rows": peak_for(most_values(options.rows), token),
    }
    record(
        "bulk_memory",
        {
            **results,
            "target": f"< {TARGET_MB} MB",
            "met": all(r["worker_peak_rss_mb_after"] < TARGET_MB for r in results.values()),
        },
    )


if __name__ == "__main__":
    main()
