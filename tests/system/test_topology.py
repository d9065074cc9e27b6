"""Issue 13's system tests, through the load balancer of the whole scaled-out topology
(tests/system/topology.py): the README's walk through the API passes; with the replica's replay
paused every write of every kind is read back by the writer and by another client at once; a
stopped replica, a killed web node and a killed Redis primary fail no read and lose nothing
acknowledged. What each fault cost is written to test-artifacts/topology.txt (docs/scaling.md
quotes it)."""

import os
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests

from tests.readme_examples import mismatches_running
from tests.servers import wait_until
from tests.system.conftest import ROOT
from tests.system.fault_helpers import API, as_role, bulk_post, factory_create, production_rows
from tests.system.security_helpers import record_body, shell
from tests.system.topology import Topology, running_topology

pytestmark = pytest.mark.skipif(
    not os.access("/usr/sbin/pgbouncer", os.X_OK) and not os.access("/usr/bin/pgbouncer", os.X_OK),
    reason="pgbouncer is not installed (apt-get install pgbouncer)",
)
REPORT = ROOT / "test-artifacts" / "topology.txt"
ROWS_PER_WRITE = 50


@pytest.fixture(scope="module")
def topology() -> Iterator[Topology]:
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("")
    with running_topology() as running:
        yield running


def cache_hit_share(before: dict[str, float], after: dict[str, float]) -> str:
    """The share of cacheable reads between two counts that the cache answered."""
    answered = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    total = sum(answered.values())
    return f"{100 * (total - answered.get('produced', 0)) / total:.0f}%" if total else "n/a"


def report(line: str) -> None:
    with REPORT.open("a") as out:
        out.write(line + "\n")


def fresh(url: str) -> str:
    """`url` with a query no cached answer has: the read reaches the database."""
    return f"{url}{'&' if '?' in url else '?'}n={secrets.token_hex(4)}"


def test_the_readme_walk_through_the_api_passes_through_the_topology(topology):
    # First in the module: the README's outputs are those of the original data, untouched.
    env = topology.nodes[0].env

    mismatches = mismatches_running(topology.url(""), env)

    assert not mismatches, "\n\n".join(mismatches)


