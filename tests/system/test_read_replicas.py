"""Read replicas that never serve a stale read (issue 13, item 1): a primary and a streaming
replica of our own (pg_basebackup -R), the service reading from the replica only when it has
replayed every write the read depends on. Which server answered is counted by the service's
own metric, `sprocket_database_reads_total{database=...}`. Each test has its own Redis: marks
left by another cluster's (higher) WAL positions would keep this replica out."""

import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import requests

from tests.servers import PrivatePostgres, wait_until
from tests.system.conftest import FrontProxy, Service, service_env
from tests.system.fault_helpers import API, as_role, bulk_post, factory_create, production_rows

METRICS_TOKEN = "replica-metrics"


@pytest.fixture
def primary_and_replica() -> Iterator[tuple[PrivatePostgres, PrivatePostgres]]:
    primary = PrivatePostgres(Path(tempfile.mkdtemp(prefix="sprocket-primary-")))
    primary.init()
    primary.start()
    replica = PrivatePostgres(Path(tempfile.mkdtemp(prefix="sprocket-replica-")))
    replica.base_backup_of(primary)
    replica.start()
    yield primary, replica
    for server in (replica, primary):
        server.stop("immediate")
        shutil.rmtree(server.directory, ignore_errors=True)


@contextmanager
def service_with_replica(primary, replica, redis) -> Iterator[tuple[Service, str]]:
    name = f"replicated_{secrets.token_hex(4)}"
    workdir = Path(tempfile.mkdtemp(prefix="sprocket-system-"))
    env = service_env(
        primary.create_database(name),
        redis.url,
        workdir,
        DATABASE_REPLICA_URLS=replica.url(name),
        METRICS_TOKEN=METRICS_TOKEN,
        REPLICA_RETRY_SECONDS="1",
    )
    service = Service(
        env=env,
        front=FrontProxy(
            directory=workdir / "nginx",
            upstream=env["GUNICORN_BIND"],
            events_upstream=env["EVENTS_BIND"],
            static_root=Path(env["STATIC_ROOT"]),
        ),
    )
    service.manage("migrate", "--noinput", "-v0")
    service.start()
    try:
        yield service, name
    finally:
        service.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def reads_served(service: Service) -> dict[str, float]:
    text = requests.get(
        service.url("/metrics"), headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=5
    ).text
    found = re.findall(
        r'^sprocket_database_reads_total\{database="(\w+)"\} ([\d.e+]+)$', text, re.M
    )
    return {database: float(count) for database, count in found}


def replay(replica: PrivatePostgres, action: str) -> None:
    with psycopg.connect(replica.url(), autocommit=True) as connection:
        connection.execute(f"SELECT pg_wal_replay_{action}()")


def test_reads_go_to_the_replica_only_once_it_has_every_write(primary_and_replica, own_redis):
    primary, replica = primary_and_replica
    with service_with_replica(primary, replica, own_redis) as (service, _):
        manager = as_role(service, "manager")
        factory_id = factory_create(service, manager, "Replicated plant")
        url = service.url(f"{API}/factories/{factory_id}")

        # Caught up: uncached reads (a new query string each) are the replica's.
        wait_until(
            lambda: (
                requests.get(f"{url}?n={secrets.token_hex(4)}", timeout=5).ok
                and reads_served(service).get("replica_0", 0) >= 3
            ),
            timeout=30,
            what="the replica served no read",
        )

        replay(replica, "pause")
        before = reads_served(service)
        stale = []
        for version in range(5):
            written = requests.patch(
                url, json={"name": f"paused {version}"}, headers=manager, timeout=10
            )
            assert written.status_code == 200
            for reader in (manager, {}):  # the writer and another client
                read = requests.get(f"{url}?n={secrets.token_hex(4)}", headers=reader, timeout=10)
                if read.json()["name"] != f"paused {version}":
                    stale.append(read.json()["name"])
        assert bulk_post(service, manager, production_rows(factory_id, 500)).status_code == 201
        listed = requests.get(service.url(f"{API}/production/{factory_id}?limit=1000"), timeout=10)
        assert len(listed.json()) == 500
        assert stale == []
        during = reads_served(service)
        assert during.get("replica_0", 0) == before.get("replica_0", 0)

        replay(replica, "resume")
        wait_until(
            lambda: (
                requests.get(f"{url}?n={secrets.token_hex(4)}", timeout=5).json()["name"]
                == "paused 4"
                and reads_served(service).get("replica_0", 0) > during.get("replica_0", 0)
            ),
            timeout=30,
            what="reads did not return to the replica after it caught up",
        )


def test_a_replica_stopped_under_reads_fails_none_and_is_used_again(primary_and_replica, own_redis):
    primary, replica = primary_and_replica
    with service_with_replica(primary, replica, own_redis) as (service, _):
        manager = as_role(service, "manager")
        factory_id = factory_create(service, manager, "Replicated plant")
        url = service.url(f"{API}/factories/{factory_id}")
        statuses = []

        def read() -> None:
            statuses.append(requests.get(f"{url}?n={secrets.token_hex(4)}", timeout=10).status_code)

        for _ in range(20):
            read()
        replica.stop("immediate")
        for _ in range(40):
            read()
        replica.start()
        served = reads_served(service).get("replica_0", 0)
        wait_until(
            lambda: (read() or True) and reads_served(service).get("replica_0", 0) > served,
            timeout=60,
            what="the replica was not used again",
        )

        assert set(statuses) == {200}
