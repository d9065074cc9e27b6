"""Nothing leaks with DEBUG off: no answer any security test got (all kept in `SEEN`) carries a
traceback or a setting, and every API error is JSON.

Marked `last`, so it runs after every other test and reads all their answers.
"""

import json
from urllib.parse import urlsplit

import pytest

from tests.system.conftest import Service
from tests.system.security_helpers import API, FORBIDDEN, SEEN, send


@pytest.mark.last
def test_no_answer_of_the_security_tests_carries_a_traceback_or_a_setting(service: Service):
    # Bad requests of its own, so that it checks something even when run alone.
    send(
        "POST",
        service.url(API + "/factories"),
        data="{",
        headers={"Content-Type": "application/json"},
    )
    send("GET", service.url(API + "/sprockets"), headers={"Host": "evil.example"})
    send("DELETE", service.url(API + "/nothing"))
    forbidden = FORBIDDEN | {
        service.env["SECRET_KEY"],
        service.env["DATABASE_URL"],
        service.env["REDIS_URL"],
    }
    password = urlsplit(service.env["DATABASE_URL"]).password
    if password:
        forbidden.add(password)

    leaks = [
        (answer.method, answer.path, answer.status, secret)
        for answer in SEEN
        for secret in forbidden
        if secret in answer.body or secret in json.dumps(answer.headers)
    ]
    not_json = [
        (answer.method, answer.path, answer.status, answer.content_type)
        for answer in SEEN
        if answer.path.startswith(API)
        and answer.status >= 400
        and not answer.content_type.startswith("application/json")
    ]

    assert len(SEEN) >= 3
    assert leaks == []
    assert not_json == []
