"""The scaled-out topology of issue 13 on loopback, every server our own: a PostgreSQL primary
and a streaming replica (`pg_basebackup -R`), PgBouncer in transaction pooling mode in front of
the primary, Redis with a replica and three Sentinels, and two gunicorn web nodes behind one
nginx — docker-compose.yml's shape. Set up as compose does: `migrate` and the original data
once, straight to the primary, before the nodes start."""

import contextlib
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests

from tests.servers import (
    PrivatePgBouncer,
    PrivatePostgres,
    PrivateRedis,
    PrivateSentinel,
    wait_until,
)
from tests.system.conftest import FrontProxy, Service, service_env

METRICS_TOKEN = "topology-metrics"


@dataclass
class Topology:
    primary: PrivatePostgres
    replica: PrivatePostgres
    bouncer: PrivatePgBouncer
    redis_primary: PrivateRedis
    redis_replica: PrivateRedis
    sentinels: list[PrivateSentinel]
    nodes: list[Service]  # nodes[0] also runs the events server and nginx, in front of both
    database: str

    def url(self, path: str) -> str:
        """Through the load balancer."""
        return self.nodes[0].url(path)

    def reads_served(self) -> dict[str, float]:
        """Routed reads per database."""
        return self._summed("sprocket_database_reads_total", "database")

    def cache_reads(self) -> dict[str, float]:
        """Cacheable reads by how they were answered."""
        return self._summed("sprocket_cache_reads_total", "answer")

    def _summed(self, name: str, label: str) -> dict[str, float]:
        """A counter per value of `label`, summed over the web nodes (each has its own)."""
        summed: dict[str, float] = {}
        for node in self.nodes:
            for value, count in _metric(node, name, label):
                summed[value] = summed.get(value, 0) + count
        return summed

    def replica_transactions(self) -> int:
        """Transactions the replica itself counts in the service's database (its statistics
        reach pg_stat_database up to a few seconds late)."""
        with psycopg.connect(self.replica.url(), autocommit=True) as connection:
            (count,) = connection.execute(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (self.database,)
            ).fetchone()
        return count

    def replay(self, action: str) -> None:
        """pg_wal_replay_pause() or pg_wal_replay_resume() on the replica."""
        with psycopg.connect(self.replica.url(), autocommit=True) as connection:
            connection.execute(f"SELECT pg_wal_replay_{action}()")


def _metric(node: Service, name: str, label: str) -> list[tuple[str, float]]:
    text = requests.get(
        node.url("/metrics", direct=True),
        headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
        timeout=5,
    ).text
    found = re.findall(rf'^{name}\{{{label}="(\w+)"\}} ([\d.e+]+)$', text, re.M)
    return [(value, float(count)) for value, count in found]


@contextlib.contextmanager
def sentinel_redis(directory: Path) -> Iterator[tuple[PrivateRedis, PrivateRedis, list]]:
    """A Redis primary, a replica that follows it, and three Sentinels watching them."""
    primary = PrivateRedis()
    primary.start()
    replica = PrivateRedis(replica_of=primary.port)
    replica.start()
    sentinels = [PrivateSentinel(directory, primary.port) for _ in range(3)]
    try:
        wait_until(
            lambda: "master_link_status:up" in replica.command("INFO", "replication"),
            timeout=15,
            what="the Redis replica did not follow the primary",
        )
        for sentinel in sentinels:
            sentinel.start()
        yield primary, replica, sentinels
    finally:
        for server in (*sentinels, replica, primary):
            server.stop()


@contextlib.contextmanager
def postgres_pair(directory: Path, database: str) -> Iterator[tuple[PrivatePostgres, ...]]:
    """A primary holding `database` and a streaming replica of it."""
    primary = PrivatePostgres(directory / "primary")
    replica = PrivatePostgres(directory / "replica")
    try:
        primary.init()
        primary.start()
        primary.create_database(database)
        replica.base_backup_of(primary)
        replica.start()
        yield primary, replica
    finally:
        for server in (replica, primary):
            with contextlib.suppress(Exception):
                server.stop("immediate")


@contextlib.contextmanager
def running_topology() -> Iterator[Topology]:
    directory = Path(tempfile.mkdtemp(prefix="sprocket-topology-"))
    directory.chmod(0o755)  # PostgreSQL and PgBouncer run as postgres in folders inside it
    database = f"topology_{secrets.token_hex(4)}"
    bouncer = None
    nodes: list[Service] = []
    try:
        with (
            postgres_pair(directory, database) as (primary, replica),
            sentinel_redis(directory) as (redis_primary, redis_replica, sentinels),
        ):
            bouncer = PrivatePgBouncer(directory / "pgbouncer", postgres_port=primary.port)
            bouncer.start()
            shared = {
                "DATABASE_TRANSACTION_POOLER": "true",
                "DATABASE_REPLICA_URLS": replica.url(database),
                "REDIS_SENTINELS": ",".join(f"127.0.0.1:{s.port}" for s in sentinels),
                "REDIS_SENTINEL_MASTER": sentinels[0].name,
                "METRICS_TOKEN": METRICS_TOKEN,
                "REPLICA_RETRY_SECONDS": "1",
            }
            shared["SECRET_KEY"] = secrets.token_urlsafe(50)  # one for all: sessions, signing
            envs = [
                service_env(bouncer.url(database), redis_primary.url, directory / name, **shared)
                for name in ("node-0", "node-1")
            ]
            # Like compose's one-shot `setup`: straight to the primary, before any node.
            setup = Service(env={**envs[0], "DATABASE_URL": primary.url(database)}, front=None)
            setup.manage("migrate", "--noinput", "-v0")
            setup.manage("load_original_data", "-v0")
            # `web:8000` as nginx resolves it when compose runs two web nodes.
            upstream = f"{envs[0]['GUNICORN_BIND']};\n    server {envs[1]['GUNICORN_BIND']}"
            front = FrontProxy(
                directory=directory / "nginx",
                upstream=upstream,
                events_upstream=envs[0]["EVENTS_BIND"],
                static_root=Path(envs[0]["STATIC_ROOT"]),
            )
            nodes = [Service(env=envs[0], front=front), Service(env=envs[1], front=None)]
            nodes[1].start_web()
            nodes[0].start()
            yield Topology(
                primary=primary,
                replica=replica,
                bouncer=bouncer,
                redis_primary=redis_primary,
                redis_replica=redis_replica,
                sentinels=sentinels,
                nodes=nodes,
                database=database,
            )
    finally:
        for node in nodes:
            node.stop()
        if bouncer is not None:
            bouncer.stop()
        shutil.rmtree(directory, ignore_errors=True)
