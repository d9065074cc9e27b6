"""Read responses cached under keys that carry the generation of every resource they depend on.

A write bumps its resource's generation (one INCR) after commit, so every later read builds
a new key and never sees an older response; old entries simply expire (CACHE_TTL). Nothing
is ever searched for or deleted by pattern.

Redis being down never fails a request: reads go to the database and a warning is logged.
After any failed Redis call a process trusts the cache again only once it has bumped every
generation: a bump lost in the outage, by this process or another, cannot leave an old entry
in service. A watchdog thread pings Redis (CACHE_WATCHDOG_SECONDS), so an idle process
notices an outage too, and makes that recovery bump as soon as Redis answers again.
"""

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from rest_framework import status
from rest_framework.response import Response

logger = logging.getLogger(__name__)

SPROCKETS = "sprockets"
FACTORIES = "factories"
PRODUCTION = "production"
RESOURCES = (SPROCKETS, FACTORIES, PRODUCTION)

# Set by any failed Redis call; cleared once every generation has been bumped again.
_cache_outage = threading.Event()
_watchdog_pid: int | None = None


def _generation_key(resource: str) -> str:
    return f"generation:{resource}"


def _fresh_generation() -> int:
    # Microseconds: far ahead of any count of bumps, so a counter that was evicted or lost in
    # a restart starts above every value it ever had, and no old entry comes back to life.
    return time.time_ns() // 1000


def _redis_client():
    """The raw Redis client, when the cache is django-redis; None for the local-memory cache."""
    get_client = getattr(cache, "client", None)
    return get_client.get_client(write=True) if get_client is not None else None


def _bump_one(resource: str) -> None:
    key = cache.make_and_validate_key(_generation_key(resource))
    client = _redis_client()
    if client is None:
        try:
            cache.incr(_generation_key(resource))
        except ValueError:
            cache.set(_generation_key(resource), _fresh_generation(), timeout=None)
        return
    if client.incr(key) == 1:
        # The counter had been lost: INCR started it from zero. Start it from the clock.
        client.set(key, _fresh_generation())


def _outage_begins(what: str) -> None:
    logger.warning("Cache unavailable (%s): serving from the database", what)
    _cache_outage.set()


def _outage_ends() -> bool:
    """True when the cache can be trusted: no outage, or every generation bumped since."""
    if not _cache_outage.is_set():
        return True
    try:
        for resource in RESOURCES:
            _bump_one(resource)
    except Exception:
        return False
    _cache_outage.clear()
    logger.warning("Cache reachable again: every generation bumped")
    return True


def _watch(interval: float) -> None:
    while True:
        time.sleep(interval)
        if _cache_outage.is_set():
            _outage_ends()
            continue
        try:
            _redis_client().ping()
        except Exception:
            _outage_begins("ping")


def _ensure_watchdog() -> None:
    """One watchdog thread per process (started after gunicorn forks), for Redis only."""
    global _watchdog_pid
    if _watchdog_pid == os.getpid() or _redis_client() is None:
        return
    _watchdog_pid = os.getpid()
    threading.Thread(
        target=_watch, args=(settings.CACHE_WATCHDOG_SECONDS,), name="cache-watchdog", daemon=True
    ).start()


def cache_generations_bump(resources: Iterable[str]) -> None:
    """Bump each resource's generation now (one INCR each; once more on a new connection if
    the first try fails, since a blip is likelier than an outage)."""
    for resource in resources:
        try:
            _bump_one(resource)
        except Exception:
            try:
                _bump_one(resource)
            except Exception:
                _outage_begins(f"could not bump {resource}")


class _BumpOnCommit:
    """An on_commit callback that knows its resource, so a transaction schedules it once."""

    def __init__(self, resource: str) -> None:
        self.resource = resource

    def __call__(self) -> None:
        cache_generations_bump([self.resource])


def cache_generations_bump_on_commit(*resources: str) -> None:
    """Bump after the current transaction commits (at once outside a transaction)."""
    connection = transaction.get_connection()
    scheduled = {
        callback.resource
        for _, callback, _ in connection.run_on_commit
        if isinstance(callback, _BumpOnCommit)
    }
    for resource in resources:
        if resource not in scheduled:
            transaction.on_commit(_BumpOnCommit(resource))


def cache_generations_get(resources: Iterable[str]) -> tuple[int, ...] | None:
    """The current generation of each resource, or None when the cache cannot be trusted."""
    resources = tuple(resources)
    _ensure_watchdog()
    if not _outage_ends():
        return None
    keys = [_generation_key(r) for r in resources]
    try:
        found = cache.get_many(keys)
        for key in keys:
            if key not in found:
                cache.add(key, _fresh_generation(), timeout=None)
                found[key] = cache.get(key)
    except Exception:
        _outage_begins("generations")
        return None
    if any(found[key] is None for key in keys):
        return None
    return tuple(int(found[key]) for key in keys)


def _response_key(request, generations: tuple[int, ...]) -> str:
    parts = [
        ",".join(map(str, generations)),
        request.method,
        request.get_host(),
        request.path,
        "&".join(sorted(f"{k}={v}" for k, values in request.GET.lists() for v in values)),
        request.accepted_renderer.format,
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:40]


def _etag_matches(request, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    return etag in {tag.strip().removeprefix("W/") for tag in header.split(",")}


def _decorate(response: HttpResponse, etag: str) -> HttpResponse:
    # Cache-Control and Vary for private reads are set for every API answer by middleware.
    response["ETag"] = etag
    return response


def cached_response(request, resources: Iterable[str], produce: Callable[[], Response]):
    """The JSON response `produce()` would give, from the cache when the generations allow.

    Called inside a view's action, so authentication and permissions are already checked.
    Only JSON is cached; other formats (the browsable API, CSV) are produced fresh.
    """
    if not settings.CACHE_RESPONSES or request.accepted_renderer.format != "json":
        return produce()
    generations = cache_generations_get(resources)
    if generations is None:
        return produce()
    key = _response_key(request, generations)
    etag = f'"{key}"'
    if _etag_matches(request, etag):
        return _decorate(HttpResponse(status=status.HTTP_304_NOT_MODIFIED), etag)
    try:
        entry = cache.get(f"response:{key}")
    except Exception:
        _outage_begins("entry")
        entry = None
    if entry is not None:
        body, link = entry
        return _decorate(_json_response(body, link), etag)
    response = produce()
    if response.status_code != status.HTTP_200_OK:
        return response
    body = request.accepted_renderer.render(response.data)
    link = response.headers.get("Link")
    try:
        cache.set(f"response:{key}", (body, link), timeout=settings.CACHE_TTL)
    except Exception:
        _outage_begins("store")
    return _decorate(_json_response(body, link), etag)


def cached_read(*resources: str) -> Callable:
    """A read action served through `cached_response`, keyed by the generations of `resources`."""

    def decorator(action: Callable) -> Callable:
        @wraps(action)
        def wrapper(view, request, *args, **kwargs):
            return cached_response(
                request, resources, lambda: action(view, request, *args, **kwargs)
            )

        return wrapper

    return decorator


def _json_response(body: bytes, link: str | None) -> HttpResponse:
    response = HttpResponse(body, content_type="application/json")
    if link:
        response["Link"] = link
    return response
