"""Production records partitioned by month against one table, the same data in the same run.

    .venv/bin/python benchmarks/bench_partitions.py [--factories 50] [--days 70] [--rounds 5]

Two databases hold the same minute records: one migrated to the latest state (partitioned;
`production_partitions` then moves the rows out of the default partition into monthly
partitions, which is timed too), one migrated back to production 0007 (one table). Measured
in rounds, one database then the other (ratios: the median of the rounds'): a one-day factory
window's p99 and a month summary's req/s through gunicorn (not cached), bulk ingest of 100k
rows through the API; then the size of the index a one-day window reads, and
dropping a month: DETACH + DROP of its partition against DELETE of its rows (targets, issue
14: drop >= 1,000x faster; window p99 and summary <= 1.1x; bulk >= 0.9x).

Each phase prints its figures as it finishes (a long run that is stopped keeps what it
measured). The DELETE is cut off after --delete-timeout seconds (statement_timeout; its
rows stay): at 50 million records it runs for hours, and the seconds it was given are then
reported as a lower bound.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import (
    database_url,
    fresh_database,
    gunicorn,
    manage,
    psql,
    record,
    request,
    wrk,
)

PARTITIONED, SINGLE = "sprocket_bench_partitioned", "sprocket_bench_single_table"
START = 1_704_067_200  # 2024-01-01T00:00:00Z

WINDOW_LUA = """
math.randomseed(12345)
request = function()
  local factory = math.random(1, %(factories)d)
  local after = %(start)d + math.random(%(from_day)d, %(days)d - 2) * 86400
  return wrk.format("GET", "/sprocketFactory/v1/production/" .. factory ..
    "?limit=1440&after=" .. after .. "&before=" .. (after + 86400))
end
"""
SUMMARY_LUA = """
math.randomseed(54321)
request = function()
  local factory = math.random(1, %(factories)d)
  return wrk.format("GET", "/sprocketFactory/v1/production/summary?bucket=day&factory_id=" ..
    factory .. "&after=2024-02-01T00:00:00Z&before=2024-03-01T00:00:00Z")
end
"""


def phase(name: str, figures: dict) -> None:
    """One phase's figures, printed at once."""
    print(json.dumps({"phase": name, **figures}), flush=True)


def build(database: str, factories: int, days: int, *, partitioned: bool) -> float | None:
    """The records; for the partitioned database, the seconds production_partitions took."""
    fresh_database(database)
    if not partitioned:
        manage(database, "migrate", "production", "0007", "--noinput", "-v0")
    psql(
        database,
        "INSERT INTO inventory_factory (name, timezone, is_active, created_at, updated_at) "
        f"SELECT 'Bench ' || n, 'UTC', true, now(), now() FROM generate_series(1, {factories}) n",
        "INSERT INTO production_productionrecord (factory_id, time, "
        "sprocket_production_actual, sprocket_production_goal) "
        "SELECT f, timestamptz '2024-01-01' + m * interval '1 minute', 28 + (m + f) % 7, 32 "
        f"FROM generate_series(0, {days * 1440 - 1}) m, generate_series(1, {factories}) f",
    )
    moved = None
    if partitioned:
        started = time.perf_counter()
        manage(database, "production_partitions")
        moved = time.perf_counter() - started
    psql(database, "VACUUM ANALYZE")
    phase("built", {"database": database, "production_partitions_seconds": moved})
    return moved


def bulk_body(days: int, round_number: int) -> bytes:
    """100k new records of factory 1, after the data and after earlier rounds'."""
    first = START + (days + round_number * 100) * 86400
    return json.dumps(
        [
            {
                "factory_id": 1,
                "time": first + 60 * i,
                "sprocket_production_actual": 30,
                "sprocket_production_goal": 32,
            }
            for i in range(100_000)
        ]
    ).encode()


