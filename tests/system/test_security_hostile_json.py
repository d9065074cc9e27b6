"""Hostile JSON over real HTTP: deep nesting, huge numbers, bad encodings and NULs are a 400, and
the service answers on."""

import json

import pytest

from tests.system.conftest import Service
from tests.system.security_helpers import Caller, World, assert_json_error, send, unique_time


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
