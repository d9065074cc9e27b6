"""Reads of one factory's production: our list vs a plain-DRF reference, cached, and 304s.

    .venv/bin/python benchmarks/bench_reads.py [--seconds 10]

Targets (DESIGN §9), on a factory with 100k records, `?limit=1000`:
  uncached list ≥ 2× the reference's req/s; cached ≥ 3× uncached; 304 ≥ 5× uncached.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import fresh_database, gunicorn, psql, record, request, wrk

DATABASE = "sprocket_bench_reads"
RECORDS = 100_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    options = parser.parse_args()

    fresh_database(DATABASE)
    psql(
        DATABASE,
        "INSERT INTO inventory_factory (name, timezone, is_active, created_at, updated_at) "
        "VALUES ('Bench', 'UTC', true, now(), now())",
        "INSERT INTO production_productionrecord (factory_id, time, sprocket_production_actual, "
        "sprocket_production_goal) SELECT 1, timestamptz '2024-01-01' + n * interval '1 minute', "
        f"28 + n % 7, 32 FROM generate_series(0, {RECORDS - 1}) AS n",
        "ANALYZE",
    )
    ours_path = "/sprocketFactory/v1/production/1?limit=1000"
    bench_env = {"DJANGO_SETTINGS_MODULE": "benchmarks.settings"}
    with gunicorn(DATABASE, CACHE_RESPONSES="false", **bench_env) as base:
        reference = wrk(f"{base}/reference/production/1", seconds=options.seconds)
        uncached = wrk(f"{base}{ours_path}", seconds=options.seconds)
    with gunicorn(DATABASE, **bench_env) as base:
        _, headers, _ = request("GET", f"{base}{ours_path}")
        cached = wrk(f"{base}{ours_path}", seconds=options.seconds)
        not_modified = wrk(
            f"{base}{ours_path}",
            seconds=options.seconds,
            headers=[f"If-None-Match: {headers['ETag']}"],
        )
    record(
        "reads",
        {
            "records": RECORDS,
            "reference_rps": reference["rps"],
            "uncached_rps": uncached["rps"],
            "cached_rps": cached["rps"],
            "not_modified_rps": not_modified["rps"],
            "uncached_vs_reference": round(uncached["rps"] / reference["rps"], 2),
            "cached_vs_uncached": round(cached["rps"] / uncached["rps"], 2),
            "not_modified_vs_uncached": round(not_modified["rps"] / uncached["rps"], 2),
            "targets": {
                "uncached_vs_reference": 2,
                "cached_vs_uncached": 3,
                "not_modified_vs_uncached": 5,
            },
            "p99_ms": {
                "reference": reference.get("p99"),
                "uncached": uncached.get("p99"),
                "cached": cached.get("p99"),
                "not_modified": not_modified.get("p99"),
            },
        },
    )


if __name__ == "__main__":
    main()
