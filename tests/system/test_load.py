"""Mixed reads and bulk writes against gunicorn (2 workers) on loopback for LOAD_SECONDS.

Every answer must have the expected status, and the table must hold exactly the rows the
service acknowledged. Throughput and latency per kind of request are written to
test-artifacts/load.json and printed; they are recorded, not asserted.
"""

import json
import os
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import psycopg
import pytest
import requests

from tests.system.conftest import ROOT, Service, running_service

API = "/sprocketFactory/v1"
LOAD_SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
READERS = 6
WRITERS = 2
FACTORIES = 4
MAX_REQUESTS_PER_THREAD = 1_000_000
SEED_START = 1_704_067_200  # 2024-01-01T00:00:00Z
SEED_MINUTES = 2 * 24 * 60
WRITE_START = SEED_START + 3 * 24 * 3600  # writes during the load never touch the seeded days
ARTIFACT = ROOT / "test-artifacts" / "load.json"


def production_rows(factory_id: int, start: int, size: int) -> list[dict]:
    return [
        {
            "factory_id": factory_id,
            "time": start + 60 * i,
            "sprocket_production_actual": (start // 60 + i) % 97,
            "sprocket_production_goal": 100,
        }
        for i in range(size)
    ]


@dataclass
class Tally:
    """What the threads saw: latencies per kind, errors, and rows acknowledged as written."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    acknowledged: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float, error: str | None = None) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            if error is not None:
                self.errors.append(f"{kind}: {error}")

    def fail(self, kind: str, message: str) -> None:
        with self.lock:
            self.errors.append(f"{kind}: {message}")

    def acknowledge(self, rows: int) -> None:
        with self.lock:
            self.acknowledged += rows


def timed(
    session: requests.Session, tally: Tally, kind: str, method: str, url: str, **kwargs
) -> requests.Response | None:
    started = time.perf_counter()
    try:
        response = session.request(method, url, timeout=30, **kwargs)
    except requests.RequestException as error:
        tally.record(kind, time.perf_counter() - started, f"no answer: {error}")
        return None
    tally.record(kind, time.perf_counter() - started)
    return response


@dataclass
class Plant:
    """The factories under load, and what the seeded days read before the load began."""

    factory_ids: list[int]
    record_ids: list[int]
    fixed: dict[str, object]  # path -> the JSON it answered before the load
    etags: dict[str, str]  # path -> ETag of a resource the load never changes


def plant_seeded(service: Service, manager: dict) -> Plant:
    factory_ids = []
    for n in range(FACTORIES):
        response = requests.post(
            service.url(f"{API}/factories"),
            json={"name": f"Load {n} {time.monotonic_ns()}"},
            headers=manager,
            timeout=10,
        )
        assert response.status_code == 201, response.text
        factory_ids.append(response.json()["id"])
        response = requests.post(
            service.url(f"{API}/production/bulk"),
            data=json.dumps(production_rows(factory_ids[-1], SEED_START, SEED_MINUTES)),
            headers={**manager, "Content-Type": "application/json"},
            timeout=60,
        )
        assert response.status_code == 201, response.text
    record_ids = [
        record["id"]
        for factory_id in factory_ids
        for record in requests.get(
            service.url(f"{API}/production/{factory_id}?limit=25"), timeout=10
        ).json()
    ]
    fixed_paths = [
        *(f"{API}/production/records/{record_id}" for record_id in record_ids[::5]),
        *(
            f"{API}/production?factory_id={a}&factory_id={b}&after={SEED_START + 3600 * h}"
            "&before=2024-01-03&limit=200"
            for a, b in zip(factory_ids[::2], factory_ids[1::2], strict=True)
            for h in range(0, 48, 6)
        ),
        *(
            f"{API}/factories/{factory_id}/chart-data?after={SEED_START + 3600 * h}"
            f"&before={SEED_START + 3600 * (h + 6)}"
            for factory_id in factory_ids
            for h in range(0, 48, 12)
        ),
        *(
            f"{API}/production/summary?factory_id={factory_id}&bucket=hour"
            f"&after=2024-01-01&before=2024-01-03"
            for factory_id in factory_ids
        ),
        f"{API}/production/summary?bucket=day&after=2024-01-01&before=2024-01-03"
        + "".join(f"&factory_id={factory_id}" for factory_id in factory_ids),
    ]
    fixed = {}
    for path in fixed_paths:
        response = requests.get(service.url(path), timeout=10)
        assert response.status_code == 200, (path, response.text)
        fixed[path] = response.json()
    etags = {}
    for path in (f"{API}/factories", f"{API}/sprockets"):
        etags[path] = requests.get(service.url(path), timeout=10).headers["ETag"]
    return Plant(factory_ids, record_ids, fixed, etags)


def kind_of(path: str) -> str:
    if "/records/" in path:
        return "detail"
    if "chart-data" in path:
        return "chart-data"
    if "summary" in path:
        return "summary"
    return "list"


def reader(
    service: Service, plant: Plant, tally: Tally, number: int, headers: dict, deadline: float
) -> None:
    rng = random.Random(number)
    fixed = list(plant.fixed)
    with requests.Session() as session:
        session.headers.update(headers)
        for n in range(MAX_REQUESTS_PER_THREAD):
            if time.monotonic() > deadline:
                return
            step = n % 4
            if step in (0, 1):
                path = rng.choice(fixed)
                kind = kind_of(path)
                response = timed(session, tally, kind, "GET", service.url(path))
                if response is not None and (
                    response.status_code != 200 or response.json() != plant.fixed[path]
                ):
                    tally.fail(kind, f"{path} answered {response.status_code}")
            elif step == 2:
                factory_id = rng.choice(plant.factory_ids)
                path = f"{API}/production/{factory_id}?ordering=-time&limit=100"
                response = timed(session, tally, "latest", "GET", service.url(path))
                if response is not None:
                    rows = response.json() if response.status_code == 200 else None
                    if not rows or {row["factory_id"] for row in rows} != {factory_id}:
                        tally.fail("latest", f"{path} answered {response.status_code}")
                    else:
                        revalidate_production(session, tally, service.url(path), response)
            else:
                path, etag = rng.choice(list(plant.etags.items()))
                response = timed(
                    session,
                    tally,
                    "304",
                    "GET",
                    service.url(path),
                    headers={"If-None-Match": etag},
                )
                if response is not None and response.status_code != 304:
                    tally.fail("304", f"{path} answered {response.status_code}")


def revalidate_production(
    session: requests.Session, tally: Tally, url: str, earlier: requests.Response
) -> None:
    """304 when nothing changed since; otherwise 200 with another ETag (a write came between)."""
    etag = earlier.headers.get("ETag")
    response = timed(
        session, tally, "revalidate-latest", "GET", url, headers={"If-None-Match": etag}
    )
    if response is None or response.status_code == 304:
        return
    if response.status_code != 200 or response.headers.get("ETag") == etag:
        tally.fail("revalidate-latest", f"{url} answered {response.status_code} for {etag}")


def writer(
    service: Service, plant: Plant, tally: Tally, number: int, headers: dict, deadline: float
) -> None:
    rng = random.Random(1000 + number)
    mine = plant.factory_ids[number::WRITERS]
    cursor = dict.fromkeys(mine, WRITE_START)  # the next free minute of each factory
    with requests.Session() as session:
        session.headers.update(headers)
        for n in range(MAX_REQUESTS_PER_THREAD):
            if time.monotonic() > deadline:
                return
            factory_id = mine[n % len(mine)]
            if n % 4 == 3:
                (row,) = production_rows(factory_id, cursor[factory_id], 1)
                cursor[factory_id] += 60
                response = timed(
                    session, tally, "single", "POST", service.url(f"{API}/production"), json=row
                )
                if response is not None:
                    if response.status_code == 201:
                        tally.acknowledge(1)
                    else:
                        tally.fail("single", f"{response.status_code} {response.text}")
                continue
            size = rng.randint(200, 1000)
            body = json.dumps(production_rows(factory_id, cursor[factory_id], size)).encode()
            cursor[factory_id] += 60 * size
            response = timed(
                session,
                tally,
                "bulk",
                "POST",
                service.url(f"{API}/production/bulk"),
                data=body,
                headers={"Content-Type": "application/json"},
            )
            if response is not None:
                if response.status_code == 201:
                    tally.acknowledge(response.json()["created"])
                    if response.json()["created"] != size:
                        tally.fail("bulk", f"{size} sent, {response.json()}")
                else:
                    tally.fail("bulk", f"{response.status_code} {response.text[:300]}")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def figures(tally: Tally, seconds: float, rows_written: int, client_cpu: float) -> dict:
    kinds = {
        kind: {
            "requests": len(latencies),
            "requests_per_second": round(len(latencies) / seconds, 1),
            "p50_ms": round(1000 * percentile(latencies, 0.50), 2),
            "p99_ms": round(1000 * percentile(latencies, 0.99), 2),
            "max_ms": round(1000 * max(latencies), 2),
        }
        for kind, latencies in sorted(tally.latencies.items())
    }
    every = [latency for latencies in tally.latencies.values() for latency in latencies]
    return {
        "seconds": round(seconds, 2),
        "readers": READERS,
        "writers": WRITERS,
        "gunicorn_workers": 2,
        "requests": len(every),
        "requests_per_second": round(len(every) / seconds, 1),
        "errors": len(tally.errors),
        # The load generator shares the machine's cores with gunicorn and PostgreSQL.
        "load_generator_cpu_seconds": round(client_cpu, 1),
        "rows_written": rows_written,
        "rows_written_per_second": round(rows_written / seconds, 1),
        "kinds": kinds,
    }


def run_threads(targets: list[Callable[[], None]], timeout: float) -> None:
    threads = [threading.Thread(target=target, daemon=True) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a load thread did not end"


@pytest.fixture
def service(private_postgres, own_redis) -> Iterator[Service]:
    """A service of its own: the load leaves far more rows than the other tests expect."""
    with running_service(private_postgres, own_redis) as running:
        yield running


def test_mixed_reads_and_bulk_writes_answer_without_an_error_and_lose_no_row(service: Service):
    manager = {"Authorization": f"Token {service.token('manager', 'load-manager')}"}
    viewer = {"Authorization": f"Token {service.token('viewer', 'load-viewer')}"}
    plant = plant_seeded(service, manager)
    tally = Tally()

    started, cpu_before = time.monotonic(), time.process_time()
    deadline = started + LOAD_SECONDS
    run_threads(
        [
            *(
                # Half the readers anonymous, half with a viewer's token.
                lambda n=n: reader(service, plant, tally, n, viewer if n % 2 else {}, deadline)
                for n in range(READERS)
            ),
            *(
                lambda n=n: writer(service, plant, tally, n, manager, deadline)
                for n in range(WRITERS)
            ),
        ],
        timeout=LOAD_SECONDS + 120,
    )
    seconds, client_cpu = time.monotonic() - started, time.process_time() - cpu_before

    with psycopg.connect(service.env["DATABASE_URL"]) as connection:
        (in_table,) = connection.execute(
            "SELECT count(*) FROM production_productionrecord WHERE factory_id = ANY(%s)",
            (plant.factory_ids,),
        ).fetchone()
    result = figures(tally, seconds, tally.acknowledged, client_cpu)
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))

    assert tally.errors == []
    assert tally.latencies["bulk"], "no bulk write was answered"
    assert in_table == FACTORIES * SEED_MINUTES + tally.acknowledged
