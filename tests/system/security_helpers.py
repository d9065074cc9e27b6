"""What the security system tests (tests/system/test_security_*.py) share: requests made as each
role, the bodies they send, and every answer they get.

Each answer that comes through `send`, a `Caller`, a logged-in session or `raw_request` is kept
in `SEEN`; test_security_leaks.py reads them all for leaks, after every other test (its `last`
marker, see conftest.py).
"""

from __future__ import annotations

import http.client
import itertools
import json
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import requests

if TYPE_CHECKING:
    from tests.system.conftest import Service


API = "/sprocketFactory/v1"
TIMEOUT = 10

RUN = secrets.token_hex(3)
_serial = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix} {RUN}-{next(_serial)}"


def unique_time() -> int:
    """Unix seconds no other call of this run gives, a minute apart."""
    return 1_600_000_000 + next(_serial) * 60


def sprocket_body(**extra) -> dict:
    measures = {"teeth": 20, "pitch_diameter": 5, "outside_diameter": 6, "pitch": 1}
    return {"name": unique("Sprocket"), **measures, **extra}


def factory_body(**extra) -> dict:
    return {"name": unique("Factory"), "timezone": "UTC", "is_active": True, **extra}


def record_body(factory_id: int, **extra) -> dict:
    return {
        "factory_id": factory_id,
        "sprocket_production_actual": 10,
        "sprocket_production_goal": 12,
        "time": unique_time(),
        **extra,
    }


# --- every answer, kept for the leak check -------------------------------------------------


@dataclass
class Answer:
    method: str
    path: str
    status: int
    content_type: str
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    elapsed: float = 0.0


SEEN: list[Answer] = []
FORBIDDEN: set[str] = {"Traceback", 'File "/', "DATABASE_URL"}


def answer_of(response: requests.Response) -> Answer:
    return Answer(
        method=response.request.method,
        path=urlsplit(response.url).path,
        status=response.status_code,
        content_type=response.headers.get("Content-Type", ""),
        body=response.text,
        headers=dict(response.headers),
    )


def record(response: requests.Response, *args, **kwargs) -> None:
    SEEN.append(answer_of(response))


def send(method: str, url: str, *, timeout: float = TIMEOUT, **kwargs) -> requests.Response:
    """One request on a fresh connection and cookie jar, kept in SEEN."""
    return requests.request(method, url, timeout=timeout, hooks={"response": [record]}, **kwargs)


def raw_request(
    service: Service,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes = b"",
    *,
    direct: bool = False,
) -> Answer:
    """Exactly these bytes on a socket (a Content-Length with no body to match, chunking), to
    nginx or, `direct`, to gunicorn."""
    host, port = service.address(direct=direct)
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    started = time.monotonic()
    with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        reply = http.client.HTTPResponse(sock, method=method)
        reply.begin()
        payload = reply.read()
    answer = Answer(
        method=method,
        path=path,
        status=reply.status,
        content_type=reply.getheader("Content-Type", ""),
        body=payload.decode(errors="replace"),
        headers=dict(reply.getheaders()),
        elapsed=time.monotonic() - started,
    )
    SEEN.append(answer)
    return answer


def shell(service: Service, code: str) -> str:
    return service.manage("shell", "--verbosity", "0", "--command", code)


def user_with_password(service: Service, username: str, group: str) -> str:
    password = secrets.token_urlsafe(18)
    shell(
        service,
        "from django.contrib.auth.models import Group, User\n"
        f"user = User.objects.create_user({username!r}, password={password!r})\n"
        f"user.groups.add(Group.objects.get(name={group!r}))\n",
    )
    return password


def session_login(
    service: Service, username: str, password: str, next_path: str = API + "/sprockets"
) -> tuple[requests.Session, requests.Response]:
    """A browser's login through the browsable API's form: the session and the form's answer."""
    session = requests.Session()
    session.hooks["response"].append(record)
    login_url = service.url("/api-auth/login/")
    assert session.get(login_url, timeout=TIMEOUT).status_code == 200
    answer = session.post(
        login_url,
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "next": next_path,
        },
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    return session, answer


@dataclass
class Caller:
    """Requests under the API as one role: no credentials, a token, or a logged-in session
    that sends its CSRF token."""

    service: Service
    token: str | None = None
    session: requests.Session | None = None

    def __call__(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        url = self.service.url(API + path)
        if self.token is not None:
            headers.setdefault("Authorization", f"Token {self.token}")
        if self.session is None:
            return send(method, url, headers=headers, **kwargs)
        headers.setdefault("X-CSRFToken", self.session.cookies["csrftoken"])
        return self.session.request(method, url, headers=headers, timeout=TIMEOUT, **kwargs)

    def create(self, path: str, body: dict) -> dict:
        response = self("POST", path, json=body)
        assert response.status_code == 201, response.text
        return response.json()


def assert_json_error(response: requests.Response | Answer, status: int) -> dict:
    """The answer is `status` with a JSON body; its parsed body."""
    answer = answer_of(response) if isinstance(response, requests.Response) else response
    assert answer.status == status, answer.body[:500]
    assert answer.content_type.startswith("application/json"), answer.content_type
    return json.loads(answer.body)


# --- the objects tests point at ---------------------------------------------------------------


@dataclass
class World:
    manager: Caller
    factory_id: int
    other_factory_id: int
    sprocket_id: int
    record_id: int


def _new(world: World, path: str, body: dict) -> int:
    return world.manager.create(path, body)["id"]


def _window_of_one_record(world: World) -> str:
    at = unique_time()
    world.manager.create("/production", record_body(world.factory_id, time=at))
    return f"after={at}&before={at + 1}"


# What a path's placeholder stands for: the world's objects, or one made for this request
# with the manager's token (so that a write allowed to one role leaves the next role's alone).
PLACEHOLDERS: dict[str, Callable[[World], object]] = {
    "sprocket": lambda w: w.sprocket_id,
    "factory": lambda w: w.factory_id,
    "record": lambda w: w.record_id,
    "new_sprocket": lambda w: _new(w, "/sprockets", sprocket_body()),
    "new_factory": lambda w: _new(w, "/factories", factory_body()),
    "new_record": lambda w: _new(w, "/production", record_body(w.factory_id)),
    "window": _window_of_one_record,
}
