"""Browser sessions over real HTTP: CSRF on every session write (and not on token writes), and a
login that redirects only within the site."""

import pytest

from tests.system.conftest import Service
from tests.system.security_helpers import (
    API,
    TIMEOUT,
    Caller,
    World,
    assert_json_error,
    factory_body,
    session_login,
    unique,
)


@pytest.mark.parametrize("csrf", [None, "not-the-token"], ids=["missing", "wrong"])
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_session_write_without_the_csrf_token_is_a_403(
    callers: dict[str, Caller], world: World, method: str, csrf: str | None
):
    session = callers["session"].session
    before = world.manager.create("/factories", factory_body())
    path = "/factories" if method == "POST" else f"/factories/{before['id']}"
    sent = factory_body() if method in ("POST", "PUT") else {"name": unique("Factory")}
    headers = {"X-CSRFToken": csrf} if csrf else {}

    response = session.request(
        method,
        callers["session"].service.url(API + path),
        json=sent,
        headers=headers,
        timeout=TIMEOUT,
    )

    assert "CSRF" in assert_json_error(response, 403)["detail"]
    assert world.manager("GET", f"/factories/{before['id']}").json() == before
    assert world.manager("GET", "/factories", params={"contains": sent["name"]}).json() == []


def test_a_session_write_with_the_csrf_token_is_made(callers: dict[str, Caller], world: World):
    name = unique("Factory")

    response = callers["session"]("POST", "/factories", json={"name": name})

    assert response.status_code == 201
    assert [
        row["name"] for row in world.manager("GET", "/factories", params={"contains": name}).json()
    ] == [name]


def test_a_token_write_needs_no_csrf_token_even_beside_a_session_cookie(
    callers: dict[str, Caller],
):
    session = callers["session"].session
    token = callers["manager"].token

    response = session.post(
        callers["manager"].service.url(API + "/factories"),
        json=factory_body(),
        headers={"Authorization": f"Token {token}"},
        timeout=TIMEOUT,
    )

    assert response.status_code == 201


def test_login_does_not_redirect_to_another_site(service: Service, session_password: str):
    _, login = session_login(
        service, "security-session", session_password, next_path="https://evil.example/"
    )

    assert login.status_code == 302
    assert "evil.example" not in login.headers["Location"]
