"""Redis behind Sentinel: how the settings name the sentinels and the primary."""

import pytest
from redis.sentinel import SentinelConnectionPool

from core.redis_connections import redis_cache_location, redis_from_settings, redis_sentinels


def test_sentinels_are_host_port_pairs():
    assert redis_sentinels("10.0.0.1:26379, sentinel-b:26380,") == [
        ("10.0.0.1", 26379),
        ("sentinel-b", 26380),
    ]


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("redis://127.0.0.1:6379/3", "redis://primary/3?is_master=1"),
        ("redis://:secret@redis:6379/0", "redis://:secret@primary/0?is_master=1"),
        ("rediss://app:pw@redis/2", "rediss://app:pw@primary/2?is_master=1"),
    ],
)
def test_the_cache_asks_sentinel_for_the_primary_only(url, location):
    assert redis_cache_location(url, "primary") == location


def test_a_client_with_sentinels_follows_the_named_primary(settings):
    settings.REDIS_URL = "redis://:secret@ignored:6379/4"
    settings.REDIS_SENTINELS = "127.0.0.1:26379,127.0.0.1:26380"
    settings.REDIS_SENTINEL_MASTER = "primary"

    client = redis_from_settings(socket_timeout=1)

    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool)
    assert pool.service_name == "primary"
    assert pool.connection_kwargs["db"] == 4
    assert pool.connection_kwargs["password"] == "secret"
    assert [
        s.connection_pool.connection_kwargs["port"] for s in pool.sentinel_manager.sentinels
    ] == [
        26379,
        26380,
    ]


def test_without_sentinels_a_client_is_of_redis_url(settings):
    settings.REDIS_URL = "redis://127.0.0.1:6399/5"
    settings.REDIS_SENTINELS = ""

    pool = redis_from_settings().connection_pool

    assert (pool.connection_kwargs["port"], pool.connection_kwargs["db"]) == (6399, 5)
