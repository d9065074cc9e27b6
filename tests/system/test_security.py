"""Security over real HTTP (DESIGN §4, §5): who may do what, tokens that expire or are
revoked, mass assignment, CSRF on session writes, body limits, hostile JSON, throttled
logins, and no traceback or setting in any answer with DEBUG off.

Every answer of this file is kept in `SEEN`; the last test reads them all for leaks.
"""

import http.client
import itertools
import json
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
import requests

from tests.system.conftest import PrivateRedis, Service, running_service

API = "/sprocketFactory/v1"
TIMEOUT = 10
API_MAX_BODY_BYTES = 1024 * 1024
ROLES = ("anonymous", "viewer", "operator", "manager", "session")
PRIVILEGES = {"is_staff": True, "is_superuser": True, "groups": [1], "user_permissions": [1]}
READ_ONLY = {
    "id": 987_654_321,
    "created_at": "2001-02-03T04:05:06Z",
    "updated_at": "2001-02-03T04:05:06Z",
}

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
    service: Service, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> Answer:
    """Exactly these bytes on a socket (a Content-Length with no body to match, chunking)."""
    host, port = service.env["GUNICORN_BIND"].rsplit(":", 1)
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as sock:
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


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def session_password(service: Service) -> str:
    return user_with_password(service, "security-session", "manager")


@pytest.fixture(scope="module")
def callers(service: Service, session_password: str) -> dict[str, Caller]:
    """anonymous, a token per role, and a session of a manager who logged in with a password."""
    session, login = session_login(service, "security-session", session_password)
    assert login.status_code == 302, login.text[:500]
    tokens = {
        role: Caller(service, token=service.token(role, username=f"security-{role}"))
        for role in ("viewer", "operator", "manager")
    }
    return {"anonymous": Caller(service), **tokens, "session": Caller(service, session=session)}


@dataclass
class World:
    manager: Caller
    factory_id: int
    other_factory_id: int
    sprocket_id: int
    record_id: int


@pytest.fixture(scope="module")
def world(callers: dict[str, Caller]) -> World:
    """A few objects of our own that reads and refused writes point at."""
    manager = callers["manager"]
    factory_id = manager.create("/factories", factory_body())["id"]
    return World(
        manager=manager,
        factory_id=factory_id,
        other_factory_id=manager.create("/factories", factory_body())["id"],
        sprocket_id=manager.create("/sprockets", sprocket_body())["id"],
        record_id=manager.create("/production", record_body(factory_id))["id"],
    )


@pytest.fixture(scope="module")
def strict_service(private_postgres) -> Iterator[Service]:
    """A service with low limits and a Redis of its own (so its throttle counts are its own)."""
    redis = PrivateRedis()
    redis.start()
    try:
        with running_service(
            private_postgres,
            redis,
            BULK_MAX_ROWS="10",
            BULK_MAX_BYTES="2048",
            LOGIN_THROTTLE_RATE="3/min",
        ) as running:
            FORBIDDEN.update(running.env[name] for name in ("SECRET_KEY", "DATABASE_URL"))
            yield running
    finally:
        redis.stop()


# --- 1. who may do what ------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Operation:
    """One request of the matrix: who may make it (anyone, login, operator, manager) and the
    status it gets when allowed."""

    name: str
    who: str
    ok: int
    method: str
    path: str
    body: Callable[[World], object] | None = None

    def prepare(self, world: World) -> tuple[str, dict]:
        values = {
            name: make(world)
            for name, make in PLACEHOLDERS.items()
            if "{" + name + "}" in self.path
        }
        kwargs = {} if self.body is None else {"json": self.body(world)}
        return self.path.format(**values), kwargs


