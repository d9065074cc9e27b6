"""Read responses served from the cache, keyed by the generations of what they depend on.

A view declares `cache_depends_on` (the resources whose writes change its reads) and every
GET it answers goes through `cached_response`, after authentication, permissions, throttles
and content negotiation. A view whose answers carry a header that describes the body (which
bucket a summary used) names it in `cache_headers`: it is stored with the body and repeated
on the cached answers and on 304s.
"""

import functools
import hashlib
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from rest_framework import status
from rest_framework.response import Response

from core.cache import cache_generations_get, cache_outage_begins
from core.ops.replay import CACHE_READS, REPLAY_KEY, etag_matches
from core.replicas import replica_routed_read

CACHED_METHODS = frozenset({"GET", "HEAD"})
# In every key: entries of another shape (an older release's, during a rolling deploy) are
# never read, whatever their generations.
ENTRY_SHAPE = "body+headers"


def _response_key(request, generations: tuple[int, ...]) -> str:
    parts = [
        ENTRY_SHAPE,
        ",".join(map(str, generations)),
        request.method,
        request.get_host(),
        request.path,
        "&".join(sorted(f"{k}={v}" for k, values in request.GET.lists() for v in values)),
        request.accepted_renderer.format,
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:40]


def _decorate(response: HttpResponse, etag: str) -> HttpResponse:
    # Cache-Control and Vary for private reads are set for every API answer by middleware.
    response["ETag"] = etag
    return response


def _headers_repeated(response: HttpResponse, headers: dict[str, str]) -> HttpResponse:
    for name, value in headers.items():
        response[name] = value
    return response


def _entry_get(key: str):
    try:
        return cache.get(f"response:{key}")
    except Exception:
        cache_outage_begins("entry")
        return None


def cached_response(
    request,
    resources: Iterable[str],
    produce: Callable[[], Response],
    headers: Iterable[str] = (),
):
    """The JSON response `produce()` would give, from the cache when the generations allow.

    Only JSON is cached; other formats (the browsable API, CSV) are produced fresh. `headers`
    names the response's headers, besides Link, that are cached with its body.
    """
    resources = tuple(resources)
    produce = functools.partial(replica_routed_read, resources, produce)
    if not settings.CACHE_RESPONSES or request.accepted_renderer.format != "json":
        return produce()
    generations = cache_generations_get(resources)
    if generations is None:
        CACHE_READS.labels(answer="produced").inc()
        return produce()
    key = _response_key(request, generations)
    etag = f'"{key}"'
    names = ("Link", *headers)
    # An anonymous read is kept whole, for core.ops.replay to answer before Django does.
    replayed = REPLAY_KEY in request.META
    if replayed:
        request._request.replay_generations = dict(zip(resources, generations, strict=True))
    if etag_matches(request.headers.get("If-None-Match", ""), etag):
        not_modified = HttpResponse(status=status.HTTP_304_NOT_MODIFIED)
        del not_modified["Content-Type"]  # no content to type
        # A replayed read keeps no entry here (core.ops.replay keeps the whole answer).
        if headers and not replayed and (entry := _entry_get(key)) is not None:
            _headers_repeated(not_modified, {n: v for n, v in entry[1].items() if n != "Link"})
        CACHE_READS.labels(answer="not_modified").inc()
        return _decorate(not_modified, etag)
    entry = None if replayed else _entry_get(key)
    if entry is not None:
        body, kept = entry
        CACHE_READS.labels(answer="from_cache").inc()
        response = HttpResponse(body, content_type="application/json")
        return _decorate(_headers_repeated(response, kept), etag)
    CACHE_READS.labels(answer="produced").inc()
    response = produce()
    if response.status_code != status.HTTP_200_OK:
        return response
    body = request.accepted_renderer.render(response.data)
    kept = {name: response.headers[name] for name in names if name in response.headers}
    if not replayed:
        try:
            cache.set(f"response:{key}", (body, kept), timeout=settings.CACHE_TTL)
        except Exception:
            cache_outage_begins("store")
    response = HttpResponse(body, content_type="application/json")
    return _decorate(_headers_repeated(response, kept), etag)


class CachedReadsMixin:
    """Every GET of the view is answered through `cached_response`, keyed by the generations
    of `cache_depends_on`; a view with none is not cached."""

    cache_depends_on: tuple[str, ...] = ()
    cache_headers: tuple[str, ...] = ()

    def cacheable(self, request) -> bool:
        """Whether this GET's answer depends only on the data (not on the clock)."""
        return True

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        # Authentication, permissions, throttles and content negotiation are done: only now
        # may the cache answer. The handler is whichever action the route maps GET to.
        method = request.method.lower()
        if request.method in CACHED_METHODS and self.cache_depends_on and self.cacheable(request):
            handler = getattr(self, method)
            setattr(
                self,
                method,
                lambda request, *args, **kwargs: cached_response(
                    request,
                    self.cache_depends_on,
                    lambda: handler(request, *args, **kwargs),
                    self.cache_headers,
                ),
            )
