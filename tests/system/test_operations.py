"""Health, readiness, metrics and logs of the running service."""

import json
import re
import time

import psycopg
import requests

from tests.system.conftest import PrivatePostgres, PrivateRedis, running_service, wait_until


def test_liveness_answers_without_the_database_or_the_cache(own_postgres, own_redis):
    with running_service(own_postgres, own_redis) as service:
        own_postgres.stop("immediate")
        own_redis.stop()

        response = requests.get(service.url("/healthz"), timeout=5)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_is_200_when_the_database_and_cache_answer(service):
    response = requests.get(service.url("/readyz"), timeout=5)

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok"}


def test_readiness_is_a_503_naming_the_cache_when_redis_is_down(
    own_postgres: PrivatePostgres, own_redis: PrivateRedis
):
    with running_service(own_postgres, own_redis) as service:
        own_redis.stop()

        response = requests.get(service.url("/readyz"), timeout=5)

    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["down"] == ["cache"]
    # Which service is down, not its address: the detail goes to the log only.
    assert response.json()["checks"] == {"database": "ok", "cache": "down"}
    assert str(own_redis.port) not in response.text


def test_readiness_is_a_503_naming_the_database_when_postgresql_is_down(
    own_postgres: PrivatePostgres, own_redis: PrivateRedis
):
    with running_service(own_postgres, own_redis) as service:
        own_postgres.stop("immediate")

        response = requests.get(service.url("/readyz"), timeout=10)

    assert response.status_code == 503
    assert response.json()["down"] == ["database"]


def test_metrics_are_refused_without_the_token(service):
    response = requests.get(service.url("/metrics"), timeout=5)

    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/json"


def test_metrics_add_up_the_requests_of_every_worker(own_postgres, own_redis):
    with running_service(own_postgres, own_redis, METRICS_TOKEN="scrape-me") as service:
        assert len(service.worker_pids()) == 2
        session = requests.Session()
        for _ in range(60):
            assert session.get(service.url("/sprocketFactory/v1/sprockets"), timeout=5).ok
            # A new connection each time, so both workers take requests.
            session.close()

        text = requests.get(
            service.url("/metrics"), headers={"Authorization": "Bearer scrape-me"}, timeout=5
        ).text

    counted = sum(
        float(value)
        for value in re.findall(
            r'^django_http_responses_total_by_status_view_method_total\{[^}]*view="sprocket-list"[^}]*\} ([\d.e+]+)$',
            text,
            re.M,
        )
    )
    assert counted == 60


def test_every_request_is_logged_as_one_json_line_with_its_request_id(service):
    response = requests.get(
        service.url("/sprocketFactory/v1/factories"),
        headers={"X-Request-ID": "trace-42"},
        timeout=5,
    )

    assert response.headers["X-Request-ID"] == "trace-42"

    def logged() -> list[dict]:
        lines = [line for line in service.log().splitlines() if "trace-42" in line]
        return [json.loads(line) for line in lines]

    wait_until(lambda: logged(), timeout=5, what="the request was not logged")
    (line,) = logged()
    assert line["event"] == "request"
    assert line["method"] == "GET"
    assert line["path"] == "/sprocketFactory/v1/factories"
    assert line["status"] == 200
    assert line["duration_ms"] >= 0
    assert line["user"] is None


def test_a_request_without_an_id_gets_a_generated_one(service):
    response = requests.get(service.url("/healthz"), timeout=5)

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_a_request_whose_query_outlasts_the_statement_timeout_is_a_prompt_503(
    private_postgres, own_redis
):
    with running_service(
        private_postgres, own_redis, DATABASE_STATEMENT_TIMEOUT="20", CACHE_RESPONSES="false"
    ) as service:
        with psycopg.connect(service.env["DATABASE_URL"], autocommit=True) as connection:
            connection.execute(
                "INSERT INTO inventory_factory (name, timezone, is_active, created_at, updated_at) "
                "VALUES ('Slow', 'UTC', true, now(), now())"
            )
            connection.execute(
                "INSERT INTO production_productionrecord (factory_id, time, "
                "sprocket_production_actual, sprocket_production_goal) "
                "SELECT f.id, timestamptz '2024-01-01' + n * interval '1 minute', 30, 32 "
                "FROM inventory_factory f, generate_series(0, 999999) AS n"
            )
        # No record matches, so PostgreSQL reads all million before it can answer.
        started = time.monotonic()
        response = requests.get(
            service.url("/sprocketFactory/v1/production?sprocket_production_actual_min=40"),
            timeout=30,
        )
        elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/json"
    assert "DATABASE_STATEMENT_TIMEOUT" in response.json()["detail"]
    assert response.headers["Retry-After"] == "1"
    assert elapsed < 5


def test_bulk_ingest_runs_under_its_own_statement_timeout(private_postgres, own_redis):
    with running_service(private_postgres, own_redis, DATABASE_STATEMENT_TIMEOUT="20") as service:
        manager = {"Authorization": f"Token {service.token('manager')}"}
        factory = requests.post(
            service.url("/sprocketFactory/v1/factories"),
            json={"name": "Busy"},
            headers=manager,
            timeout=10,
        ).json()
        rows = [
            {
                "factory_id": factory["id"],
                "time": 1_704_067_200 + 60 * n,
                "sprocket_production_actual": 30,
                "sprocket_production_goal": 32,
            }
            for n in range(100_000)
        ]

        # 100,000 rows and their rollups take far longer than 20 ms to write.
        response = requests.post(
            service.url("/sprocketFactory/v1/production/bulk"),
            json=rows,
            headers=manager,
            timeout=120,
        )

    assert response.status_code == 201, response.text
    assert response.json()["created"] == 100_000