OPERATIONS = [
    Operation("list-sprockets", "anyone", 200, "GET", "/sprockets"),
    Operation("read-sprocket", "anyone", 200, "GET", "/sprockets/{sprocket}"),
    Operation("list-factories", "anyone", 200, "GET", "/factories"),
    Operation("read-factory", "anyone", 200, "GET", "/factories/{factory}"),
    Operation("chart-data", "anyone", 200, "GET", "/factories/chart-data"),
    Operation("factory-chart-data", "anyone", 200, "GET", "/factories/{factory}/chart-data"),
    Operation("list-production", "anyone", 200, "GET", "/production"),
    Operation("factory-production", "anyone", 200, "GET", "/production/{factory}"),
    Operation("read-record", "anyone", 200, "GET", "/production/records/{record}"),
    Operation("summary", "anyone", 200, "GET", "/production/summary"),
    Operation("export-csv", "login", 200, "GET", "/production?format=csv"),
    Operation("export-factory-csv", "login", 200, "GET", "/production/{factory}?format=csv"),
    Operation("create-sprocket", "manager", 201, "POST", "/sprockets", lambda w: sprocket_body()),
    Operation(
        "replace-sprocket",
        "manager",
        200,
        "PUT",
        "/sprockets/{new_sprocket}",
        lambda w: sprocket_body(),
    ),
    Operation(
        "change-sprocket",
        "manager",
        200,
        "PATCH",
        "/sprockets/{new_sprocket}",
        lambda w: {"teeth": 30},
    ),
    Operation("delete-sprocket", "manager", 204, "DELETE", "/sprockets/{new_sprocket}"),
    Operation(
        "bulk-sprockets",
        "manager",
        201,
        "POST",
        "/sprockets/bulk",
        lambda w: [sprocket_body(), sprocket_body()],
    ),
    Operation("create-factory", "manager", 201, "POST", "/factories", lambda w: factory_body()),
    Operation(
        "replace-factory",
        "manager",
        200,
        "PUT",
        "/factories/{new_factory}",
        lambda w: factory_body(),
    ),
    Operation(
        "change-factory",
        "manager",
        200,
        "PATCH",
        "/factories/{new_factory}",
        lambda w: {"is_active": False},
    ),
    Operation("delete-factory", "manager", 204, "DELETE", "/factories/{new_factory}"),
    Operation(
        "bulk-factories",
        "manager",
        201,
        "POST",
        "/factories/bulk",
        lambda w: {"items": [{"name": unique("Factory")}]},
    ),
    Operation(
        "create-record", "operator", 201, "POST", "/production", lambda w: record_body(w.factory_id)
    ),
    Operation(
        "replace-record",
        "operator",
        200,
        "PUT",
        "/production/records/{new_record}",
        lambda w: record_body(w.factory_id),
    ),
    Operation(
        "change-record",
        "operator",
        200,
        "PATCH",
        "/production/records/{new_record}",
        lambda w: {"sprocket_production_actual": 11},
    ),
    Operation(
        "bulk-production",
        "operator",
        201,
        "POST",
        "/production/bulk",
        lambda w: [record_body(w.factory_id)],
    ),
    Operation("delete-record", "manager", 204, "DELETE", "/production/records/{new_record}"),
    Operation("window-delete", "manager", 200, "DELETE", "/production/{factory}?{window}"),
]

ALLOWED = {
    "anyone": set(ROLES),
    "login": {"viewer", "operator", "manager", "session"},
    "operator": {"operator", "manager", "session"},
    "manager": {"manager", "session"},
}


def expected_status(operation: Operation, role: str) -> int:
    if role in ALLOWED[operation.who]:
        return operation.ok
    return 401 if role == "anonymous" else 403


MATRIX = [
    pytest.param(
        operation,
        role,
        id=f"{operation.name}-{role}",
    )
    for operation in OPERATIONS
    for role in ROLES
]


@pytest.mark.parametrize(("operation", "role"), MATRIX)
def test_each_role_may_do_what_design_section_5_says(
    callers: dict[str, Caller], world: World, operation: Operation, role: str
):
    path, kwargs = operation.prepare(world)

    response = callers[role](operation.method, path, **kwargs)

    status = expected_status(operation, role)
    assert response.status_code == status, response.text[:500]
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Token")
    if status >= 400:
        assert "detail" in assert_json_error(response, status)
    elif operation.who == "login":
        assert response.headers["Content-Type"].startswith("text/csv")
    if operation.name == "window-delete" and status == 200:
        assert response.json() == {"deleted": 1}


def test_a_refused_delete_leaves_the_object_in_place(callers: dict[str, Caller], world: World):
    sprocket_id = PLACEHOLDERS["new_sprocket"](world)

    refusals = [
        callers[role]("DELETE", f"/sprockets/{sprocket_id}")
        for role in ("anonymous", "viewer", "operator")
    ]

    assert [response.status_code for response in refusals] == [401, 403, 403]
    assert world.manager("GET", f"/sprockets/{sprocket_id}").status_code == 200


