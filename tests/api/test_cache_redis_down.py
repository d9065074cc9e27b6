"""Redis going down and coming back (DESIGN §6) with a private redis-server on a spare port.

The shared Redis is never touched: the cache is pointed at a server of this module's own,
which the tests stop and start again.
"""

import copy
import json
import logging
import time

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import cache as sprocket_cache
from core.cache import cache_generations_get, cache_resources
from inventory.tests.factories import SprocketFactory

API = "/sprocketFactory/v1"
SPROCKETS_URL = f"{API}/sprockets"
SPROCKET = {"teeth": 5, "pitch_diameter": 5, "outside_diameter": 6, "pitch": 1}
DATA_TABLES = ("production_productionrecord", "inventory_")
PROMPT_SECONDS = 1.0

pytestmark = [
    pytest.mark.skipif(
        not settings.CACHES["default"]["BACKEND"].startswith("django_redis"),
        reason="needs the Redis cache (set REDIS_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def cache_outage():
    """This process's "a Redis call failed" flag, clear before and after the test."""
    sprocket_cache._cache_outage.clear()
    yield sprocket_cache._cache_outage
    sprocket_cache._cache_outage.clear()


@pytest.fixture(autouse=True)
def private_cache(settings, private_redis, cache_outage):
    """The cache, configured as in production, on the private server (Django resets caches)."""
    default = copy.deepcopy(settings.CACHES["default"])
    settings.CACHES = {"default": {**default, "LOCATION": private_redis.url}}
    settings.SECURE_SSL_REDIRECT = False


def timed_get(client, url: str):
    started = time.monotonic()
    response = client.get(url)
    return response, time.monotonic() - started


def data_table_queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in queries.captured_queries if any(t in q["sql"] for t in DATA_TABLES)]


def test_reads_are_cached_while_redis_is_up(api_client):
    SprocketFactory()
    api_client.get(SPROCKETS_URL)

    assert data_table_queries(api_client, SPROCKETS_URL) == []


def test_reads_while_redis_is_down_are_served_from_the_database(api_client, private_redis):
    sprocket = SprocketFactory()
    api_client.get(SPROCKETS_URL)
    private_redis.stop()

    response = api_client.get(SPROCKETS_URL)

    assert response.status_code == 200
    assert [s["id"] for s in response.json()] == [sprocket.pk]


def test_reads_while_redis_is_down_are_prompt(api_client, private_redis):
    SprocketFactory()
    private_redis.stop()

    durations = [timed_get(api_client, SPROCKETS_URL)[1] for _ in range(3)]

    assert max(durations) < PROMPT_SECONDS, durations


def test_reads_while_redis_is_down_log_a_warning(api_client, private_redis, caplog):
    private_redis.stop()

    with caplog.at_level(logging.WARNING, logger="core.cache"):
        api_client.get(SPROCKETS_URL)

    assert any(r.levelno == logging.WARNING for r in caplog.records if r.name == "core.cache")


def test_a_write_while_redis_is_down_succeeds(manager, private_redis):
    private_redis.stop()

    response = manager.post(SPROCKETS_URL, SPROCKET, format="json")

    assert response.status_code == 201, response.content


def test_a_write_while_redis_is_down_logs_a_warning(manager, private_redis, caplog):
    private_redis.stop()

    with caplog.at_level(logging.WARNING, logger="core.cache"):
        manager.post(SPROCKETS_URL, SPROCKET, format="json")

    assert any("could not bump sprockets" in r.getMessage() for r in caplog.records)


def test_a_write_while_redis_is_down_records_the_failed_bump(manager, private_redis, cache_outage):
    private_redis.stop()

    manager.post(SPROCKETS_URL, SPROCKET, format="json")

    assert cache_outage.is_set()


def test_a_write_while_redis_is_down_is_prompt(manager, private_redis):
    private_redis.stop()

    started = time.monotonic()
    manager.post(SPROCKETS_URL, SPROCKET, format="json")

    assert time.monotonic() - started < PROMPT_SECONDS


def test_reads_after_redis_returns_reflect_a_write_made_while_it_was_down(
    api_client, manager, private_redis
):
    api_client.get(SPROCKETS_URL)
    private_redis.stop()
    created = manager.post(SPROCKETS_URL, SPROCKET, format="json").json()
    private_redis.start()

    response = api_client.get(SPROCKETS_URL)

    assert [s["id"] for s in response.json()] == [created["id"]]


def test_the_failed_bump_is_made_once_redis_returns(
    api_client, manager, private_redis, cache_outage
):
    private_redis.stop()
    manager.post(SPROCKETS_URL, SPROCKET, format="json")
    private_redis.start()

    api_client.get(SPROCKETS_URL)

    assert not cache_outage.is_set()
    assert private_redis.command("EXISTS", ":1:generation:sprockets").strip() == "1"


def test_caching_resumes_by_itself_when_redis_returns(api_client, private_redis):
    SprocketFactory()
    private_redis.stop()
    api_client.get(SPROCKETS_URL)
    private_redis.start()
    api_client.get(SPROCKETS_URL)

    assert data_table_queries(api_client, SPROCKETS_URL) == []


def test_generations_after_a_restart_are_newer_than_before(private_redis):
    before = cache_generations_get(cache_resources())
    private_redis.stop()
    private_redis.start()

    after = cache_generations_get(cache_resources())

    assert all(new > old for new, old in zip(after, before, strict=True)), (before, after)


def test_a_failed_bump_is_retried_before_a_kept_entry_is_served(api_client, manager, monkeypatch):
    """A bump lost to a blip, on a Redis that kept its entries: the stale entry is never served."""
    api_client.get(SPROCKETS_URL)
    real_bump = sprocket_cache._bump_one

    def unreachable(resource: str) -> None:
        raise redis.ConnectionError("a blip")

    monkeypatch.setattr(sprocket_cache, "_bump_one", unreachable)
    created = manager.post(SPROCKETS_URL, SPROCKET, format="json").json()
    monkeypatch.setattr(sprocket_cache, "_bump_one", real_bump)

    response = api_client.get(SPROCKETS_URL)

    assert [s["id"] for s in response.json()] == [created["id"]]


def test_nothing_is_served_from_the_cache_while_a_bump_is_outstanding(
    api_client, manager, private_redis, monkeypatch
):
    api_client.get(SPROCKETS_URL)

    def unreachable(resource: str) -> None:
        raise redis.ConnectionError("still down")

    monkeypatch.setattr(sprocket_cache, "_bump_one", unreachable)
    created = manager.post(SPROCKETS_URL, SPROCKET, format="json").json()

    response = api_client.get(SPROCKETS_URL)

    assert [s["id"] for s in json.loads(response.content)] == [created["id"]]


def test_the_token_endpoint_answers_while_redis_is_down(api_client, user_in_role, private_redis):
    user = user_in_role("viewer")
    private_redis.stop()

    response = api_client.post(
        "/sprocketFactory/v1/auth/token",
        {"username": user.username, "password": "pw-12345-long"},
        format="json",
    )

    assert response.status_code == 200
    assert "token" in response.json()


def test_an_export_answers_while_redis_is_down(manager, private_redis):
    private_redis.stop()

    response = manager.get("/sprocketFactory/v1/production?format=csv")

    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"id,factory_id,time")
