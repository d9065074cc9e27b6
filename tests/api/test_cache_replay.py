"""Anonymous reads replayed in front of Django (core/ops/replay.py), through the WSGI
application gunicorn serves, on a private redis-server.

What the replay must keep: the answer Django gave (status, headers, body), a write is seen at
once, 304 for the current ETag, credentials and cookies always reach Django, private answers
are never replayed, the request log line and the metrics, and Redis down costs nothing.
"""

import copy

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory
from django_prometheus.middleware import Metrics
from prometheus_client import REGISTRY

from core import cache as sprocket_cache
from core.cache import cache_generations_bump
from core.ops.replay import ReplayedReads
from inventory.models import SPROCKETS
from inventory.tests.factories import SprocketFactory

SPROCKETS_URL = "/sprocketFactory/v1/sprockets"
PER_REQUEST = {"x-request-id", "content-length"}

pytestmark = [
    pytest.mark.skipif(
        not settings.CACHES["default"]["BACKEND"].startswith("django_redis"),
        reason="needs the Redis cache (set REDIS_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def private_cache(settings, private_redis):
    """The cache on a server of the test's own; its outage flag clear before and after."""
    sprocket_cache._cache_outage.clear()
    default = copy.deepcopy(settings.CACHES["default"])
    settings.CACHES = {"default": {**default, "LOCATION": private_redis.url}}
    settings.SECURE_SSL_REDIRECT = False
    yield
    sprocket_cache._cache_outage.clear()


class CountingDjango:
    """Django's WSGI application, counting the requests that reach it."""

    def __init__(self) -> None:
        self.django, self.reached = WSGIHandler(), 0

    def __call__(self, environ, start_response):
        self.reached += 1
        return self.django(environ, start_response)


@pytest.fixture
def service():
    django = CountingDjango()
    replayed = ReplayedReads(django)

    def get(path: str = SPROCKETS_URL, **headers: str):
        environ = RequestFactory().get(path).environ
        environ.pop("HTTP_COOKIE", None)  # the factory always sends one, a browser-less client none
        environ.update({"HTTP_ACCEPT": "application/json", **headers})
        answer = {}

        def start_response(status, response_headers, exc_info=None):
            answer["status"], answer["headers"] = int(status.split()[0]), response_headers

        answer["body"] = b"".join(replayed(environ, start_response))
        return answer

    get.django = django
    return get


def without_per_request(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted((n, v) for n, v in headers if n.lower() not in PER_REQUEST)


def test_an_anonymous_read_is_answered_again_as_django_answered_it(service):
    SprocketFactory.create_batch(3)
    first = service()

    again = service()

    assert service.django.reached == 1
    assert again["status"] == first["status"] == 200
    assert again["body"] == first["body"]
    assert without_per_request(again["headers"]) == without_per_request(first["headers"])
    assert dict(again["headers"])["Content-Length"] == str(len(first["body"]))


def test_a_write_is_seen_by_the_next_read(service):
    SprocketFactory(name="First")
    service()
    SprocketFactory(name="Second")
    cache_generations_bump([SPROCKETS])  # as every write path does after its commit

    after = service()

    assert service.django.reached == 2
    assert b"Second" in after["body"]


def test_the_current_etag_is_answered_304_without_django(service):
    SprocketFactory()
    etag = dict(service()["headers"])["ETag"]

    not_modified = service(HTTP_IF_NONE_MATCH=etag)

    assert service.django.reached == 1
    assert not_modified["status"] == 304
    assert not_modified["body"] == b""
    headers = dict(not_modified["headers"])
    assert headers["ETag"] == etag
    assert "Content-Type" not in headers
    assert "Link" not in headers


def test_a_304_django_gave_is_replayed_too(service):
    SprocketFactory()
    etag = dict(service(HTTP_ACCEPT="application/json; q=1")["headers"])["ETag"]

    first = service(HTTP_IF_NONE_MATCH=etag)  # another Accept: not stored yet, Django's 304
    again = service(HTTP_IF_NONE_MATCH=etag)

    assert (first["status"], again["status"]) == (304, 304)
    assert service.django.reached == 2
    assert without_per_request(again["headers"]) == without_per_request(first["headers"])


def test_an_etag_that_is_not_current_gets_the_body(service):
    SprocketFactory()
    service()

    answer = service(HTTP_IF_NONE_MATCH='"not-the-current-one"')

    assert answer["status"] == 200
    assert answer["body"].startswith(b"[")


@pytest.mark.parametrize(
    "credentials",
    [{"HTTP_AUTHORIZATION": "Token nonsense"}, {"HTTP_COOKIE": "sessionid=anything"}],
)
def test_requests_with_credentials_or_cookies_always_reach_django(service, credentials):
    SprocketFactory()
    service()
    service()

    answers = [service(**credentials) for _ in range(2)]

    assert service.django.reached == 3
    assert answers[0]["status"] == answers[1]["status"]


def test_with_anonymous_reads_off_nothing_is_replayed(service, settings):
    settings.ANONYMOUS_READ = False

    answers = [service() for _ in range(2)]

    assert [a["status"] for a in answers] == [401, 401]
    assert service.django.reached == 2


def test_the_browsable_api_and_other_hosts_are_never_answered_from_a_json_entry(service):
    SprocketFactory()
    service()
    service()

    html = service(HTTP_ACCEPT="text/html")
    other_host = service(HTTP_HOST="localhost")

    assert html["status"] == 200
    assert dict(html["headers"])["Content-Type"].startswith("text/html")
    assert other_host["status"] == 200
    assert service.django.reached == 3


def test_a_replayed_read_is_logged_and_counted(service, caplog):
    SprocketFactory()
    service()
    counter = Metrics.get_instance().responses_by_status_view_method.labels(
        status="200", view="sprocket-list", method="GET"
    )
    before = counter._value.get()
    caplog.clear()

    answer = service(HTTP_X_REQUEST_ID="replay-probe-1")

    assert service.django.reached == 1
    assert dict(answer["headers"])["X-Request-ID"] == "replay-probe-1"
    assert counter._value.get() == before + 1
    lines = [r.msg for r in caplog.records if r.name == "sprocket_factory.request"]
    assert len(lines) == 1
    assert lines[0]["status"] == 200
    assert lines[0]["path"] == SPROCKETS_URL
    assert lines[0]["request_id"] == "replay-probe-1"


def test_with_redis_down_every_read_reaches_django(service, private_redis):
    SprocketFactory()
    service()
    private_redis.stop()

    answers = [service() for _ in range(2)]

    assert [a["status"] for a in answers] == [200, 200]
    assert service.django.reached == 3


def test_with_the_replay_off_every_read_reaches_django(service, settings):
    settings.CACHE_REPLAY = False
    SprocketFactory()

    for _ in range(3):
        service()

    assert service.django.reached == 3


def cache_reads() -> dict[str, float]:
    return {
        answer: REGISTRY.get_sample_value("sprocket_cache_reads_total", {"answer": answer}) or 0
        for answer in ("replayed", "not_modified", "from_cache", "produced")
    }


def counted_since(before: dict[str, float]) -> dict[str, float]:
    return {
        answer: n - before[answer] for answer, n in cache_reads().items() if n != before[answer]
    }


def test_each_read_is_counted_by_how_it_was_answered(service, settings):
    SprocketFactory()
    before = cache_reads()
    etag = dict(service()["headers"])["ETag"]
    service()
    service(HTTP_IF_NONE_MATCH=etag)
    assert counted_since(before) == {"produced": 1, "replayed": 2}

    settings.CACHE_REPLAY = False  # Django's own cache: no replay in front of it
    before = cache_reads()
    service(HTTP_ACCEPT="application/json; q=1")
    service(HTTP_ACCEPT="application/json; q=1")
    service(HTTP_ACCEPT="application/json; q=1", HTTP_IF_NONE_MATCH=etag)
    assert counted_since(before) == {"produced": 1, "from_cache": 1, "not_modified": 1}
