"""Peak memory of the gunicorn worker while it streams every record as CSV.

    .venv/bin/python benchmarks/bench_export_memory.py

Target (DESIGN §9): exporting 10M records keeps the worker's peak resident memory under
200 MB. Uses the 10M-record database of bench_window.py (built if missing).
"""

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.bench_summary import DATABASE, exists
from benchmarks.bench_window import build
from benchmarks.common import gunicorn, manage, psql, record


def worker_pids(port: int) -> list[int]:
    out = subprocess.run(["pgrep", "-f", "gunicorn"], capture_output=True, text=True).stdout
    pids = []
    for pid in map(int, out.split()):
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        ppid = int(Path(f"/proc/{pid}/stat").read_text().split()[3])
        if f"GUNICORN_BIND=127.0.0.1:{port}".encode() in environ and ppid != 1:
            pids.append(pid)
    return pids


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def main() -> None:
    if not exists(DATABASE):
        build(DATABASE, 10_000_000)
    manage(DATABASE, "migrate", "--noinput", "-v0")
    records = int(psql(DATABASE, "SELECT count(*) FROM production_productionrecord"))
    token = manage(DATABASE, "issue_token", "exporter", "--group", "viewer", "--ttl", "7200")
    with gunicorn(DATABASE, workers=1, CACHE_RESPONSES="false") as base:
        port = int(base.rsplit(":", 1)[1])
        pids = worker_pids(port)
        before = {pid: peak_rss_mb(pid) for pid in pids}
        req = urllib.request.Request(
            f"{base}/sprocketFactory/v1/production?format=csv",
            headers={"Authorization": f"Token {token}"},
        )
        started = time.perf_counter()
        size = lines = 0
        with urllib.request.urlopen(req, timeout=3600) as response:
            while chunk := response.read(1 << 20):
                size += len(chunk)
                lines += chunk.count(b"\n")
        seconds = time.perf_counter() - started
        after = {pid: peak_rss_mb(pid) for pid in pids}
    if lines != records + 1:
        raise RuntimeError(f"exported {lines - 1} rows of {records}")
    record(
        "csv_export_memory",
        {
            "records": records,
            "csv_bytes": size,
            "seconds": round(seconds, 1),
            "rows_per_s": round(records / seconds),
            "worker_peak_rss_mb_before": round(max(before.values()), 1),
            "worker_peak_rss_mb_after": round(max(after.values()), 1),
            "target": "< 200 MB",
        },
    )


if __name__ == "__main__":
    main()
