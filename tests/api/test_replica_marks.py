"""Replica marks in Redis (core/cache.py): raised to the primary's WAL position by every bump,
never lowered, and a mark never set starts at the primary's position now."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from core import cache as sprocket_cache
from core.cache import cache_generations_bump, cache_marks_get

pytestmark = [
    pytest.mark.skipif(
        not settings.CACHES["default"]["BACKEND"].startswith("django_redis"),
        reason="needs the Redis cache (set REDIS_URL)",
    ),
    pytest.mark.django_db,
]


@pytest.fixture
def replicas_configured(settings, on_postgresql):
    settings.DATABASE_REPLICA_URLS = ["postgres://replica/unused"]
    sprocket_cache._cache_outage.clear()
    cache.delete("lsn:production")
    yield
    cache.delete("lsn:production")


def primary_position() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn() - '0/0'")
        return int(cursor.fetchone()[0])


@pytest.mark.usefixtures("replicas_configured")
def test_a_mark_never_set_starts_at_the_primarys_position():
    before = primary_position()

    (mark,) = cache_marks_get(["production"])

    assert mark >= before
    assert cache_marks_get(["production"]) == [mark]  # now kept


@pytest.mark.usefixtures("replicas_configured")
def test_a_bump_raises_the_mark_and_nothing_lowers_it():
    client = sprocket_cache.redis_client()
    key = sprocket_cache._mark_key("production")
    client.set(key, 10**15)  # ahead of any position this database reaches

    cache_generations_bump(["production"])

    assert cache_marks_get(["production"]) == [10**15]
    client.set(key, 1)
    before = primary_position()
    cache_generations_bump(["production"])
    assert cache_marks_get(["production"])[0] >= before
