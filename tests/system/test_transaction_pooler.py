"""The service behind PgBouncer in transaction pooling mode (issue 13, item 2): with
DATABASE_TRANSACTION_POOLER on, everything it does works through the pooler — COPY in and out,
SET LOCAL statement timeouts, row locks, binary list pages, summaries — and its requests still
run under DATABASE_STATEMENT_TIMEOUT, now the role's default in its database."""

import csv
import io
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from tests.servers import PrivatePgBouncer
from tests.system.conftest import ROOT, Service, service_env, serving
from tests.system.fault_helpers import as_role, bulk_post, factory_create, production_rows
from tests.system.security_helpers import send

pytestmark = pytest.mark.skipif(
    shutil.which("pgbouncer") is None and not Path("/usr/sbin/pgbouncer").exists(),
    reason="pgbouncer is not installed (apt-get install pgbouncer)",
)

TIMEOUT_MS = 4321


@pytest.fixture(scope="module")
def bouncer(private_postgres) -> Iterator[PrivatePgBouncer]:
    pooler = PrivatePgBouncer(
        Path(tempfile.mkdtemp(prefix="sprocket-pgbouncer-")), postgres_port=private_postgres.port
    )
    pooler.start()
    yield pooler
    pooler.stop()
    shutil.rmtree(pooler.directory, ignore_errors=True)


@pytest.fixture(scope="module")
def pooled(bouncer, private_postgres, private_redis) -> Iterator[Service]:
    name = f"pooled_{secrets.token_hex(4)}"
    private_postgres.create_database(name)
    with serving(
        bouncer.url(name),
        private_redis.url,
        DATABASE_TRANSACTION_POOLER="true",
        DATABASE_STATEMENT_TIMEOUT=str(TIMEOUT_MS),
    ) as service:
        # Server connections the pooler opened before `migrate` set the role's default keep the
        # old one until they are replaced; as an operator would after changing it, replace them.
        _pooler_admin(bouncer, "RECONNECT")
        yield service


def _pooler_admin(bouncer: PrivatePgBouncer, command: str) -> list[dict]:
    """A command on PgBouncer's admin console, and the rows it answers."""
    with psycopg.connect(bouncer.url("pgbouncer"), autocommit=True) as admin:
        cursor = admin.cursor()
        cursor.execute(command)
        if cursor.description is None:
            return []
        columns = [column.name for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _pooler_stats(bouncer: PrivatePgBouncer, database: str) -> int:
    """Transactions PgBouncer has passed on for `database`."""
    stats = [row for row in _pooler_admin(bouncer, "SHOW STATS") if row["database"] == database]
    return stats[0]["total_xact_count"] if stats else 0


def _shell(service: Service, code: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=ROOT,
        env=service.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_the_setting_the_pooler_refuses_the_connection(
    bouncer, private_postgres, private_redis
):
    name = f"refused_{secrets.token_hex(4)}"
    private_postgres.create_database(name)
    workdir = Path(tempfile.mkdtemp(prefix="sprocket-system-"))
    env = service_env(bouncer.url(name), private_redis.url, workdir)
    service = Service(env=env, front=None)

    finished = _shell(service, "from django.db import connection; connection.ensure_connection()")

    assert finished.returncode != 0
    assert "unsupported startup parameter" in finished.stderr
    shutil.rmtree(workdir, ignore_errors=True)


def test_requests_run_under_the_statement_timeout_through_the_pooler(pooled):
    # Several new connections, each through whichever server connection PgBouncer gives it.
    code = (
        "from django.db import connection\n"
        "for _ in range(5):\n"
        "    connection.close()\n"
        "    with connection.cursor() as cursor:\n"
        "        cursor.execute('SHOW statement_timeout')\n"
        "        print(cursor.fetchone()[0])\n"
    )
    finished = _shell(pooled, code)

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.split() == [f"{TIMEOUT_MS}ms"] * 5


def test_writes_reads_exports_and_deletes_work_through_the_pooler(pooled, bouncer):
    manager = as_role(pooled, "manager")
    database = pooled.env["DATABASE_URL"].rsplit("/", 1)[-1]
    before = _pooler_stats(bouncer, database)
    factory_id = factory_create(pooled, manager, "Pooled plant")

    # Bulk ingest (COPY inside a transaction with SET LOCAL) while lists are read.
    rows = production_rows(factory_id, 3000)
    with ThreadPoolExecutor(max_workers=4) as pool:
        reads = [
            pool.submit(send, "GET", pooled.url(f"/sprocketFactory/v1/production/{factory_id}"))
            for _ in range(12)
        ]
        written = bulk_post(pooled, manager, rows)
        assert all(read.result().status_code == 200 for read in reads)
    assert written.status_code == 201, written.text

    page = send("GET", pooled.url(f"/sprocketFactory/v1/production/{factory_id}?limit=1000"))
    assert page.status_code == 200
    assert len(page.json()) == 1000
    assert 'rel="next"' in page.headers["Link"]

    summary = send(
        "GET", pooled.url(f"/sprocketFactory/v1/production/summary?factory_id={factory_id}")
    )
    assert summary.status_code == 200
    assert summary.json()[-1]["sprocket_production_actual"] == sum(
        row["sprocket_production_actual"] for row in rows
    )

    export = send(
        "GET",
        pooled.url(f"/sprocketFactory/v1/production/{factory_id}?format=csv"),
        headers=manager,
    )
    assert export.status_code == 200
    assert len(list(csv.reader(io.StringIO(export.text)))) == 1 + len(rows)

    first = page.json()[0]
    changed = send(
        "PATCH",
        pooled.url(f"/sprocketFactory/v1/production/records/{first['id']}"),
        headers=manager,
        json={"sprocket_production_actual": 1},
    )
    assert changed.status_code == 200
    deleted = send(
        "DELETE",
        pooled.url(
            f"/sprocketFactory/v1/production/{factory_id}"
            "?after=2000-01-01T00:00:00Z&before=2100-01-01T00:00:00Z"
        ),
        headers=manager,
    )
    assert deleted.json() == {"deleted": len(rows)}
    assert _pooler_stats(bouncer, database) > before
