"""Anonymous reads answered in front of Django: the whole response the service gave the last
time, replayed while the generations it was built from are still current.

An anonymous JSON GET of the API (no Authorization, no Cookie) that the cache answered is
stored whole by `ReplayStoreMiddleware`, just inside the request log: status, every header
the middleware and the view set (security headers, Vary, ETag, Link, Bucket) and the body,
with the generation of each resource it depends on. `ReplayedReads`, wrapping the WSGI
application, looks the next identical request up in one Redis round trip (one MGET: every resource's
generation and the entry) and, when every generation it was built from is current, answers
it as it was answered (or 304 for its ETag) without building a Django request. Its request
log line and metrics are those the middleware would have written.

Identical means the same method, host (and X-Forwarded-Host), scheme (and X-Forwarded-Proto),
script name, path, query string and Accept header: everything an anonymous answer depends on. A write bumps a
generation after commit and before it is acknowledged, so no entry built before it is
replayed after it, as for every cached read (core.cache). Redis unreachable, or not yet
trusted after an outage: every request goes to Django.
"""

import functools
import hashlib
import time
from http import HTTPStatus

import orjson
from django.conf import settings
from django.core.cache import cache
from django_prometheus.middleware import Metrics
from prometheus_client import Counter

from core.api.exceptions import API_PREFIX
from core.cache import cache_generation_keys, cache_outage_begins, cache_trusted, redis_client
from core.ops.request_log import request_id_begin, request_logged

REPLAY_KEY = "sprocket_factory.replay_key"
# Headers a 304 does not carry: it has no body, and Link describes the body.
NOT_ON_304 = frozenset({"content-type", "content-length", "link"})
ENTRY_SHAPE = "replay-2"
# How each cacheable read was answered: "replayed" here before Django, or in Django
# "not_modified" (304), "from_cache", or "produced" by the view (a miss, or Redis down).
CACHE_READS = Counter("sprocket_cache_reads_total", "Cacheable reads by how answered", ["answer"])


def replay_eligible(environ: dict) -> bool:
    return (
        environ.get("REQUEST_METHOD") == "GET"
        and environ.get("PATH_INFO", "").startswith(API_PREFIX)
        and not environ.get("HTTP_AUTHORIZATION")
        and not environ.get("HTTP_COOKIE")
        and settings.CACHE_REPLAY
        and settings.CACHE_RESPONSES
        and settings.ANONYMOUS_READ
    )


def replay_key(environ: dict) -> str:
    parts = [
        ENTRY_SHAPE,
        environ.get("wsgi.url_scheme", ""),
        environ.get("HTTP_X_FORWARDED_PROTO", ""),
        environ.get("HTTP_HOST", ""),
        environ.get("HTTP_X_FORWARDED_HOST", ""),
        environ.get("SERVER_NAME", ""),
        environ.get("SERVER_PORT", ""),
        environ.get("SCRIPT_NAME", ""),
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
        environ.get("HTTP_ACCEPT", ""),
    ]
    digest = hashlib.sha256("\n".join(parts).encode("latin-1", "replace")).hexdigest()[:40]
    return cache.make_and_validate_key(f"replay:{digest}")


def etag_matches(header: str, etag: str) -> bool:
    return etag in {tag.strip().removeprefix("W/") for tag in header.split(",")}


