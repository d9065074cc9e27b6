"""From a production write to its signed webhook (issue 15: within 5 s), on PostgreSQL.

    .venv/bin/python benchmarks/bench_alerts.py [--writes 40] [--factories 500]

gunicorn (the repository's config) and `manage.py worker` on a scratch database with
`--factories` factories and one rule for every factory (attainment under 95% over 5
minutes); a webhook receiver on loopback. Each write is one bulk POST of a record at 10%
attainment for the next factory, so each opens a new alert; the figure is the time from
sending the write to the receiver getting its webhook (median, p95, max), and how many
arrived signed with the rule's secret.
"""

import argparse
import hashlib
import hmac
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from alerts.tests.receiver import Receiver
from benchmarks.common import (
    PYTHON,
    ROOT,
    fresh_database,
    gunicorn,
    manage,
    psql,
    record,
    request,
    service_env,
)

DATABASE = "sprocket_bench_alerts"
SECRET = "bench-secret"  # noqa: S105 (the receiver checks it; nothing is protected)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writes", type=int, default=40)
    parser.add_argument("--factories", type=int, default=500)
    options = parser.parse_args()
    fresh_database(DATABASE)
    psql(
        DATABASE,
        "INSERT INTO inventory_factory (name, timezone, is_active, created_at, updated_at) "
        "SELECT 'Bench ' || n, 'UTC', true, now(), now() "
        f"FROM generate_series(1, {options.factories}) n",
    )
    receiver = Receiver()
    receiver.start()
    # One SECRET_KEY for both: the worker reads tasks the web process signed.
    extra = {"WEBHOOK_ALLOWED_HOSTS": "127.0.0.1", "SECRET_KEY": secrets.token_urlsafe(50)}
    token = manage(DATABASE, "issue_token", "bench-manager", "--group", "manager")
    auth = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    worker = subprocess.Popen(
        [PYTHON, "manage.py", "worker"],
        cwd=ROOT,
        env=service_env(DATABASE, **extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    latencies, signed = [], 0
    try:
        with gunicorn(DATABASE, **extra) as base:
            rule = {
                "name": "Under 95%",
                "kind": "attainment_below",
                "window_minutes": 5,
                "threshold": 0.95,
                "webhook_url": receiver.url,
                "secret": SECRET,
            }
            status, _, _ = request(
                "POST", base + "/sprocketFactory/v1/alerts/rules", json.dumps(rule).encode(), auth
            )
            assert status == 201, status
            time.sleep(3)  # the worker is up
            for factory_id in range(1, options.writes + 1):
                now = datetime.now(UTC).replace(second=0, microsecond=0).isoformat()
                body = [
                    {
                        "factory_id": factory_id,
                        "time": now,
                        "sprocket_production_actual": 3,
                        "sprocket_production_goal": 30,
                    }
                ]
                seen = len(receiver.received)
                sent = time.monotonic()
                request(
                    "POST",
                    base + "/sprocketFactory/v1/production/bulk",
                    json.dumps(body).encode(),
                    auth,
                )
                while len(receiver.received) == seen:
                    if time.monotonic() - sent > 30:
                        raise RuntimeError(f"no webhook for factory {factory_id} in 30 s")
                    time.sleep(0.005)
                call = receiver.received[seen]
                latencies.append(call.at - sent)
                digest = hmac.new(SECRET.encode(), call.body, hashlib.sha256).hexdigest()
                signed += call.headers.get("X-Signature-256") == f"sha256={digest}"
    finally:
        worker.send_signal(signal.SIGTERM)  # its main process: it stops its own children
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        receiver.stop()
    ordered = sorted(latencies)
    record(
        "alerts_webhook_latency",
        {
            "writes": options.writes,
            "factories": options.factories,
            "median_s": round(statistics.median(ordered), 3),
            "p95_s": round(ordered[int(0.95 * (len(ordered) - 1))], 3),
            "max_s": round(ordered[-1], 3),
            "signed": signed,
            "target": "within 5 s of the write",
        },
    )


if __name__ == "__main__":
    main()
