"""Hostile requests get a clear JSON 4xx, never a 5xx or a traceback: header bytes that are not
text, more parameters or form fields than Django reads, bodies over Django's own limits.

A real HTTP server hands a header's bytes to Django as latin-1 text (PEP 3333), so the byte
0xFF arrives as "\\xff"; gunicorn refuses control characters in header values before Django
sees them. The test client passes any text, so the tests say which of the two they stand for.
"""

import json
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from inventory.models import Sprocket
from inventory.tests.factories import FactoryFactory, SprocketFactory
from production.tests.factories import create_records
from tests.api.hostile.helpers import API, assert_json_error

SPROCKET = {"teeth": 5, "pitch_diameter": 5, "outside_diameter": 6, "pitch": 1}
BYTE_FF = b"\xff".decode("latin-1")  # the byte 0xFF as a WSGI server hands a header over
UTF8_E_ACUTE = "é".encode().decode("latin-1")  # "é" sent as UTF-8, as WSGI hands it over

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    factory = FactoryFactory()
    create_records(factory, 2)
    return {"factory": factory, "sprocket": SprocketFactory()}


def every_endpoint(world) -> list[tuple[str, str]]:
    factory_id, sprocket_id = world["factory"].id, world["sprocket"].id
    return [
        ("GET", "/sprockets"),
        ("GET", f"/sprockets/{sprocket_id}"),
        ("GET", "/factories"),
        ("GET", f"/factories/{factory_id}"),
        ("GET", "/factories/chart-data"),
        ("GET", f"/factories/{factory_id}/chart-data"),
        ("GET", "/production"),
        ("GET", f"/production/{factory_id}"),
        ("GET", "/production/summary"),
        ("GET", "/schema"),
        ("GET", "/docs"),
        ("POST", "/sprockets"),
        ("POST", "/production/bulk"),
        ("PATCH", f"/sprockets/{sprocket_id}"),
        ("DELETE", f"/factories/{factory_id}"),
        ("POST", "/auth/logout"),
    ]


# --- Authorization (issue 10, item 4) ---------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        f"Token {BYTE_FF}",
        f"Token abc{BYTE_FF}def",
        f"Token {UTF8_E_ACUTE}",
        f"Bearer {BYTE_FF}",
        BYTE_FF,
    ],
    ids=["token-ff", "token-ff-inside", "token-utf8", "bearer-ff", "bare-ff"],
)
def test_an_authorization_header_that_is_not_ascii_is_a_json_401_on_every_endpoint(
    hostile, world, header
):
    for method, path in every_endpoint(world):
        response = hostile.generic(method, API + path, HTTP_AUTHORIZATION=header)

        body = assert_json_error(response, 401)
        assert "detail" in body, (method, path)
        assert response["WWW-Authenticate"] == "Token", (method, path)


def test_an_authorization_header_beyond_latin_1_is_a_json_401(hostile):
    # Only a test client can send this: a server decodes header bytes as latin-1.
    response = hostile.get(f"{API}/sprockets", HTTP_AUTHORIZATION="Token €")

    assert_json_error(response, 401)


def test_an_unreadable_authorization_header_logs_no_error_and_is_not_echoed(hostile, caplog):
    with caplog.at_level(logging.INFO):
        response = hostile.get(f"{API}/sprockets", HTTP_AUTHORIZATION=f"Token s3cr3t-part{BYTE_FF}")

    assert response.status_code == 401
    assert b"s3cr3t" not in response.content
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [r for r in caplog.records if r.exc_info]
    assert "s3cr3t" not in caplog.text


# --- Other headers the service reads (siblings of item 4) ---------------------------------------


