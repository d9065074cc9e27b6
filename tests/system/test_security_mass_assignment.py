"""Mass assignment over real HTTP: read-only fields are ignored, unknown fields and user privilege
fields are a 400 naming them, on every write and bulk body."""

import pytest

from tests.system.security_helpers import (
    PLACEHOLDERS,
    World,
    assert_json_error,
    factory_body,
    record_body,
    sprocket_body,
    unique_time,
)

PRIVILEGES = {"is_staff": True, "is_superuser": True, "groups": [1], "user_permissions": [1]}
READ_ONLY = {
    "id": 987_654_321,
    "created_at": "2001-02-03T04:05:06Z",
    "updated_at": "2001-02-03T04:05:06Z",
}


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
