"""`GET /production/summary?bucket=month` over every record vs the same sums by a full scan.

    .venv/bin/python benchmarks/bench_summary.py [--records 10000000] [--rebuild]

Target (DESIGN §9): the endpoint takes ≤ 5% of the full scan's time. The endpoint is served
uncached (CACHE_RESPONSES=false); the full scan is one GROUP BY over the raw table in psql.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.bench_window import build
from benchmarks.common import gunicorn, manage, psql, record, request

DATABASE = "sprocket_bench_window_big"
FULL_SCAN = (
    "SELECT factory_id, date_trunc('month', time AT TIME ZONE 'UTC'), "
    "sum(sprocket_production_actual), sum(sprocket_production_goal) "
    "FROM production_productionrecord GROUP BY 1, 2"
)


def exists(database: str) -> bool:
    return (
        psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{database}'").strip() == "1"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    options = parser.parse_args()
    if options.rebuild or not exists(DATABASE):
        build(DATABASE, options.records)
    manage(DATABASE, "migrate", "--noinput", "-v0")
    records = int(psql(DATABASE, "SELECT count(*) FROM production_productionrecord"))

    scan_times = []
    for _ in range(options.repeat):
        started = time.perf_counter()
        scan = psql(DATABASE, FULL_SCAN)
        scan_times.append(time.perf_counter() - started)
    scan_total = sum(int(line.split("|")[2]) for line in scan.splitlines())

    with gunicorn(DATABASE, CACHE_RESPONSES="false") as base:
        url = f"{base}/sprocketFactory/v1/production/summary?bucket=month&tz=UTC"
        request("GET", url)
        endpoint_times = []
        for _ in range(options.repeat):
            started = time.perf_counter()
            status, _, body = request("GET", url)
            endpoint_times.append(time.perf_counter() - started)
    rows = orjson.loads(body)
    endpoint_total = sum(r["sprocket_production_actual"] for r in rows if r["bucket"] is None)
    if status != 200 or endpoint_total != scan_total:
        raise RuntimeError(f"sums differ: endpoint {endpoint_total}, full scan {scan_total}")

    scan_s, endpoint_s = statistics.median(scan_times), statistics.median(endpoint_times)
    record(
        "summary_month",
        {
            "records": records,
            "full_scan_ms": round(scan_s * 1000, 1),
            "endpoint_ms": round(endpoint_s * 1000, 1),
            "endpoint_vs_full_scan": round(endpoint_s / scan_s, 4),
            "target": "<= 0.05",
            "sums_equal": True,
        },
    )


if __name__ == "__main__":
    main()
