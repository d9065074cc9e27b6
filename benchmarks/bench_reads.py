"""Reads of one factory's production: our service against a plain-DRF reference and a FastAPI +
asyncpg + orjson reference (fastapi_reference.py), uncached, cached and as 304s, in one run.

    .venv/bin/python benchmarks/bench_reads.py [--seconds 10]

On a factory with 100k records, `wrk -t2 -c8` for the same seconds on each:
- the production page `?limit=1000`: plain DRF (reference.py), FastAPI, ours uncached
  (CACHE_RESPONSES=false), ours cached (anonymous: replayed in front of Django), ours
  answering 304 to `If-None-Match`, and ours cached for a client sending a token;
- chart data for a one-day window, and the month summary: FastAPI, ours uncached, ours cached.

Targets for the page of 1000 (DESIGN §9): uncached ≥ 2× plain DRF, cached ≥ 3× uncached,
304 ≥ 5× uncached; and against FastAPI: uncached ≥ 1×, cached ≥ 4×, 304 ≥ 6×. Before
measuring, every FastAPI body is checked byte for byte against ours: a reference answering
something else would make the ratios meaningless.
"""

import argparse
import importlib.metadata
import importlib.util
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import (
    fastapi_reference,
    fresh_database,
    gunicorn,
    manage,
    psql,
    record,
    request,
    wrk,
)

DATABASE = "sprocket_bench_reads"
RECORDS = 100_000
OURS = "/sprocketFactory/v1"
ONE_DAY = "after=2024-01-02T00:00:00Z&before=2024-01-03T00:00:00Z"
# Each read as our service and the FastAPI reference spell it.
PATHS = {
    "production": (f"{OURS}/production/1?limit=1000", "/production/1?limit=1000"),
    "chart": (f"{OURS}/factories/1/chart-data?{ONE_DAY}", f"/chart/1?{ONE_DAY}"),
    "summary": (f"{OURS}/production/summary?bucket=month&tz=UTC", "/summary?bucket=month&tz=UTC"),
}
BENCH_ENV = {"DJANGO_SETTINGS_MODULE": "benchmarks.settings"}


def seed() -> None:
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


def measure(base: str, paths: dict[str, str], seconds: int) -> dict[str, dict]:
    """wrk on each path, after a one-second run that warms every worker (imports, statements)."""
    results = {}
    for name, path in paths.items():
        wrk(f"{base}{path}", seconds=1)
        results[name] = wrk(f"{base}{path}", seconds=seconds)
    return results


def bodies(base: str, paths: dict[str, str]) -> dict[str, bytes]:
    return {name: request("GET", f"{base}{path}")[2] for name, path in paths.items()}


def ratio(numerator: dict, denominator: dict) -> float:
    return round(numerator["rps"] / denominator["rps"], 2)


def fastapi_stack() -> str:
    """What the reference ran on: uvicorn picks uvloop and httptools when they are installed."""
    versions = {
        name: importlib.metadata.version(name) for name in ("fastapi", "asyncpg", "uvicorn")
    }
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return (
        f"FastAPI {versions['fastapi']}, asyncpg {versions['asyncpg']}, uvicorn "
        f"{versions['uvicorn']} ({loop}, {http}), 2 workers"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    seconds = parser.parse_args().seconds

    seed()
    ours = {name: pair[0] for name, pair in PATHS.items()}
    theirs = {name: pair[1] for name, pair in PATHS.items()}
    with gunicorn(DATABASE, CACHE_RESPONSES="false", **BENCH_ENV) as base:
        expected = bodies(base, ours)
        reference = measure(base, {"production": "/reference/production/1"}, seconds)
        uncached = measure(base, ours, seconds)
    with fastapi_reference(DATABASE) as base:
        answered = bodies(base, theirs)
        differing = [name for name in PATHS if answered[name] != expected[name]]
        if differing:
            raise RuntimeError(
                f"The FastAPI reference answers other bytes than ours for {differing}: "
                "bring benchmarks/fastapi_reference.py up to date."
            )
        fastapi = measure(base, theirs, seconds)
    token = manage(DATABASE, "issue_token", "bench-viewer", "--group", "viewer", **BENCH_ENV)
    with gunicorn(DATABASE, **BENCH_ENV) as base:
        _, headers, _ = request("GET", f"{base}{ours['production']}")
        # Anonymous: replayed in front of Django (core/ops/replay.py).
        cached = measure(base, ours, seconds)
        not_modified = wrk(
            f"{base}{ours['production']}",
            seconds=seconds,
            headers=[f"If-None-Match: {headers['ETag']}"],
        )
        # With a token: authenticated by Django and DRF, then answered from the cache.
        wrk(f"{base}{ours['production']}", seconds=1, headers=[f"Authorization: Token {token}"])
        cached_with_token = wrk(
            f"{base}{ours['production']}",
            seconds=seconds,
            headers=[f"Authorization: Token {token}"],
        )

    page = {
        "reference": reference["production"],
        "fastapi": fastapi["production"],
        "uncached": uncached["production"],
        "cached": cached["production"],
        "not_modified": not_modified,
        "cached_with_token": cached_with_token,
    }
    record(
        "reads",
        {
            "records": RECORDS,
            "seconds": seconds,
            "fastapi_stack": fastapi_stack(),
            "fastapi_bodies_equal_to_ours": list(PATHS),
            **{f"{name}_rps": result["rps"] for name, result in page.items()},
            "uncached_vs_reference": ratio(page["uncached"], page["reference"]),
            "cached_vs_uncached": ratio(page["cached"], page["uncached"]),
            "not_modified_vs_uncached": ratio(page["not_modified"], page["uncached"]),
            "uncached_vs_fastapi": ratio(page["uncached"], page["fastapi"]),
            "cached_vs_fastapi": ratio(page["cached"], page["fastapi"]),
            "not_modified_vs_fastapi": ratio(page["not_modified"], page["fastapi"]),
            "cached_with_token_vs_fastapi": ratio(page["cached_with_token"], page["fastapi"]),
            "targets": {
                "uncached_vs_reference": 2,
                "cached_vs_uncached": 3,
                "not_modified_vs_uncached": 5,
                "uncached_vs_fastapi": 1,
                "cached_vs_fastapi": 4,
                "not_modified_vs_fastapi": 6,
            },
            "p99_ms": {name: result.get("p99") for name, result in page.items()},
            **{
                name: {
                    "fastapi_rps": fastapi[name]["rps"],
                    "uncached_rps": uncached[name]["rps"],
                    "cached_rps": cached[name]["rps"],
                    "uncached_vs_fastapi": ratio(uncached[name], fastapi[name]),
                    "cached_vs_fastapi": ratio(cached[name], fastapi[name]),
                    "p99_ms": {
                        "fastapi": fastapi[name].get("p99"),
                        "uncached": uncached[name].get("p99"),
                        "cached": cached[name].get("p99"),
                    },
                }
                for name in ("chart", "summary")
            },
        },
    )


if __name__ == "__main__":
    main()
