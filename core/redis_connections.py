"""Clients of the service's Redis: the server REDIS_URL names, or with REDIS_SENTINELS the
primary that Sentinel knows as REDIS_SENTINEL_MASTER, followed through a failover (REDIS_URL
then gives only the database number and the credentials)."""

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings


def redis_sentinels(value: str) -> list[tuple[str, int]]:
    """`host:port,host:port` as (host, port) pairs."""
    sentinels = []
    for address in filter(None, (part.strip() for part in value.split(","))):
        host, _, port = address.rpartition(":")
        sentinels.append((host, int(port)))
    return sentinels


def redis_cache_location(url: str, master: str) -> str:
    """REDIS_URL with the Sentinel service name as its host, for django-redis (the primary
    only: its reads of generations must never come from a replica that lags)."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@{master}" if credentials else master
    return urlunsplit((parts.scheme, netloc, parts.path, "is_master=1", ""))


def redis_from_settings(*, asynchronous: bool = False, **options):
    """A client with `options` (timeouts, max_connections) of the current primary."""
    if asynchronous:
        import redis.asyncio as redis_module
        from redis.asyncio.sentinel import Sentinel
    else:
        import redis as redis_module
        from redis.sentinel import Sentinel
    if not settings.REDIS_SENTINELS:
        return redis_module.Redis.from_url(settings.REDIS_URL, **options)
    parts = urlsplit(settings.REDIS_URL)
    sentinel = Sentinel(
        redis_sentinels(settings.REDIS_SENTINELS),
        sentinel_kwargs={
            "socket_timeout": settings.REDIS_SOCKET_TIMEOUT,
            "socket_connect_timeout": settings.REDIS_SOCKET_TIMEOUT,
        },
    )
    return sentinel.master_for(
        settings.REDIS_SENTINEL_MASTER,
        db=int(parts.path.lstrip("/") or 0),
        username=parts.username,
        password=parts.password,
        **options,
    )
