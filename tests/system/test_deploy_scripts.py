"""The scripts docker-compose.yml runs for its PgBouncer and its streaming replica
(deploy/pgbouncer/, deploy/postgres/), run here without Docker on servers of our own, as the
images run them: the primary's init script, the replica's entrypoint (pg_basebackup -R, then the
server) and PgBouncer's entrypoint (config from the environment). Passwords are required over
TCP, as in the postgres image: only the test's own superuser is trusted."""

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.servers import (
    PG_BIN,
    PGBOUNCER,
    PrivatePostgres,
    _as_postgres_user,
    free_port,
    wait_until,
)
from tests.system.conftest import ROOT

pytestmark = pytest.mark.skipif(
    not os.access(PGBOUNCER, os.X_OK),
    reason="pgbouncer is not installed (apt-get install pgbouncer)",
)
DEPLOY = ROOT / "deploy"
REPLICATION_PASSWORD = "replicate 'me' \"now\""
SERVICE_PASSWORD = 'pass "word" \\ $HOME'


def owned_folder(prefix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    return folder


def started(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        _as_postgres_user(args),
        env={**os.environ, **env},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stopped(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def primary() -> Iterator[PrivatePostgres]:
    """A primary set up as the postgres image sets one up, with deploy/postgres/primary-init.sh."""
    server = PrivatePostgres(owned_folder("sprocket-deploy-primary-"))
    server.init()
    (server.data / "pg_hba.conf").write_text(
        "local all all trust\n"
        "host all postgres 127.0.0.1/32 trust\n"
        "host all sprocket 127.0.0.1/32 scram-sha-256\n"
    )
    server.start()
    init = subprocess.run(
        ["sh", str(DEPLOY / "postgres" / "primary-init.sh")],
        env={
            **os.environ,
            "PGHOST": "127.0.0.1",
            "PGPORT": str(server.port),
            "PGDATA": str(server.data),
            "POSTGRES_USER": "postgres",
            "POSTGRES_DB": "postgres",
            "REPLICATION_PASSWORD": REPLICATION_PASSWORD,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert init.returncode == 0, init.stderr
    server.restart()  # as the image restarts the server after its init scripts
    yield server
    server.stop("immediate")
    shutil.rmtree(server.directory, ignore_errors=True)


def test_the_replica_entrypoint_copies_the_primary_and_follows_it(primary):
    folder = owned_folder("sprocket-deploy-replica-")
    data = folder / "data"
    data.mkdir(mode=0o777)
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    replica = started(
        [
            "sh",
            str(DEPLOY / "postgres" / "replica-entrypoint.sh"),
            f"{PG_BIN}/postgres",
            *("-D", str(data), "-p", str(port), "-k", str(folder)),
            *("-c", "listen_addresses=127.0.0.1"),
        ],
        {
            "PGDATA": str(data),
            "PRIMARY_HOST": "127.0.0.1",
            "PRIMARY_PORT": str(primary.port),
            "REPLICATION_PASSWORD": REPLICATION_PASSWORD,
        },
        folder / "log",
    )
    replica_url = f"postgres://postgres@127.0.0.1:{port}/postgres"
    try:
        with psycopg.connect(primary.url(), autocommit=True) as connection:
            connection.execute("CREATE TABLE written_after (n int)")
            connection.execute("INSERT INTO written_after VALUES (42)")

        def replayed() -> bool:
            assert replica.poll() is None, (folder / "log").read_text(errors="replace")
            try:
                with psycopg.connect(replica_url, connect_timeout=1) as connection:
                    found = connection.execute("SELECT to_regclass('written_after')").fetchone()
                    return found[0] is not None
            except psycopg.OperationalError:
                return False

        wait_until(replayed, timeout=60, what="the replica did not replay the primary's write")
        with psycopg.connect(replica_url) as connection:
            assert connection.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
            assert connection.execute("SELECT n FROM written_after").fetchone() == (42,)
        assert oct(data.stat().st_mode & 0o777) == oct(0o700)
    finally:
        stopped(replica)
        shutil.rmtree(folder, ignore_errors=True)


def test_the_pgbouncer_entrypoint_pools_with_the_service_password(primary):
    with psycopg.connect(primary.url(), autocommit=True) as connection:
        connection.execute(
            sql.SQL("CREATE ROLE sprocket LOGIN PASSWORD {}").format(SERVICE_PASSWORD)
        )
        connection.execute("CREATE DATABASE sprocket_factory OWNER sprocket")
    folder = owned_folder("sprocket-deploy-pgbouncer-")
    port = free_port()
    bouncer = started(
        ["sh", str(DEPLOY / "pgbouncer" / "entrypoint.sh")],
        {
            "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": str(primary.port),
            "POSTGRES_USER": "sprocket",
            "POSTGRES_PASSWORD": SERVICE_PASSWORD,
            "PGBOUNCER_LISTEN_ADDR": "127.0.0.1",
            "PGBOUNCER_PORT": str(port),
            "PGBOUNCER_DIR": str(folder / "run"),
        },
        folder / "log",
    )
    pooled = {"host": "127.0.0.1", "port": port, "user": "sprocket", "dbname": "sprocket_factory"}
    try:

        def answers() -> bool:
            assert bouncer.poll() is None, (folder / "log").read_text(errors="replace")
            try:
                with psycopg.connect(**pooled, password=SERVICE_PASSWORD, connect_timeout=1):
                    return True
            except psycopg.OperationalError:
                return False

        wait_until(answers, timeout=30, what="pgbouncer did not let the service in")
        with psycopg.connect(**pooled, password=SERVICE_PASSWORD, autocommit=True) as connection:
            assert connection.execute("SELECT current_user").fetchone() == ("sprocket",)
        with pytest.raises(psycopg.OperationalError, match="authentication failed"):
            psycopg.connect(**pooled, password="wrong", connect_timeout=5)
        config = (folder / "run" / "pgbouncer.ini").read_text()
        assert "pool_mode = transaction" in config
        assert oct((folder / "run" / "userlist.txt").stat().st_mode & 0o777) == oct(0o600)
    finally:
        stopped(bouncer)
        shutil.rmtree(folder, ignore_errors=True)