class ReplayedReads:
    """WSGI middleware: replays stored anonymous reads, else passes the request on marked
    with the key its response is to be stored under."""

    def __init__(self, application) -> None:
        self.application = application

    def __call__(self, environ: dict, start_response):
        if not replay_eligible(environ):
            return self.application(environ, start_response)
        started = time.perf_counter()
        key = replay_key(environ)
        found = self._lookup(key, environ.get("HTTP_IF_NONE_MATCH", ""))
        if found is None:
            environ[REPLAY_KEY] = key
            return self.application(environ, start_response)
        status, headers, body, view = found
        request_id = request_id_begin(environ.get("HTTP_X_REQUEST_ID", ""))
        headers.append(("X-Request-ID", request_id))
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        CACHE_READS.labels(answer="replayed").inc()
        path = environ.get("PATH_INFO", "")
        request_logged(method="GET", path=path, status=status, started=started, user=None)
        _metrics_count(environ, view=view, status=status, body=len(body), started=started)
        return [body]

    @staticmethod
    def _lookup(key: str, if_none_match: str):
        """(status, headers, body, view) to replay, or None."""
        client = redis_client()
        if client is None or not cache_trusted():
            return None
        generation_keys = cache_generation_keys()
        wanted = [*generation_keys, f"{key}:meta"]
        if not if_none_match:
            wanted.append(f"{key}:body")
        try:
            found = client.mget(wanted)  # one command: the generations and the entry
        except Exception:
            cache_outage_begins("replay")
            return None
        current, meta, body = (
            found[: len(generation_keys)],
            found[len(generation_keys)],
            found[len(generation_keys) + 1 :],
        )
        if meta is None:
            return None
        entry = orjson.loads(meta)
        now = {generation_keys[k]: v for k, v in zip(generation_keys, current, strict=True)}
        for resource, generation in entry["generations"].items():
            if now.get(resource) is None or int(now[resource]) != generation:
                return None
        headers = [(name, value) for name, value in entry["headers"]]
        if if_none_match and etag_matches(if_none_match, entry["etag"]):
            kept = [(n, v) for n, v in headers if n.lower() not in NOT_ON_304]
            return HTTPStatus.NOT_MODIFIED, [*kept, ("Content-Length", "0")], b"", entry["view"]
        stored = body[0] if body else None
        etag, _, content = (stored or b"").partition(b"\n")
        if not entry["complete"] or etag.decode() != entry["etag"]:
            return None  # the body is not this entry's: Django answers and stores it
        headers.append(("Content-Length", str(len(content))))
        return HTTPStatus.OK, headers, content, entry["view"]


def replay_store(request, response) -> None:
    """Keep `response` for replay when its request was eligible and the cache answered it: a
    200 whole, a 304 as what it says (the next 304 to the same ETag)."""
    key = request.META.get(REPLAY_KEY)
    generations = getattr(request, "replay_generations", None)
    complete = response.status_code == HTTPStatus.OK
    if (
        not key
        or not generations
        or response.status_code not in (HTTPStatus.OK, HTTPStatus.NOT_MODIFIED)
        or response.streaming
        or response.cookies
        or not response.has_header("ETag")
    ):
        return
    client = redis_client()
    if client is None:
        return
    match = getattr(request, "resolver_match", None)
    meta = {
        "generations": generations,
        "etag": response["ETag"],
        "complete": complete,
        "headers": [
            [name, value]
            for name, value in response.items()
            if name.lower() not in {"content-length", "x-request-id"}
        ],
        "view": (match.view_name if match is not None else None) or "<unnamed view>",
    }
    try:
        pipeline = client.pipeline(transaction=False)
        pipeline.set(f"{key}:meta", orjson.dumps(meta), ex=settings.CACHE_TTL)
        if complete:
            # Led by its ETag: a body is replayed only with the entry it was stored with.
            body = response["ETag"].encode() + b"\n" + response.content
            pipeline.set(f"{key}:body", body, ex=settings.CACHE_TTL)
        pipeline.execute()
    except Exception:
        cache_outage_begins("replay store")


class ReplayStoreMiddleware:
    """Stores what `ReplayedReads` may replay: placed just inside the request log, it sees
    every header the rest of the stack sets."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        replay_store(request, response)
        return response


def _metrics_count(environ: dict, *, view: str, status: int, body: int, started: float) -> None:
    """What django_prometheus's before and after middleware count for a GET."""
    elapsed = time.perf_counter() - started
    transport = "https" if _is_secure(environ) else "http"
    for counter in _counters(view, str(status), transport):
        counter.inc()
    for histogram, value in zip(_histograms(view), (0, body, elapsed, elapsed), strict=True):
        histogram.observe(value)


@functools.cache
def _counters(view: str, status: str, transport: str) -> tuple:
    metrics = Metrics.get_instance()
    return (
        metrics.requests_total,
        metrics.requests_by_method.labels(method="GET"),
        metrics.requests_by_transport.labels(transport=transport),
        metrics.requests_by_view_transport_method.labels(
            view=view, transport=transport, method="GET"
        ),
        metrics.responses_total,
        metrics.responses_by_status.labels(status=status),
        metrics.responses_by_status_view_method.labels(status=status, view=view, method="GET"),
        metrics.responses_by_charset.labels(charset="utf-8"),
    )


@functools.cache
def _histograms(view: str) -> tuple:
    metrics = Metrics.get_instance()
    return (
        metrics.requests_body_bytes,
        metrics.responses_body_bytes,
        metrics.requests_latency_by_view_method.labels(view=view, method="GET"),
        metrics.requests_latency_before,
    )


def _is_secure(environ: dict) -> bool:
    if settings.SECURE_PROXY_SSL_HEADER:
        header, value = settings.SECURE_PROXY_SSL_HEADER
        return environ.get(header) == value
    return environ.get("wsgi.url_scheme") == "https"