def test_an_operator_may_not_create_factories_through_production_bulk(
    callers: dict[str, Caller], world: World
):
    name = unique("Factory")
    document = {
        "factories": [
            {
                "factory": {
                    "name": name,
                    "chart_data": {
                        "sprocket_production_actual": [1],
                        "sprocket_production_goal": [2],
                        "time": [unique_time()],
                    },
                }
            }
        ]
    }

    response = callers["operator"]("POST", "/production/bulk", json=document)

    assert_json_error(response, 403)
    assert world.manager("GET", "/factories", params={"contains": name}).json() == []


# --- 2. tokens that expire or are revoked -----------------------------------------------------

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


# --- 3. mass assignment ------------------------------------------------------------------------

RESOURCES = {
    "sprockets": ("/sprockets", sprocket_body),
    "factories": ("/factories", factory_body),
}


@pytest.mark.parametrize("resource", RESOURCES)
def test_read_only_fields_sent_on_create_are_ignored(world: World, resource: str):
    path, body = RESOURCES[resource]

    created = world.manager.create(path, body(**READ_ONLY))

    stored = world.manager("GET", f"{path}/{created['id']}").json()
    assert stored["id"] != READ_ONLY["id"]
    assert stored["created_at"] != READ_ONLY["created_at"]
    assert stored["updated_at"] != READ_ONLY["updated_at"]
    assert world.manager("GET", f"{path}/{READ_ONLY['id']}").status_code == 404


def test_an_id_sent_on_a_record_create_is_ignored(world: World):
    created = world.manager.create("/production", record_body(world.factory_id, id=READ_ONLY["id"]))

    assert created["id"] != READ_ONLY["id"]
    assert world.manager("GET", f"/production/records/{READ_ONLY['id']}").status_code == 404


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("resource", RESOURCES)
def test_read_only_fields_sent_on_update_are_ignored(world: World, resource: str, method: str):
    path, body = RESOURCES[resource]
    before = world.manager.create(path, body())
    changes = body() if method == "PUT" else {}

    response = world.manager(method, f"{path}/{before['id']}", json={**changes, **READ_ONLY})

    assert response.status_code == 200, response.text
    stored = world.manager("GET", f"{path}/{before['id']}").json()
    assert stored["id"] == before["id"]
    assert stored["created_at"] == before["created_at"]
    assert stored["updated_at"] != READ_ONLY["updated_at"]
    assert world.manager("GET", f"{path}/{READ_ONLY['id']}").status_code == 404


def test_an_id_sent_on_a_record_update_is_ignored(world: World):
    record_id = PLACEHOLDERS["new_record"](world)

    response = world.manager(
        "PATCH", f"/production/records/{record_id}", json={"id": READ_ONLY["id"]}
    )

    assert response.status_code == 200
    assert response.json()["id"] == record_id


UNKNOWN_FIELD_WRITES = [
    ("POST", "/sprockets", lambda w: sprocket_body(colour="red")),
    ("POST", "/factories", lambda w: factory_body(colour="red")),
    ("POST", "/production", lambda w: record_body(w.factory_id, colour="red")),
    ("PATCH", "/sprockets/{sprocket}", lambda w: {"colour": "red"}),
    ("PATCH", "/factories/{factory}", lambda w: {"colour": "red"}),
    ("PATCH", "/production/records/{record}", lambda w: {"colour": "red"}),
    ("PATCH", "/production/records/{record}", lambda w: {"factory": w.other_factory_id}),
]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    UNKNOWN_FIELD_WRITES,
    ids=[
        f"{method}-{path}-{index}" for index, (method, path, _) in enumerate(UNKNOWN_FIELD_WRITES)
    ],
)
def test_an_unknown_field_is_a_400_naming_it(world: World, method: str, path: str, body):
    sent = body(world)
    (unknown,) = set(sent) - {
        "id",
        "name",
        "teeth",
        "pitch_diameter",
        "outside_diameter",
        "pitch",
        "timezone",
        "is_active",
        "factory_id",
        "sprocket_production_actual",
        "sprocket_production_goal",
        "time",
    }
    target = path.format(
        sprocket=world.sprocket_id, factory=world.factory_id, record=world.record_id
    )

    response = world.manager(method, target, json=sent)

    assert unknown in assert_json_error(response, 400)


def test_a_record_moves_to_another_factory_through_its_writable_factory_id(world: World):
    record_id = PLACEHOLDERS["new_record"](world)

    response = world.manager(
        "PATCH", f"/production/records/{record_id}", json={"factory_id": world.other_factory_id}
    )

    assert response.status_code == 200
    assert response.json()["factory_id"] == world.other_factory_id
    moved_to = world.manager("GET", f"/production/{world.other_factory_id}").json()
    left = world.manager("GET", f"/production/{world.factory_id}").json()
    assert record_id in [row["id"] for row in moved_to]
    assert record_id not in [row["id"] for row in left]


