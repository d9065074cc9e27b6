"""Request bodies are bounded before they are read (`RequestBodyLimitMiddleware`)."""

import json

import pytest
from django.test import Client, RequestFactory

from core.ops.middleware import RequestBodyLimitMiddleware
from ingest.models import IngestBatch
from inventory.models import Sprocket
from production.models import ProductionRecord

API = "/sprocketFactory/v1"
PRODUCTION_BULK = f"{API}/production/bulk"
SPROCKETS = f"{API}/sprockets"
SPROCKET = {"teeth": 5, "pitch_diameter": 5, "outside_diameter": 6, "pitch": 1}

pytestmark = pytest.mark.django_db


class ViewSpy:
    """Stands in for the rest of the stack, to see whether a request got past the middleware."""

    def __init__(self) -> None:
        self.called = False

    def __call__(self, request):
        self.called = True
        return "the view's answer"


def through_middleware(request):
    view = ViewSpy()
    return RequestBodyLimitMiddleware(view)(request), view


def post_request(path: str, body: bytes = b"[]", **meta):
    request = RequestFactory().post(path, data=body, content_type="application/json")
    request.META.update(meta)
    return request


class WithoutContentLength(Client):
    """A client whose requests reach the server with no Content-Length, as a chunked one does."""

    def request(self, **request):
        request.pop("CONTENT_LENGTH", None)
        return super().request(**request)


def test_a_bulk_body_over_bulk_max_bytes_is_a_413(manager, settings):
    settings.BULK_MAX_BYTES = 100
    body = json.dumps([{"factory_id": 1, "time": 0}] * 10)

    response = manager.post(PRODUCTION_BULK, data=body, content_type="application/json")

    assert response.status_code == 413
    assert "100 bytes" in response.json()["detail"]
    assert not IngestBatch.objects.exists()


def test_a_bulk_content_length_over_the_limit_is_refused_before_the_view(settings):
    settings.BULK_MAX_BYTES = 100

    response, view = through_middleware(post_request(PRODUCTION_BULK, CONTENT_LENGTH="101"))

    assert response.status_code == 413
    assert json.loads(response.content)["detail"]
    assert not view.called


def test_a_bulk_content_length_at_the_limit_reaches_the_view(settings):
    settings.BULK_MAX_BYTES = 100

    _, view = through_middleware(post_request(PRODUCTION_BULK, CONTENT_LENGTH="100"))

    assert view.called


def test_a_huge_content_length_is_refused_without_reading_the_body(manager):
    response = manager.post(
        PRODUCTION_BULK, data=b"[]", content_type="application/json", CONTENT_LENGTH=str(2**40)
    )

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"


def test_a_normal_post_over_api_max_body_bytes_is_a_413(manager, settings):
    settings.API_MAX_BODY_BYTES = 50

    response = manager.post(SPROCKETS, {**SPROCKET, "name": "x" * 60}, format="json")

    assert response.status_code == 413
    assert "detail" in response.json()
    assert not Sprocket.objects.exists()


def test_bulk_max_bytes_does_not_apply_to_a_normal_post(manager, settings):
    settings.BULK_MAX_BYTES = 10

    response = manager.post(SPROCKETS, SPROCKET, format="json")

    assert response.status_code == 201, response.content


def test_a_bulk_post_without_a_body_or_length_has_an_empty_body_and_is_a_400(manager):
    # RFC 9112 §6.3: a request with neither Content-Length nor Transfer-Encoding has no body.
    response = manager.generic("POST", PRODUCTION_BULK, b"", content_type="application/json")

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert not ProductionRecord.objects.exists()


def test_a_bulk_post_without_a_body_or_length_reaches_the_view():
    request = post_request(PRODUCTION_BULK, b"")
    request.META.pop("CONTENT_LENGTH", None)

    _, view = through_middleware(request)

    assert view.called


@pytest.mark.parametrize("path", [PRODUCTION_BULK, SPROCKETS])
def test_a_chunked_post_without_a_content_length_is_a_411(db, path):
    response = WithoutContentLength().post(
        path,
        data=json.dumps(SPROCKET),
        content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
    )

    assert response.status_code == 411
    assert response.json() == {"detail": "Send the body with a Content-Length header."}
    assert not Sprocket.objects.exists()


def test_a_chunked_bulk_post_never_reaches_the_view():
    request = post_request(PRODUCTION_BULK, HTTP_TRANSFER_ENCODING="chunked")
    del request.META["CONTENT_LENGTH"]

    response, view = through_middleware(request)

    assert response.status_code == 411
    assert not view.called


@pytest.mark.parametrize(
    ("method", "status"), [("POST", 400), ("PUT", 400), ("PATCH", 200)], ids=str
)
def test_a_write_without_a_body_or_length_is_answered_as_an_empty_body(manager, method, status):
    sprocket = Sprocket.objects.create(**SPROCKET)
    path = SPROCKETS if method == "POST" else f"{SPROCKETS}/{sprocket.pk}"

    response = manager.generic(method, path, b"", content_type="application/json")

    assert response.status_code == status, response.content
    assert "CONTENT_LENGTH" not in response.wsgi_request.META


def test_a_normal_post_without_a_body_or_length_reaches_the_view():
    request = RequestFactory().post(SPROCKETS)
    request.META.pop("CONTENT_LENGTH", None)

    _, view = through_middleware(request)

    assert view.called


@pytest.mark.parametrize("length", ["abc", "-1", "1e3"])
def test_a_content_length_that_is_not_a_number_is_a_400(manager, length):
    response = manager.post(
        PRODUCTION_BULK, data=b"[]", content_type="application/json", CONTENT_LENGTH=length
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "The Content-Length header is not a number."}
    assert not ProductionRecord.objects.exists()


def test_a_content_length_of_non_ascii_digits_is_a_400(db):
    client = Client(raise_request_exception=False)
    superscript_two = b"\xb2".decode("latin-1")  # a header byte as WSGI hands it over

    response = client.post(
        PRODUCTION_BULK, data=b"[]", content_type="application/json", CONTENT_LENGTH=superscript_two
    )

    assert response.status_code == 400


def test_bodies_outside_the_api_are_not_checked(settings):
    settings.API_MAX_BODY_BYTES = 1

    _, view = through_middleware(post_request("/admin/login/", b"x" * 10))

    assert view.called


def test_a_get_is_not_checked(settings):
    settings.API_MAX_BODY_BYTES = 1
    request = RequestFactory().get(SPROCKETS, CONTENT_LENGTH="999")

    _, view = through_middleware(request)

    assert view.called
