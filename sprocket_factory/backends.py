"""The database and cache entries the settings build from the environment."""


def replica_database(replica: dict, primary: dict) -> dict:
    """A read replica's entry: its own address, the primary's connection behaviour; tests use
    the primary's test database in its place."""
    return {
        **replica,
        "CONN_MAX_AGE": primary["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": dict(primary.get("OPTIONS", {})),
        "DISABLE_SERVER_SIDE_CURSORS": primary.get("DISABLE_SERVER_SIDE_CURSORS", False),
        "TEST": {"MIRROR": "default"},
    }


def default_cache(
    redis_url: str, *, ttl: int, socket_timeout: float, sentinels: str, sentinel_master: str
) -> dict:
    """Redis through django-redis (behind Sentinel when sentinels are named), or this
    process's memory without REDIS_URL."""
    if not redis_url:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "TIMEOUT": ttl}
    cache = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": redis_url,
        "TIMEOUT": ttl,
        "OPTIONS": {
            # A Redis that is down must cost a request milliseconds, not seconds.
            "SOCKET_CONNECT_TIMEOUT": socket_timeout,
            "SOCKET_TIMEOUT": socket_timeout,
        },
    }
    if sentinels:
        from core.redis_connections import redis_cache_location, redis_sentinels

        cache["LOCATION"] = [redis_cache_location(redis_url, sentinel_master)]
        cache["OPTIONS"].update(
            CLIENT_CLASS="django_redis.client.SentinelClient",
            CONNECTION_FACTORY="django_redis.pool.SentinelConnectionFactory",
            SENTINELS=redis_sentinels(sentinels),
            SENTINEL_KWARGS={
                "socket_timeout": socket_timeout,
                "socket_connect_timeout": socket_timeout,
            },
        )
    return cache