def test_a_record_cannot_move_to_a_factory_that_does_not_exist(world: World):
    response = world.manager(
        "PATCH", f"/production/records/{world.record_id}", json={"factory_id": 999_999_999}
    )

    assert "factory_id" in assert_json_error(response, 400)


PRIVILEGED_WRITES = [
    ("POST", "/sprockets", lambda w: sprocket_body(**PRIVILEGES)),
    ("PATCH", "/sprockets/{sprocket}", lambda w: PRIVILEGES),
    ("POST", "/factories", lambda w: factory_body(**PRIVILEGES)),
    ("PATCH", "/factories/{factory}", lambda w: PRIVILEGES),
    ("POST", "/production", lambda w: record_body(w.factory_id, **PRIVILEGES)),
    ("PATCH", "/production/records/{record}", lambda w: PRIVILEGES),
    ("POST", "/sprockets/bulk", lambda w: [sprocket_body(), sprocket_body(**PRIVILEGES)]),
    ("POST", "/factories/bulk", lambda w: {"items": [factory_body(**PRIVILEGES)]}),
    ("POST", "/production/bulk", lambda w: [record_body(w.factory_id, **PRIVILEGES)]),
]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    PRIVILEGED_WRITES,
    ids=[f"{method}-{path}" for method, path, _ in PRIVILEGED_WRITES],
)
def test_user_privilege_fields_are_a_400_on_every_write(world: World, method: str, path: str, body):
    target = path.format(
        sprocket=world.sprocket_id, factory=world.factory_id, record=world.record_id
    )

    response = world.manager(method, target, json=body(world))

    assert_json_error(response, 400)
    for name in PRIVILEGES:
        assert name in response.text


def test_user_privilege_fields_in_a_chart_data_document_are_a_400(world: World):
    document = {
        "factories": [
            {
                "factory": {
                    "id": world.factory_id,
                    **PRIVILEGES,
                    "chart_data": {
                        "sprocket_production_actual": [1],
                        "sprocket_production_goal": [2],
                        "time": [unique_time()],
                    },
                }
            }
        ]
    }

    response = world.manager("POST", "/production/bulk", json=document)

    assert_json_error(response, 400)
    assert "is_staff" in response.text


# --- 4. CSRF on session writes ------------------------------------------------------------------


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


# --- 5. body limits ----------------------------------------------------------------------------


def test_a_content_length_over_api_max_body_bytes_is_a_413_before_the_body_is_read(
    service: Service, callers: dict[str, Caller]
):
    answer = raw_request(
        service,
        "POST",
        API + "/factories",
        {
            "Authorization": f"Token {callers['manager'].token}",
            "Content-Type": "application/json",
            "Content-Length": str(API_MAX_BODY_BYTES + 1),
        },
    )

    assert_json_error(answer, 413)
    assert answer.elapsed < 3


@pytest.mark.parametrize("resource", ["sprockets", "factories", "production"])
def test_a_bulk_content_length_over_bulk_max_bytes_is_a_413_before_the_body_is_read(
    service: Service, callers: dict[str, Caller], resource: str
):
    # Not one byte of the announced 10 GiB is sent: an answer at all means none was awaited.
    answer = raw_request(
        service,
        "POST",
        f"{API}/{resource}/bulk",
        {
            "Authorization": f"Token {callers['manager'].token}",
            "Content-Type": "application/json",
            "Content-Length": str(10 * 1024**3),
        },
    )

    assert "limit" in assert_json_error(answer, 413)["detail"]
    assert answer.elapsed < 3


