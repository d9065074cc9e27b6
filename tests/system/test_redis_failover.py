"""Redis behind Sentinel (issue 13, item 4): with REDIS_SENTINELS the cache, throttles and
live events follow the primary Sentinel names. The primary is killed under a client that
writes and reads back at once: Sentinel promotes the replica, no request fails, every read
reflects the write acknowledged before it, and the cache is used again on the new primary."""

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.servers import PrivateRedis, PrivateSentinel, wait_until
from tests.system.conftest import running_service
from tests.system.fault_helpers import API, as_role, factory_create


@pytest.fixture
def sentinel_redis() -> Iterator[tuple[PrivateRedis, PrivateRedis, list[PrivateSentinel]]]:
    primary = PrivateRedis()
    primary.start()
    replica = PrivateRedis(replica_of=primary.port)
    replica.start()
    wait_until(
        lambda: "master_link_status:up" in replica.command("INFO", "replication"),
        timeout=15,
        what="the replica did not follow the primary",
    )
    directory = Path(tempfile.mkdtemp(prefix="sprocket-sentinel-"))
    sentinels = [PrivateSentinel(directory, primary.port) for _ in range(3)]
    for sentinel in sentinels:
        sentinel.start()
    yield primary, replica, sentinels
    for server in (*sentinels, replica, primary):
        server.stop()
    shutil.rmtree(directory, ignore_errors=True)


def test_a_primary_killed_under_writes_and_reads_fails_over_without_a_stale_read(
    private_postgres, sentinel_redis
):
    primary, replica, sentinels = sentinel_redis
    addresses = ",".join(f"127.0.0.1:{sentinel.port}" for sentinel in sentinels)
    with running_service(
        private_postgres,
        primary,
        REDIS_SENTINELS=addresses,
        REDIS_SENTINEL_MASTER=sentinels[0].name,
    ) as service:
        manager = as_role(service, "manager")
        factory_id = factory_create(service, manager, "v0")
        url = service.url(f"{API}/factories/{factory_id}")
        assert requests.get(url, timeout=10).json()["name"] == "v0"
        assert int(primary.command("DBSIZE")) > 0  # the cache is on the primary

        answers, stale = [], []

        def write_then_read(version: int) -> None:
            written = requests.patch(url, json={"name": f"v{version}"}, headers=manager, timeout=10)
            read = requests.get(url, timeout=10)
            answers.extend([written.status_code, read.status_code])
            if read.status_code == 200 and read.json()["name"] != f"v{version}":
                stale.append((version, read.json()["name"]))

        for version in range(1, 6):
            write_then_read(version)
        primary.process.kill()
        primary.process.wait(timeout=10)
        during = 6
        deadline = time.monotonic() + 30
        while sentinels[0].primary() != replica.port:
            assert time.monotonic() < deadline, "Sentinel did not promote the replica"
            write_then_read(during)
            during += 1
        assert during > 6, "no request was made while the primary was down"
        for after in range(during, during + 40):
            write_then_read(after)
            time.sleep(0.05)

        assert stale == []
        assert set(answers) == {200}
        # The cache works again on the new primary: reads are stored there.
        wait_until(
            lambda: (
                requests.get(service.url(f"{API}/factories"), timeout=10).ok
                and int(replica.command("DBSIZE")) > 0
                and "generation" in replica.command("KEYS", "*generation*")
            ),
            timeout=15,
            what="the service did not use the new primary",
        )
