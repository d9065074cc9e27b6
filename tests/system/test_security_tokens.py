"""Tokens over real HTTP (DESIGN §4): an expired, revoked or made-up token is a 401."""

import secrets

import pytest

from tests.system.conftest import Service
from tests.system.security_helpers import (
    Caller,
    World,
    assert_json_error,
    factory_body,
    record_body,
    shell,
)

EXPIRE = (
    "from datetime import timedelta\n"
    "from django.utils import timezone\n"
    "from knox.models import AuthToken\n"
    "print(AuthToken.objects.filter(user__username={username!r})"
    ".update(expiry=timezone.now() - timedelta(seconds=1)))\n"
)


def test_an_expired_token_is_refused_with_a_401(service: Service, world: World):
    caller = Caller(service, token=service.token("operator", username="security-expiring"))
    assert caller("GET", "/sprockets").status_code == 200
    assert caller("POST", "/production", json=record_body(world.factory_id)).status_code == 201

    assert shell(service, EXPIRE.format(username="security-expiring")) == "1"

    assert_json_error(caller("GET", "/sprockets"), 401)
    assert_json_error(caller("POST", "/production", json=record_body(world.factory_id)), 401)


def test_logout_revokes_the_token_it_is_sent_with_and_only_that_one(service: Service, world: World):
    revoked = Caller(service, token=service.token("operator", username="security-logout"))
    kept = Caller(service, token=service.token("operator", username="security-logout"))
    assert revoked("GET", "/production").status_code == 200

    assert revoked("POST", "/auth/logout").status_code == 204

    assert_json_error(revoked("GET", "/production"), 401)
    assert_json_error(revoked("POST", "/production", json=record_body(world.factory_id)), 401)
    assert_json_error(revoked("POST", "/auth/logout"), 401)
    assert kept("POST", "/production", json=record_body(world.factory_id)).status_code == 201


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_made_up_token_is_a_401_even_where_anonymous_reads_are_allowed(
    service: Service, method: str
):
    caller = Caller(service, token=secrets.token_hex(32))

    response = caller(method, "/factories", json=factory_body() if method == "POST" else None)

    assert_json_error(response, 401)