def admin_session(topology: Topology) -> requests.Session:
    """A staff manager logged in to the Django admin, through the load balancer."""
    password = secrets.token_urlsafe(18)
    shell(
        topology.nodes[0],
        "from django.contrib.auth.models import Group, User\n"
        f"user = User.objects.create_user('topology-admin', password={password!r}, is_staff=True)\n"
        "user.groups.add(Group.objects.get(name='manager'))\n",
    )
    session = requests.Session()
    login = topology.url("/admin/login/")
    session.get(login, timeout=10)
    answer = session.post(
        login,
        data={
            "username": "topology-admin",
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "next": "/admin/",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text[:500]
    return session


def admin_rename(topology: Topology, session: requests.Session, factory_id: int, name: str):
    change = topology.url(f"/admin/inventory/factory/{factory_id}/change/")
    session.get(change, timeout=10)
    saved = session.post(
        change,
        data={
            "name": name,
            "timezone": "UTC",
            "is_active": "on",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "_save": "Save",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert saved.status_code == 302, saved.text[:1000]
    assert saved.headers["Location"] == "/admin/inventory/factory/", saved.headers["Location"]


def read_at_once(urls_and_headers: list[tuple[str, dict]]) -> list[requests.Response]:
    with ThreadPoolExecutor(max_workers=len(urls_and_headers)) as pool:
        return list(
            pool.map(
                lambda pair: requests.get(pair[0], headers=pair[1], timeout=10), urls_and_headers
            )
        )


def test_with_replay_paused_every_write_is_read_back_by_every_client(topology):
    manager = as_role(topology.nodes[0], "manager")
    viewer = as_role(topology.nodes[0], "viewer")
    factory_id = factory_create(topology.nodes[0], manager, "Paused plant")
    admin = admin_session(topology)
    records = topology.url(f"{API}/production/{factory_id}?limit=1000")
    factory = topology.url(f"{API}/factories/{factory_id}")
    wait_until(
        lambda: (
            requests.get(fresh(factory), timeout=5).ok
            and topology.reads_served().get("replica_0", 0) >= 3
        ),
        timeout=30,
        what="the replica served no read",
    )

    def every_client_reads(url: str, check: Callable[[object], bool]) -> list[object]:
        """The writer and two other clients, each fresh from the database and through the
        cache, at once: what any of them read that fails `check`."""
        clients = (manager, viewer, {})
        answers = read_at_once([(u, h) for h in clients for u in (fresh(url), url)])
        assert {answer.status_code for answer in answers} == {200}
        return [answer.json() for answer in answers if not check(answer.json())]

    topology.replay("pause")
    before = topology.reads_served()
    stale = []

    one = requests.post(
        topology.url(f"{API}/production"), json=record_body(factory_id), headers=manager, timeout=10
    )
    assert one.status_code == 201, one.text
    stale += every_client_reads(records, lambda page: len(page) == 1)

    rows = production_rows(factory_id, 200)
    assert bulk_post(topology.nodes[0], manager, rows).status_code == 201
    stale += every_client_reads(records, lambda page: len(page) == 201)

    window = "after=2024-01-01T00:00:00Z&before=2024-01-01T01:00:00Z"  # the first hour of the 200
    deleted = requests.delete(
        topology.url(f"{API}/production/{factory_id}?{window}"), headers=manager, timeout=10
    )
    removed = deleted.json()["deleted"]
    assert removed >= 59
    stale += every_client_reads(records, lambda page: len(page) == 201 - removed)

    admin_rename(topology, admin, factory_id, "Renamed in the admin")
    stale += every_client_reads(factory, lambda body: body["name"] == "Renamed in the admin")

    during = topology.reads_served()
    assert stale == []
    assert during.get("replica_0", 0) == before.get("replica_0", 0)
    assert during.get("default", 0) > before.get("default", 0)

    replica_transactions = topology.replica_transactions()
    topology.replay("resume")
    wait_until(
        lambda: (
            requests.get(fresh(factory), timeout=5).json()["name"] == "Renamed in the admin"
            and topology.reads_served().get("replica_0", 0) > during.get("replica_0", 0)
            and topology.replica_transactions() > replica_transactions
        ),
        timeout=60,
        what="reads did not return to the replica after it caught up",
    )
    report(
        "replay paused: 4 writes (record, bulk, window delete, admin save), 24 reads at once, "
        f"stale reads {len(stale)}; reads served by the primary while paused "
        f"{during.get('default', 0) - before.get('default', 0):.0f}, by the replica 0"
    )


class Load:
    """Reader and writer threads through the load balancer until stopped; every answer is kept
    with the time it was sent, and every write acknowledged with the rows it carried."""

    def __init__(self, topology: Topology, factory_id: int, manager: dict, *, readers: int = 3):
        self.topology, self.factory_id, self.manager = topology, factory_id, manager
        self.reads: list[tuple[float, int]] = []
        self.writes: list[tuple[float, int]] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._write)] + [
            threading.Thread(target=self._read) for _ in range(readers)
        ]
        self.batch = 0

    def __enter__(self) -> "Load":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _read(self) -> None:
        paths = [
            f"{API}/production/{self.factory_id}?limit=100",
            f"{API}/factories/{self.factory_id}",
        ]
        with requests.Session() as session:
            n = 0
            while not self.stop.is_set():
                url = self.topology.url(paths[n % 2])
                n += 1
                try:
                    status = session.get(fresh(url) if n % 3 else url, timeout=10).status_code
                except requests.RequestException:
                    status = 0
                self.reads.append((time.monotonic(), status))

    def _write(self) -> None:
        while not self.stop.is_set():
            start = 1_800_000_000 + self.batch * ROWS_PER_WRITE * 60
            self.batch += 1
            try:
                status = bulk_post(
                    self.topology.nodes[0],
                    self.manager,
                    production_rows(self.factory_id, ROWS_PER_WRITE, start=start),
                    timeout=10,
                ).status_code
            except requests.RequestException:
                status = 0
            self.writes.append((time.monotonic(), status))

    def failed(self, after: float = 0.0) -> tuple[list[int], list[int]]:
        """Statuses of failed reads and writes sent after `after`."""
        return (
            [s for t, s in self.reads if t > after and s != 200],
            [s for t, s in self.writes if t > after and s != 201],
        )

    def acknowledged_rows(self) -> int:
        return ROWS_PER_WRITE * sum(1 for _, s in self.writes if s == 201)

    def stored_rows(self) -> int:
        with psycopg.connect(self.topology.primary.url(self.topology.database)) as connection:
            (count,) = connection.execute(
                "SELECT count(*) FROM production_productionrecord WHERE factory_id = %s"
                " AND time >= to_timestamp(1800000000)",
                (self.factory_id,),
            ).fetchone()
        return count


def test_a_replica_stopped_under_load_fails_no_request_and_is_used_again(topology):
    manager = as_role(topology.nodes[0], "manager")
    factory_id = factory_create(topology.nodes[0], manager, "Replica-down plant")
    cache_before = topology.cache_reads()
    with Load(topology, factory_id, manager) as load:
        time.sleep(1.5)
        topology.replica.stop("immediate")
        time.sleep(3)
        topology.replica.start()
        served = topology.reads_served().get("replica_0", 0)
        wait_until(
            lambda: topology.reads_served().get("replica_0", 0) > served,
            timeout=60,
            what="the replica was not used again",
        )
    failed_reads, failed_writes = load.failed()

    assert (failed_reads, failed_writes) == ([], [])
    assert load.stored_rows() == load.acknowledged_rows() > 0
    report(
        f"replica stopped for 3 s: {len(load.reads)} reads, {len(load.writes)} bulk writes, "
        f"failed {len(failed_reads) + len(failed_writes)}; cache answered "
        f"{cache_hit_share(cache_before, topology.cache_reads())} of cacheable reads"
    )


def test_a_web_node_killed_under_load_loses_nothing_acknowledged(topology):
    manager = as_role(topology.nodes[0], "manager")
    factory_id = factory_create(topology.nodes[0], manager, "Node-down plant")
    node = topology.nodes[1]
    cache_before = topology.cache_reads()
    with Load(topology, factory_id, manager) as load:
        time.sleep(1.5)
        os.killpg(node.process.pid, signal.SIGKILL)  # the node: its master and its workers
        killed_at = time.monotonic()
        time.sleep(3)
    node.start_web()
    cache_after = topology.cache_reads()  # the killed node's counts are in its metric files
    # Requests in flight on the killed node when it died may fail; none after.
    failed_reads, failed_writes = load.failed(after=killed_at + 0.5)
    in_flight = load.failed(after=killed_at - 10)

    assert (failed_reads, failed_writes) == ([], [])
    assert any(t > killed_at + 0.5 and s == 201 for t, s in load.writes)
    # Every acknowledged row is stored. A write in flight on the killed node may have committed
    # before its answer was lost (the client saw it fail: a retry with an Idempotency-Key is
    # safe); nothing else is stored.
    unanswered = len(in_flight[1]) * ROWS_PER_WRITE
    assert 0 < load.acknowledged_rows() <= load.stored_rows()
    assert load.stored_rows() <= load.acknowledged_rows() + unanswered
    report(
        f"web node killed: {len(load.reads)} reads, {len(load.writes)} bulk writes, failed "
        f"{sum(map(len, in_flight))} (all in flight on the killed node), acknowledged and lost 0; "
        f"cache answered {cache_hit_share(cache_before, cache_after)} of cacheable reads"
    )


def test_the_redis_primary_killed_fails_over_without_a_stale_read(topology):
    manager = as_role(topology.nodes[0], "manager")
    factory_id = factory_create(topology.nodes[0], manager, "v0")
    url = topology.url(f"{API}/factories/{factory_id}")
    sentinel = topology.sentinels[0]
    answers, stale = [], []

    def write_then_read(version: int) -> None:
        written = requests.patch(url, json={"name": f"v{version}"}, headers=manager, timeout=10)
        reads = read_at_once([(url, {}), (url, manager), (fresh(url), {})])
        answers.extend([written.status_code, *(read.status_code for read in reads)])
        stale.extend(r.json()["name"] for r in reads if r.ok and r.json()["name"] != f"v{version}")

    for version in range(1, 6):
        write_then_read(version)
    cache_before = topology.cache_reads()
    topology.redis_primary.process.kill()
    topology.redis_primary.process.wait(timeout=10)
    killed_at = time.monotonic()
    version = 6
    while sentinel.primary() != topology.redis_replica.port:
        assert time.monotonic() < killed_at + 30, "Sentinel did not promote the replica"
        write_then_read(version)
        version += 1
    failover_seconds = time.monotonic() - killed_at
    during = version - 6
    for after in range(version, version + 40):
        write_then_read(after)
        time.sleep(0.05)

    assert stale == []
    assert set(answers) == {200}
    wait_until(
        lambda: (
            requests.get(topology.url(f"{API}/factories"), timeout=10).ok
            and "generation" in topology.redis_replica.command("KEYS", "*generation*")
        ),
        timeout=15,
        what="the service did not use the new Redis primary",
    )
    cache_after = topology.cache_reads()
    report(
        f"Redis primary killed: promoted after {failover_seconds:.1f} s; {len(answers)} requests "
        f"({during} rounds of a write and three reads during the failover), failed 0, stale "
        f"reads 0; cache answered {cache_hit_share(cache_before, cache_after)} of cacheable reads "
        "(each round's write makes its reads new)"
    )