def measured_round(base: str, token: str, scripts: dict, body: bytes, seconds: int) -> dict:
    window = wrk(base + "/", seconds=seconds, connections=4, script=str(scripts["window"]))
    summary = wrk(base + "/", seconds=seconds, connections=4, script=str(scripts["summary"]))
    started = time.perf_counter()
    status, _, _ = request(
        "POST",
        base + "/sprocketFactory/v1/production/bulk",
        body,
        {"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    bulk_seconds = time.perf_counter() - started
    assert status == 201, status
    return {
        "window_p99_ms": window["p99"],
        "window_rps": window["rps"],
        "summary_rps": summary["rps"],
        "bulk_rows_per_s": round(100_000 / bulk_seconds),
    }


def served(options, directory: str) -> dict[str, list[dict]]:
    """Rounds in turn, one database then the other, so that noise from other work on the
    machine falls on both; each round's figures for each database."""
    scripts = {}
    for name, lua in (("window", WINDOW_LUA), ("summary", SUMMARY_LUA)):
        scripts[name] = Path(directory) / f"{name}.lua"
        values = {
            "factories": options.factories,
            "start": START,
            "days": options.days,
            "from_day": options.window_from_day,
        }
        scripts[name].write_text(lua % values)
    off = {"CACHE_RESPONSES": "false", "CACHE_REPLAY": "false"}
    rounds: dict[str, list[dict]] = {"partitioned": [], "single_table": []}
    with gunicorn(PARTITIONED, **off) as partitioned, gunicorn(SINGLE, **off) as single:
        bases = {"partitioned": (partitioned, PARTITIONED), "single_table": (single, SINGLE)}
        tokens = {}
        for name, (base, database) in bases.items():
            wrk(base + "/healthz", seconds=2)
            tokens[name] = manage(database, "issue_token", "bench-manager", "--group", "manager")
        for round_number in range(options.first_round, options.first_round + options.rounds):
            body = bulk_body(options.days, round_number)
            for name, (base, _) in bases.items():
                rounds[name].append(
                    measured_round(base, tokens[name], scripts, body, options.seconds)
                )
                phase("round", {"round": round_number, "database": name, **rounds[name][-1]})
    return rounds


def median_ratio(rounds: dict, key: str) -> float:
    ratios = [
        a[key] / b[key] for a, b in zip(rounds["partitioned"], rounds["single_table"], strict=True)
    ]
    return round(statistics.median(ratios), 2)


def window_index_bytes(database: str, *, partitioned: bool) -> int:
    """The unique (factory, time) index a one-day window in February reads."""
    table = "production_productionrecord_p20240201" if partitioned else None
    with psycopg.connect(database_url(database)) as connection:
        if table is None:
            query = "SELECT pg_relation_size('production_record_unique_factory_time')"
        else:
            query = (
                "SELECT pg_relation_size(indexrelid) FROM pg_index "
                f"WHERE indrelid = '{table}'::regclass AND indisunique AND indnatts = 2 "
                "AND NOT indisprimary"
            )
        return connection.execute(query).fetchone()[0]


def month_dropped(
    database: str, *, partitioned: bool, timeout_seconds: int
) -> tuple[float, int, bool]:
    """Seconds to remove February 2024's records, how many there were, and whether the
    removal was cut off at timeout_seconds (the seconds are then a lower bound)."""
    with psycopg.connect(database_url(database), autocommit=True) as connection:
        connection.execute(f"SET statement_timeout = '{timeout_seconds}s'")
        (rows,) = connection.execute(
            "SELECT count(*) FROM production_productionrecord "
            "WHERE time >= '2024-02-01' AND time < '2024-03-01'"
        ).fetchone()
        started = time.perf_counter()
        try:
            with connection.transaction():
                if partitioned:
                    connection.execute(
                        "ALTER TABLE production_productionrecord "
                        "DETACH PARTITION production_productionrecord_p20240201"
                    )
                    connection.execute("DROP TABLE production_productionrecord_p20240201")
                else:
                    connection.execute(
                        "DELETE FROM production_productionrecord "
                        "WHERE time >= '2024-02-01' AND time < '2024-03-01'"
                    )
        except psycopg.errors.QueryCanceled:
            return time.perf_counter() - started, rows, True
        seconds = time.perf_counter() - started
        phase("month removed", {"database": database, "rows": rows, "seconds": seconds})
        return seconds, rows, False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--factories", type=int, default=50)
    parser.add_argument("--days", type=int, default=70)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--delete-timeout", type=int, default=1800)
    # Again on the databases an earlier run left (its month dropped from one, its DELETE cut
    # off on the other): only the rounds, windows from this day on, bulk bodies after the
    # earlier rounds' (--first-round).
    parser.add_argument("--rounds-only", action="store_true")
    parser.add_argument("--first-round", type=int, default=0)
    parser.add_argument("--window-from-day", type=int, default=0)
    options = parser.parse_args()
    if options.rounds_only:
        with tempfile.TemporaryDirectory() as directory:
            rounds = served(options, directory)
        record(
            "partitions_rounds",
            {
                "records": options.factories * options.days * 1440,
                "window_from_day": options.window_from_day,
                "rounds": rounds,
                "window_p99_ratio": median_ratio(rounds, "window_p99_ms"),
                "window_rps_ratio": median_ratio(rounds, "window_rps"),
                "summary_rps_ratio": median_ratio(rounds, "summary_rps"),
                "bulk_ratio": median_ratio(rounds, "bulk_rows_per_s"),
            },
        )
        return
    moved = build(PARTITIONED, options.factories, options.days, partitioned=True)
    build(SINGLE, options.factories, options.days, partitioned=False)
    with tempfile.TemporaryDirectory() as directory:
        rounds = served(options, directory)
    index = {
        "partitioned": window_index_bytes(PARTITIONED, partitioned=True),
        "single_table": window_index_bytes(SINGLE, partitioned=False),
    }
    phase("window index", index)
    timeout = options.delete_timeout
    drop_seconds, rows, _ = month_dropped(PARTITIONED, partitioned=True, timeout_seconds=timeout)
    delete_seconds, _, cut_off = month_dropped(SINGLE, partitioned=False, timeout_seconds=timeout)
    record(
        "partitions",
        {
            "records": options.factories * options.days * 1440,
            "production_partitions_seconds": round(moved, 1),
            "rounds": rounds,
            "window_p99_ratio": median_ratio(rounds, "window_p99_ms"),
            "window_rps_ratio": median_ratio(rounds, "window_rps"),
            "summary_rps_ratio": median_ratio(rounds, "summary_rps"),
            "bulk_ratio": median_ratio(rounds, "bulk_rows_per_s"),
            "window_index_bytes": index,
            "month_rows": rows,
            "drop_seconds": round(drop_seconds, 4),
            "delete_seconds": round(delete_seconds, 2),
            "delete_cut_off": cut_off,
            ("drop_speedup_at_least" if cut_off else "drop_speedup"): round(
                delete_seconds / drop_seconds
            ),
            "targets": "drop >= 1000x; window p99 <= 1.1x; summary >= 1/1.1; bulk >= 0.9x",
        },
    )


if __name__ == "__main__":
    main()
