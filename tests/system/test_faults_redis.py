"""Faults of Redis under load: an outage, and a partition that loses a bump."""

import json
import time

import requests

from tests.system.conftest import (
    PrivatePostgres,
    PrivateRedis,
    running_service,
    wait_until,
)
from tests.system.fault_helpers import (
    API,
    BASE_TIME,
    GENERATION_KEY,
    PROMPT_SECONDS,
    ReadLoad,
    RedisLink,
    as_role,
    bulk_post,
    connections_to_each_worker,
    dashboard_seeded,
    factory_create,
    http_exchange,
    production_rows,
    response_cached,
    round_robin,
)


def test_reads_are_served_from_postgresql_while_redis_is_down_and_cached_again_after(
    own_postgres: PrivatePostgres, own_redis: PrivateRedis
):
    with running_service(own_postgres, own_redis) as service:
        plant, reads, expected = dashboard_seeded(service)
        load = ReadLoad(service, round_robin(reads), threads=4, seconds=4)

        with load.running():
            wait_until(lambda: len(load.answers) >= 40, timeout=10, what="40 reads answered")
            own_redis.stop()
            redis_down_at = time.monotonic()

        after_stop = [a for a in load.answers if a.started > redis_down_at]
        assert len(after_stop) >= 100, "too few reads while Redis was down"
        for answer in load.answers:
            assert answer.status == 200, (answer.kind, answer.status, answer.error)
            assert answer.json() == expected[answer.kind], answer.kind
        slowest = max(load.answers, key=lambda a: a.seconds)
        assert slowest.seconds < PROMPT_SECONDS, (slowest.kind, slowest.seconds)
        # Straight from PostgreSQL: no ETag without the generations kept in Redis.
        assert all(a.etag is None for a in after_stop)
        assert "Cache unavailable" in service.log()

        # A write while Redis is down is read back at once.
        (late,) = production_rows(plant["factory_id"], 1, start=BASE_TIME + 60 * 10_000)
        created = requests.post(
            service.url(f"{API}/production"), json=late, headers=plant["manager"], timeout=10
        )
        assert created.status_code == 201, created.text
        newest = requests.get(service.url(reads["factory-list"]), timeout=10).json()
        assert newest[0] == created.json()

        own_redis.start()
        # One connection to each worker: each has served from the cache again, not just one.
        with connections_to_each_worker(service) as connections:

            def cached_again() -> bool:
                etags = {
                    http_exchange(c, "GET", reads["factory-list"])[0].getheader("ETag")
                    for c in connections
                }
                return len(etags) == 1 and None not in etags and response_cached(own_redis, *etags)

            wait_until(cached_again, timeout=10, what="responses cached again by every worker")
            for connection in connections:
                first, _ = http_exchange(connection, "GET", reads["factory-list"])
                second, body = http_exchange(connection, "GET", reads["factory-list"])
                assert first.getheader("ETag") == second.getheader("ETag")
                assert body[0] == created.json()  # no stale entry
                revalidated, _ = http_exchange(
                    connection,
                    "GET",
                    reads["factory-list"],
                    headers={"If-None-Match": second.getheader("ETag")},
                )
                assert revalidated.status == 304
        summary = requests.get(service.url(reads["summary"]), timeout=10).json()
        (overall,) = [row for row in summary if row["bucket"] is None]
        assert overall["sprocket_production_actual"] == sum(
            r["sprocket_production_actual"] for r in [*plant["rows"], late]
        )


def test_a_write_during_a_partition_from_redis_is_seen_by_every_worker_after_it(
    own_postgres: PrivatePostgres, own_redis: PrivateRedis
):
    # Redis kept its entries and the generation it had; the writer's bump was lost in the cut.
    # Every worker that noticed the cut (a failed call or its watchdog's ping) bumps every
    # generation as Redis answers again, before trusting the cache; the test waits for that
    # bump to land, without any request, then reads from the other worker.
    link = RedisLink(own_redis)
    try:
        with running_service(own_postgres, own_redis, REDIS_URL=link.url) as service:
            manager = as_role(service, "manager")
            factory_id = factory_create(service, manager, "Partitioned")
            assert bulk_post(service, manager, production_rows(factory_id, 10)).status_code == 201
            newest = f"{API}/production/{factory_id}?ordering=-time&limit=1"
            with connections_to_each_worker(service) as (writer, reader):
                for connection in (writer, reader):
                    response, before = http_exchange(connection, "GET", newest)
                    assert response.status == 200
                assert own_redis.command("DBSIZE").strip() != "0"

                generation_before_cut = own_redis.command("GET", GENERATION_KEY)
                link.cut()
                (late,) = production_rows(factory_id, 1, start=BASE_TIME + 60 * 1000)
                response, created = http_exchange(
                    writer,
                    "POST",
                    f"{API}/production",
                    body=json.dumps(late),
                    headers={**manager, "Content-Type": "application/json"},
                )
                assert response.status == 201
                link.mend()
                wait_until(
                    lambda: own_redis.command("GET", GENERATION_KEY) != generation_before_cut,
                    timeout=10,
                    what="no worker bumped the generations after the cut",
                )

                seen = [http_exchange(reader, "GET", newest)[1] for _ in range(3)]
    finally:
        link.close()

    assert before != [created]
    assert seen == [[created]] * 3
