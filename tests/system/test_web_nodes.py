"""Many web nodes behind nginx (issue 13, item 3): two gunicorn nodes share one PostgreSQL and
one Redis behind one nginx, as `docker compose up --scale web=2` puts them (the name `web`
resolves to both, so nginx's upstream holds two servers). One node is killed under reads and
bulk writes: the other answers every later request, and every write acknowledged — before,
during or after — is in the database."""

import os
import secrets
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

import requests

from tests.system.conftest import FrontProxy, Service, service_env
from tests.system.fault_helpers import API, as_role, bulk_post, factory_create, production_rows

ROWS_PER_WRITE = 50


def test_a_web_node_killed_under_load_loses_nothing_acknowledged(private_postgres, private_redis):
    workdir = Path(tempfile.mkdtemp(prefix="sprocket-nodes-"))
    database_url = private_postgres.create_database(f"nodes_{secrets.token_hex(4)}")
    first_env = service_env(database_url, private_redis.url, workdir / "first")
    second_env = service_env(database_url, private_redis.url, workdir / "second")
    # The upstream as nginx sees `web:8000` when the name resolves to two nodes.
    both = f"{first_env['GUNICORN_BIND']};\n    server {second_env['GUNICORN_BIND']}"
    front = FrontProxy(
        directory=workdir / "nginx",
        upstream=both,
        events_upstream=first_env["EVENTS_BIND"],
        static_root=Path(first_env["STATIC_ROOT"]),
    )
    first, second = Service(env=first_env, front=front), Service(env=second_env, front=None)
    first.manage("migrate", "--noinput", "-v0")
    second.start_web()
    first.start()
    try:
        manager = as_role(first, "manager")
        factory_id = factory_create(first, manager, "Two-node plant")
        acknowledged, failed_writes, reads = [], [], []
        killed_at: list[float] = []
        stop = threading.Event()

        def write() -> None:
            batch = 0
            while not stop.is_set():
                start = 1_700_000_000 + batch * ROWS_PER_WRITE * 60
                rows = production_rows(factory_id, ROWS_PER_WRITE, start=start)
                try:
                    answer = bulk_post(first, manager, rows, timeout=10)
                    status = answer.status_code
                except requests.RequestException:
                    status = 0
                (acknowledged if status == 201 else failed_writes).append(
                    (time.monotonic(), status)
                )
                batch += 1

        def read() -> None:
            while not stop.is_set():
                url = first.url(f"{API}/production/{factory_id}?limit=100&n={secrets.token_hex(3)}")
                try:
                    status = requests.get(url, timeout=10).status_code
                except requests.RequestException:
                    status = 0
                reads.append((time.monotonic(), status))

        threads = [
            threading.Thread(target=write),
            *(threading.Thread(target=read) for _ in range(3)),
        ]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        os.killpg(first.process.pid, signal.SIGKILL)  # the node: its master and its workers
        killed_at.append(time.monotonic())
        time.sleep(3)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

        after = killed_at[0] + 0.5  # requests in flight on the killed node may fail
        assert acknowledged, "no write was acknowledged"
        assert [s for t, s in reads if t > after and s != 200] == []
        assert [s for t, s in failed_writes if t > after] == []
        assert any(t > after for t, _ in acknowledged), "no write was acknowledged after the kill"
        assert len([r for r in reads if r[0] > after]) > 20
        stored = requests.get(
            first.url(f"{API}/production/summary?factory_id={factory_id}&bucket=day"), timeout=10
        ).json()
        assert stored[-1]["sprocket_production_goal"] == 100 * ROWS_PER_WRITE * len(acknowledged)
    finally:
        second.stop()
        first.stop()
        shutil.rmtree(workdir, ignore_errors=True)