@pytest.mark.parametrize("path", ["/production/bulk", "/sprockets/bulk", "/factories"])
def test_a_chunked_body_is_a_411(service: Service, callers: dict[str, Caller], path: str):
    answer = raw_request(
        service,
        "POST",
        API + path,
        {
            "Authorization": f"Token {callers['manager'].token}",
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
        body=b"2\r\n[]\r\n0\r\n\r\n",
    )

    assert "Content-Length" in assert_json_error(answer, 411)["detail"]


@pytest.fixture(scope="module")
def strict_manager(strict_service: Service) -> Caller:
    return Caller(strict_service, token=strict_service.token("manager", "security-manager"))


def test_more_bulk_rows_than_bulk_max_rows_is_a_413_and_writes_nothing(strict_manager: Caller):
    factory_id = strict_manager.create("/factories", factory_body())["id"]
    rows = [record_body(factory_id) for _ in range(11)]

    response = strict_manager("POST", "/production/bulk", json=rows)

    assert "BULK_MAX_ROWS" in assert_json_error(response, 413)["detail"]
    assert strict_manager("GET", f"/production/{factory_id}").json() == []


def test_more_chart_data_points_than_bulk_max_rows_is_a_413(strict_manager: Caller):
    times = [unique_time() for _ in range(11)]
    document = {
        "factories": [
            {
                "factory": {
                    "chart_data": {
                        "sprocket_production_actual": [1] * 11,
                        "sprocket_production_goal": [2] * 11,
                        "time": times,
                    }
                }
            }
        ]
    }

    response = strict_manager("POST", "/production/bulk", json=document)

    assert "BULK_MAX_ROWS" in assert_json_error(response, 413)["detail"]


def test_more_catalogue_bulk_rows_than_bulk_max_rows_is_a_413(strict_manager: Caller):
    names = [{"name": unique("Factory")} for _ in range(11)]

    response = strict_manager("POST", "/factories/bulk", json=names)

    assert "BULK_MAX_ROWS" in assert_json_error(response, 413)["detail"]
    first = strict_manager("GET", "/factories", params={"contains": names[0]["name"]})
    assert first.json() == []


def test_a_bulk_body_over_bulk_max_bytes_is_a_413(strict_manager: Caller):
    rows = [sprocket_body(name=unique("Sprocket " + "x" * 150)) for _ in range(10)]
    body = json.dumps(rows).encode()
    assert len(body) > 2048

    response = strict_manager(
        "POST", "/sprockets/bulk", data=body, headers={"Content-Type": "application/json"}
    )

    assert_json_error(response, 413)
    assert strict_manager("GET", "/sprockets").json() == []


# --- 6. hostile JSON ---------------------------------------------------------------------------


@pytest.mark.parametrize("opening", ["[", '{"a":'], ids=["arrays", "objects"])
@pytest.mark.parametrize("path", ["/factories", "/production/bulk"])
def test_json_nested_a_hundred_thousand_deep_is_a_400(
    service: Service, callers: dict[str, Caller], path: str, opening: str
):
    response = callers["manager"](
        "POST", path, data=opening * 100_000, headers={"Content-Type": "application/json"}
    )

    assert "JSON parse error" in assert_json_error(response, 400)["detail"]
    assert send("GET", service.url("/healthz")).status_code == 200


def test_a_900_kb_name_is_a_400_and_the_service_answers_on(
    service: Service, callers: dict[str, Caller]
):
    response = callers["manager"]("POST", "/factories", json={"name": "x" * 900_000})

    assert "name" in assert_json_error(response, 400)
    assert callers["anonymous"]("GET", "/factories").status_code == 200


@pytest.mark.parametrize(
    "body",
    [b'{"teeth": ' + b"9" * 100_000 + b"}", b'{"teeth": 1e400}', b"\xff\xfe{}", b'{"name": '],
    ids=["huge-integer", "infinite-float", "not-utf8", "truncated"],
)
def test_malformed_json_is_a_400(callers: dict[str, Caller], body: bytes):
    response = callers["manager"](
        "POST", "/sprockets", data=body, headers={"Content-Type": "application/json"}
    )

    assert_json_error(response, 400)


def test_a_nul_in_a_factory_name_of_a_production_document_is_a_400(world: World):
    document = {
        "factories": [
            {
                "factory": {
                    "name": "Bad\u0000Name",
                    "chart_data": {
                        "sprocket_production_actual": [1],
                        "sprocket_production_goal": [2],
                        "time": [unique_time()],
                    },
                }
            }
        ]
    }

    response = world.manager("POST", "/production/bulk", json=document)

    assert "name" in json.dumps(assert_json_error(response, 400))
    assert world.manager("GET", "/factories", params={"contains": "Name"}).json() == []


# --- 7. bad requests answer a JSON 4xx, and nothing leaks ---------------------------------------

BAD_REQUESTS = [
    # (id, role, method, path, request kwargs, status, field named in the answer)
    ("unknown-path", "anonymous", "GET", "/nothing-here", {}, 404, None),
    ("unknown-subpath", "manager", "POST", "/sprockets/1/explode", {"json": {}}, 404, None),
    ("word-id", "anonymous", "GET", "/sprockets/abc", {}, 404, None),
    ("huge-id", "anonymous", "GET", "/sprockets/99999999999999999999999", {}, 404, None),
    ("huge-factory", "anonymous", "GET", "/production/99999999999999999999999", {}, 404, None),
    ("huge-record", "manager", "DELETE", "/production/records/99999999999999999999", {}, 404, None),
    ("put-list", "manager", "PUT", "/sprockets", {"json": {}}, 405, None),
    ("delete-summary", "manager", "DELETE", "/production/summary", {}, 405, None),
    ("post-chart-data", "manager", "POST", "/factories/chart-data", {"json": {}}, 405, None),
    ("get-token", "anonymous", "GET", "/auth/token", {}, 405, None),
    (
        "text-plain",
        "manager",
        "POST",
        "/factories",
        {"data": "name=x", "headers": {"Content-Type": "text/plain"}},
        415,
        None,
    ),
    ("bad-after", "anonymous", "GET", "/production?after=yesterday", {}, 400, "after"),
    ("bad-before", "anonymous", "GET", "/production?before=99999999999999", {}, 400, "before"),
    ("bad-teeth", "anonymous", "GET", "/sprockets?teeth=many", {}, 400, "teeth"),
    ("bad-limit", "anonymous", "GET", "/production?limit=0", {}, 400, "limit"),
    ("bad-ordering", "anonymous", "GET", "/factories?ordering=password", {}, 400, "ordering"),
    ("bad-cursor", "anonymous", "GET", "/production?cursor=%00%ff", {}, 400, "cursor"),
    ("short-contains", "anonymous", "GET", "/factories?contains=ab", {}, 400, "contains"),
    ("nul-contains", "anonymous", "GET", "/factories?contains=%00%00%00", {}, 400, "contains"),
    ("bad-factory-id", "anonymous", "GET", "/production?factory_id=one", {}, 400, "factory_id"),
    ("bad-is-active", "anonymous", "GET", "/factories?is_active=maybe", {}, 400, "is_active"),
    ("bad-bucket", "anonymous", "GET", "/production/summary?bucket=fortnight", {}, 400, "bucket"),
    ("bad-tz", "anonymous", "GET", "/production/summary?tz=Atlantis/Capital", {}, 400, "tz"),
    (
        "bad-on-conflict",
        "manager",
        "POST",
        "/production/bulk?on_conflict=overwrite",
        {"json": []},
        400,
        "on_conflict",
    ),
    ("window-without-bounds", "manager", "DELETE", "/production/{factory}", {}, 400, "after"),
    ("csv-bad-window", "viewer", "GET", "/production?format=csv&after=soon", {}, 400, "after"),
    ("empty-bulk", "manager", "POST", "/factories/bulk", {"json": []}, 400, None),
    ("bulk-wrong-shape", "manager", "POST", "/sprockets/bulk", {"json": {"rows": []}}, 400, None),
]


@pytest.mark.parametrize(
    ("role", "method", "path", "kwargs", "status", "named"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_REQUESTS],
)
def test_a_bad_request_is_a_json_4xx(
    callers: dict[str, Caller], world: World, role, method, path, kwargs, status, named
):
    response = callers[role](method, path.format(factory=world.factory_id), **kwargs)

    body = assert_json_error(response, status)
    if named is not None:
        assert named in body


@pytest.mark.parametrize("role", ["viewer", "manager"])
@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/sprockets/bulk"), ("PATCH", "/factories/bulk"), ("DELETE", "/production/bulk")],
)
def test_a_method_a_bulk_endpoint_does_not_have_is_a_405(
    callers: dict[str, Caller], method: str, path: str, role: str
):
    response = callers[role](method, path, json=[] if method != "DELETE" else None)

    assert_json_error(response, 405)


@pytest.mark.parametrize("path", [API + "/sprockets", "/admin/login/", "/nowhere"])
def test_a_host_not_in_allowed_hosts_is_a_400(service: Service, path: str):
    response = send("GET", service.url(path), headers={"Host": "evil.example"})

    assert response.status_code == 400
    if path.startswith(API):
        assert_json_error(response, 400)


def test_an_unknown_path_outside_the_api_is_a_404(service: Service):
    assert send("GET", service.url("/wp-login.php")).status_code == 404


# --- 8. login throttling -----------------------------------------------------------------------


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


# --- the leak check: keep it last ----------------------------------------------------------------


def test_no_answer_of_this_file_carries_a_traceback_or_a_setting(service: Service):
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