def test_an_idempotency_key_of_latin_1_bytes_is_kept_and_replayed(api_client_as):
    manager = api_client_as("manager")
    manager.raise_request_exception = False
    key = f"retry-{BYTE_FF}"

    first = manager.post(
        f"{API}/sprockets/bulk", [SPROCKET], format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    again = manager.post(
        f"{API}/sprockets/bulk", [SPROCKET], format="json", HTTP_IDEMPOTENCY_KEY=key
    )

    assert first.status_code == 201, first.content
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert Sprocket.objects.count() == 1


@pytest.mark.parametrize("key", ["retry-\x00-1", "retry\n2", "retry-\ud800"])
def test_an_idempotency_key_with_a_control_character_or_a_lone_surrogate_is_a_400(
    api_client_as, key
):
    manager = api_client_as("manager")

    response = manager.post(
        f"{API}/sprockets/bulk", [SPROCKET], format="json", HTTP_IDEMPOTENCY_KEY=key
    )

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert Sprocket.objects.count() == 0


@pytest.mark.parametrize("cookie", [f"sessionid={BYTE_FF * 32}", f"csrftoken={BYTE_FF * 32}"])
def test_a_cookie_of_latin_1_bytes_is_an_anonymous_request(hostile, cookie):
    response = hostile.get(f"{API}/sprockets", HTTP_COOKIE=cookie)

    assert response.status_code == 200


def test_a_csrf_cookie_of_latin_1_bytes_on_a_session_write_is_a_json_403(django_user_model):
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(django_user_model.objects.create_superuser("staff", "s@example.com", "pw"))
    client.cookies["csrftoken"] = BYTE_FF * 32

    response = client.post(
        f"{API}/sprockets",
        json.dumps(SPROCKET),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=BYTE_FF * 32,
    )

    assert "CSRF" in assert_json_error(response, 403)["detail"]
    assert not Sprocket.objects.exists()


def test_an_if_none_match_of_latin_1_bytes_is_a_plain_read(hostile):
    response = hostile.get(f"{API}/sprockets", HTTP_IF_NONE_MATCH=f'"{BYTE_FF}"')

    assert response.status_code == 200


def test_a_host_of_latin_1_bytes_is_a_json_400(hostile):
    response = hostile.get(f"{API}/sprockets", HTTP_HOST=BYTE_FF)

    assert_json_error(response, 400)


def test_a_request_id_of_latin_1_bytes_is_replaced(hostile):
    response = hostile.get(f"{API}/sprockets", HTTP_X_REQUEST_ID=BYTE_FF)

    assert response.status_code == 200
    assert response["X-Request-ID"].isascii()
    assert response["X-Request-ID"] != BYTE_FF


# --- Django's limits on what it reads from a request (item 5) -----------------------------------

MAX_FIELDS = 1000  # Django's default DATA_UPLOAD_MAX_NUMBER_FIELDS


def too_many_fields() -> str:
    return "&".join(f"field{i}=1" for i in range(MAX_FIELDS + 1))


def list_paths(world) -> list[str]:
    factory_id = world["factory"].id
    return [
        "/sprockets",
        f"/sprockets/{world['sprocket'].id}",
        "/factories",
        "/factories/chart-data",
        f"/factories/{factory_id}/chart-data",
        "/production",
        f"/production/{factory_id}",
        "/production/summary",
    ]


def test_more_query_parameters_than_django_reads_is_a_json_400_naming_the_limit(hostile, world):
    for path in list_paths(world):
        response = hostile.get(f"{API}{path}?{too_many_fields()}")

        detail = assert_json_error(response, 400)["detail"]
        assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in detail, path
        assert str(MAX_FIELDS) in detail, path


def test_as_many_query_parameters_as_django_reads_are_fine(hostile):
    query = "&".join(f"field{i}=1" for i in range(MAX_FIELDS))

    response = hostile.get(f"{API}/sprockets?{query}")

    assert response.status_code == 200


def test_more_form_fields_than_django_reads_is_a_json_400_naming_the_limit(api_client_as):
    manager = api_client_as("manager")
    manager.raise_request_exception = False

    response = manager.generic(
        "POST", f"{API}/sprockets", too_many_fields(), "application/x-www-form-urlencoded"
    )

    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in assert_json_error(response, 400)["detail"]
    assert not Sprocket.objects.exists()


def test_more_form_fields_than_django_reads_in_a_session_write_is_a_json_400(
    django_user_model,
):
    # The CSRF check of a session-authenticated write reads the form (for its token) before
    # any view does.
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(django_user_model.objects.create_superuser("staff", "s@example.com", "pw"))
    client.cookies["csrftoken"] = "a" * 32

    response = client.generic(
        "POST", f"{API}/sprockets", too_many_fields(), "application/x-www-form-urlencoded"
    )

    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in assert_json_error(response, 400)["detail"]


def test_a_multipart_body_over_data_upload_max_memory_size_is_a_json_413(api_client_as, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    manager = api_client_as("manager")
    manager.raise_request_exception = False

    response = manager.post(f"{API}/sprockets", {**SPROCKET, "name": "x" * 200}, format="multipart")

    detail = assert_json_error(response, 413)["detail"]
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in detail
    assert "100" in detail
    assert not Sprocket.objects.exists()


def test_more_files_than_django_reads_is_a_json_400_naming_the_limit(api_client_as, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 1
    manager = api_client_as("manager")
    manager.raise_request_exception = False
    files = {name: SimpleUploadedFile(f"{name}.txt", b"x") for name in ("a", "b")}

    response = manager.post(f"{API}/sprockets", files, format="multipart")

    assert "DATA_UPLOAD_MAX_NUMBER_FILES" in assert_json_error(response, 400)["detail"]


def test_a_request_refused_for_a_django_limit_logs_no_traceback(hostile, caplog):
    with caplog.at_level(logging.INFO):
        response = hostile.get(f"{API}/sprockets?{too_many_fields()}")

    assert response.status_code == 400
    assert not [r for r in caplog.records if r.exc_info]


def test_too_many_parameters_outside_the_api_are_still_django_s_400(staff_client):
    staff_client.raise_request_exception = False

    response = staff_client.get(f"/admin/inventory/sprocket/?{too_many_fields()}")

    assert response.status_code == 400
