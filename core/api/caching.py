"""Read responses served from the cache, keyed by the generations of what they depend on.

A view declares `cache_depends_on` (the resources whose writes change its reads) and every
GET it answers goes through `cached_response`, after authentication, permissions, throttles
and content negotiation.
"""

import hashlib
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from rest_framework import status
from rest_framework.response import Response

from core.cache import cache_generations_get, cache_outage_begins

CACHED_METHODS = frozenset({"GET", "HEAD"})


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


def _json_response(body: bytes, link: str | None) -> HttpResponse:
    response = HttpResponse(body, content_type="application/json")
    if link:
        response["Link"] = link
    return response


def cached_response(request, resources: Iterable[str], produce: Callable[[], Response]):
    """The JSON response `produce()` would give, from the cache when the generations allow.

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
        cache_outage_begins("entry")
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
        cache_outage_begins("store")
    return _decorate(_json_response(body, link), etag)


class CachedReadsMixin:
    """Every GET of the view is answered through `cached_response`, keyed by the generations
    of `cache_depends_on`; a view with none is not cached."""

    cache_depends_on: tuple[str, ...] = ()

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        # Authentication, permissions, throttles and content negotiation are done: only now
        # may the cache answer. The handler is whichever action the route maps GET to.
        method = request.method.lower()
        if request.method in CACHED_METHODS and self.cache_depends_on:
            handler = getattr(self, method)
            setattr(
                self,
                method,
                lambda request, *args, **kwargs: cached_response(
                    request, self.cache_depends_on, lambda: handler(request, *args, **kwargs)
                ),
            )
