"""Tokens for programs, sessions for the browsable API, and the throttled login (DESIGN §5).

Requests are made with secure=True: with DATABASE_URL set (and DEBUG off) SECURE_SSL_REDIRECT
sends plain HTTP to HTTPS, as in production.
"""

from datetime import datetime, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from inventory.models import Sprocket

API = "/sprocketFactory/v1"
TOKEN_URL = f"{API}/auth/token"
LOGOUT_URL = f"{API}/auth/logout"
SPROCKETS_URL = f"{API}/sprockets"
PASSWORD = "pw-12345-long"  # the password conftest's user_in_role gives
NEW_SPROCKET = {
    "name": "Chain wheel",
    "teeth": 7,
    "pitch_diameter": 5,
    "outside_diameter": 6,
    "pitch": 1,
}


@pytest.fixture(autouse=True)
def _no_login_attempts_counted():
    """The login throttle counts in the cache; each test starts (and leaves) it empty."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def viewer(user_in_role):
    return user_in_role("viewer")


@pytest.fixture
def obtain_token(api_client, viewer):
    def obtain() -> str:
        credentials = {"username": viewer.username, "password": PASSWORD}
        response = api_client.post(TOKEN_URL, credentials, format="json", secure=True)
        assert response.status_code == 200, response.content
        return response.json()["token"]

    return obtain


def client_with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def read_with(client: APIClient):
    """A read that needs an authenticated viewer (anonymous reads are switched off by callers)."""
    return client.get(SPROCKETS_URL, secure=True)


def test_token_endpoint_answers_a_token_and_its_expiry_for_a_right_password(api_client, viewer):
    credentials = {"username": viewer.username, "password": PASSWORD}

    response = api_client.post(TOKEN_URL, credentials, format="json", secure=True)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expiry"}
    assert isinstance(body["token"], str)
    assert body["token"]


def test_token_expires_after_the_configured_lifetime(api_client, viewer, settings):
    credentials = {"username": viewer.username, "password": PASSWORD}

    response = api_client.post(TOKEN_URL, credentials, format="json", secure=True)

    expiry = datetime.fromisoformat(response.json()["expiry"])
    assert abs(expiry - (timezone.now() + settings.TOKEN_TTL)) < timedelta(minutes=1)


def test_token_expiry_is_iso_8601_utc_with_z(api_client, viewer):
    credentials = {"username": viewer.username, "password": PASSWORD}

    expiry = api_client.post(TOKEN_URL, credentials, format="json", secure=True).json()["expiry"]

    assert expiry.endswith("Z")
    assert datetime.fromisoformat(expiry).utcoffset() == timedelta(0)


def test_token_endpoint_refuses_a_wrong_password_with_400_and_issues_no_token(api_client, viewer):
    credentials = {"username": viewer.username, "password": "not-the-password"}

    response = api_client.post(TOKEN_URL, credentials, format="json", secure=True)

    assert response.status_code == 400
    assert "token" not in response.json()
    assert not AuthToken.objects.exists()


def test_token_authenticates_requests_in_the_authorization_header(obtain_token, settings):
    settings.ANONYMOUS_READ = False

    response = read_with(client_with_token(obtain_token()))

    assert response.status_code == 200


def test_database_stores_only_a_hash_of_the_token(obtain_token):
    token = obtain_token()

    (row,) = AuthToken.objects.values()

    assert all(token not in str(value) for value in row.values())


def test_an_expired_token_is_refused_with_401(obtain_token):
    token = obtain_token()
    AuthToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))

    response = read_with(client_with_token(token))

    assert response.status_code == 401


def test_an_unknown_token_is_refused_with_401(db):
    response = read_with(client_with_token("0" * 64))

    assert response.status_code == 401


def test_logout_with_a_token_answers_204(obtain_token):
    client = client_with_token(obtain_token())

    response = client.post(LOGOUT_URL, secure=True)

    assert response.status_code == 204


def test_a_token_no_longer_authenticates_after_logout(obtain_token):
    client = client_with_token(obtain_token())
    client.post(LOGOUT_URL, secure=True)

    response = read_with(client)

    assert response.status_code == 401


def test_logout_revokes_only_the_token_it_is_sent_with(obtain_token, settings):
    settings.ANONYMOUS_READ = False
    other = client_with_token(obtain_token())
    client_with_token(obtain_token()).post(LOGOUT_URL, secure=True)

    response = read_with(other)

    assert response.status_code == 200


def test_logout_without_a_token_is_refused_with_401(api_client, db):
    response = api_client.post(LOGOUT_URL, secure=True)

    assert response.status_code == 401


def test_session_login_shows_the_browsable_api(viewer, settings):
    settings.ANONYMOUS_READ = False
    client = APIClient()
    assert client.login(username=viewer.username, password=PASSWORD)

    response = client.get(SPROCKETS_URL, HTTP_ACCEPT="text/html", secure=True)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert viewer.username in response.content.decode()


def test_a_session_write_without_a_csrf_token_is_refused_with_403(user_in_role):
    manager = user_in_role("manager")
    client = APIClient(enforce_csrf_checks=True)
    client.login(username=manager.username, password=PASSWORD)

    response = client.post(SPROCKETS_URL, NEW_SPROCKET, format="json", secure=True)

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Sprocket.objects.exists()


def test_a_session_write_with_the_csrf_token_is_accepted(user_in_role):
    manager = user_in_role("manager")
    client = APIClient(enforce_csrf_checks=True)
    client.login(username=manager.username, password=PASSWORD)
    client.get(SPROCKETS_URL, HTTP_ACCEPT="text/html", secure=True)  # sets the csrftoken cookie

    response = client.post(
        SPROCKETS_URL,
        NEW_SPROCKET,
        format="json",
        secure=True,
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
        HTTP_REFERER=f"https://testserver{SPROCKETS_URL}",
    )

    assert response.status_code == 201, response.content


def test_a_token_write_needs_no_csrf_token(user_in_role):
    _, token = AuthToken.objects.create(user=user_in_role("manager"))
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = client.post(SPROCKETS_URL, NEW_SPROCKET, format="json", secure=True)

    assert response.status_code == 201, response.content


def test_the_token_endpoint_is_throttled_with_a_json_429(api_client, viewer, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "3/min"})
    credentials = {"username": viewer.username, "password": "wrong"}
    for _ in range(3):
        assert (
            api_client.post(TOKEN_URL, credentials, format="json", secure=True).status_code == 400
        )

    response = api_client.post(TOKEN_URL, credentials, format="json", secure=True)

    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()
    assert "Retry-After" in response


def test_the_throttle_refuses_even_the_right_password_once_the_rate_is_spent(
    api_client, viewer, monkeypatch
):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "3/min"})
    wrong = {"username": viewer.username, "password": "wrong"}
    for _ in range(3):
        api_client.post(TOKEN_URL, wrong, format="json", secure=True)

    right = {"username": viewer.username, "password": PASSWORD}
    response = api_client.post(TOKEN_URL, right, format="json", secure=True)

    assert response.status_code == 429
    assert not AuthToken.objects.exists()


def test_a_new_x_forwarded_for_on_each_attempt_does_not_dodge_the_throttle(
    api_client, viewer, monkeypatch
):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "3/min"})
    wrong = {"username": viewer.username, "password": "wrong"}
    statuses = [
        api_client.post(
            TOKEN_URL, wrong, format="json", secure=True, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}"
        ).status_code
        for n in range(4)
    ]

    assert statuses == [400, 400, 400, 429]


@pytest.mark.parametrize("login_url", ["/admin/login/", "/api-auth/login/"])
def test_the_login_forms_are_throttled(client, viewer, monkeypatch, login_url):
    from core.api.throttling import LoginFormThrottle

    monkeypatch.setattr(LoginFormThrottle, "THROTTLE_RATES", {"login": "3/min"})
    wrong = {"username": viewer.username, "password": "wrong"}
    statuses = [client.post(login_url, wrong, secure=True).status_code for _ in range(4)]

    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == 429


def test_the_api_schema_needs_a_login_when_anonymous_reads_are_off(api_client, settings):
    settings.ANONYMOUS_READ = False

    response = api_client.get("/sprocketFactory/v1/schema", secure=True)

    assert response.status_code in (401, 403)
