"""A factory + one-day window: p99 latency at 10M records vs at 100k records.

    .venv/bin/python benchmarks/bench_window.py [--big 10000000] [--seconds 15]

Target (DESIGN §9): p99 at 10M ≤ 1.5× p99 at 100k, and the plan an index scan. Responses
are not cached (CACHE_RESPONSES=false) and every request asks for a random factory and day.
"""

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import fresh_database, gunicorn, psql, record, wrk

PER_FACTORY = 100_000  # about 69 days of minutes
START = 1_704_067_200  # 2024-01-01T00:00:00Z
DAYS = PER_FACTORY // 1440 - 1

LUA = """
math.randomseed(12345)
request = function()
  local factory = math.random(1, %(factories)d)
  local after = %(start)d + math.random(0, %(days)d) * 86400
  return wrk.format("GET", "/sprocketFactory/v1/production/" .. factory ..
    "?limit=1440&after=" .. after .. "&before=" .. (after + 86400))
end
"""


def build(database: str, records: int) -> int:
    factories = max(1, records // PER_FACTORY)
    fresh_database(database)
    psql(
        database,
        "INSERT INTO inventory_factory (name, timezone, is_active, created_at, updated_at) "
        f"SELECT 'Bench ' || n, 'UTC', true, now(), now() FROM generate_series(1, {factories}) n",
        # Rows arrive in time order across factories, as machines would send them.
        "INSERT INTO production_productionrecord (factory_id, time, "
        "sprocket_production_actual, sprocket_production_goal) "
        "SELECT f, timestamptz '2024-01-01' + m * interval '1 minute', 28 + (m + f) % 7, 32 "
        f"FROM generate_series(0, {PER_FACTORY - 1}) m, generate_series(1, {factories}) f",
        "VACUUM ANALYZE",
    )
    return factories


def measure(database: str, factories: int, seconds: int, directory: str) -> dict:
    script = Path(directory) / f"{database}.lua"
    script.write_text(LUA % {"factories": factories, "start": START, "days": DAYS})
    plan = psql(
        database,
        "EXPLAIN SELECT id, factory_id, sprocket_production_actual, sprocket_production_goal, "
        "time FROM production_productionrecord WHERE factory_id = 1 AND time >= "
        "'2024-01-10' AND time < '2024-01-11' ORDER BY time LIMIT 1441",
    )
    with gunicorn(database, CACHE_RESPONSES="false") as base:
        wrk(base + "/healthz", seconds=2)
        result = wrk(base + "/", seconds=seconds, connections=4, script=str(script))
    return {**result, "plan": plan.splitlines()[:3]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--big", type=int, default=10_000_000)
    parser.add_argument("--seconds", type=int, default=15)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        small_factories = build("sprocket_bench_window_small", options.small)
        big_factories = build("sprocket_bench_window_big", options.big)
        small = measure("sprocket_bench_window_small", small_factories, options.seconds, directory)
        big = measure("sprocket_bench_window_big", big_factories, options.seconds, directory)
    record(
        "window_p99",
        {
            "small_records": options.small,
            "big_records": options.big,
            "small": small,
            "big": big,
            "p99_big_vs_small": round(big["p99"] / small["p99"], 2),
            "target": "<= 1.5",
        },
    )


if __name__ == "__main__":
    main()
