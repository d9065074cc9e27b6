"""Login throttling over real HTTP: after LOGIN_THROTTLE_RATE, even the right password is a 429."""

import requests

from tests.system.conftest import Service
from tests.system.security_helpers import API, assert_json_error, send, user_with_password


def test_logins_are_throttled_after_the_rate_even_with_the_right_password(
    strict_service: Service,
):
    password = user_with_password(strict_service, "security-throttled", "viewer")
    url = strict_service.url(API + "/auth/token")

    def login(secret: str) -> requests.Response:
        return send("POST", url, json={"username": "security-throttled", "password": secret})

    assert login(password).status_code == 200
    assert [login("wrong").status_code for _ in range(2)] == [400, 400]

    throttled = login("wrong")
    assert "detail" in assert_json_error(throttled, 429)
    assert int(throttled.headers["Retry-After"]) > 0
    assert_json_error(login(password), 429)
