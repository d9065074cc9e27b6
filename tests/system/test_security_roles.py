"""Who may do what over real HTTP (DESIGN §5): every operation as anonymous, a viewer, an operator,
a manager (by token) and a manager's browser session."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.system.security_helpers import (
    PLACEHOLDERS,
    Caller,
    World,
    assert_json_error,
    factory_body,
    record_body,
    sprocket_body,
    unique,
    unique_time,
)

ROLES = ("anonymous", "viewer", "operator", "manager", "session")


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
