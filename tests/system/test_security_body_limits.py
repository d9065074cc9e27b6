"""Body limits over real HTTP (DESIGN §4): API_MAX_BODY_BYTES, BULK_MAX_BYTES and BULK_MAX_ROWS are
refused with a 413 (by Content-Length before the body is read), a chunked body with a 411 —
by nginx in front, and by the application when gunicorn is reached directly."""

import json

import pytest

from tests.system.conftest import Service
from tests.system.security_helpers import (
    API,
    Caller,
    assert_json_error,
    factory_body,
    raw_request,
    record_body,
    sprocket_body,
    unique,
    unique_time,
)

API_MAX_BODY_BYTES = 1024 * 1024
BEHIND_NGINX_AND_ALONE = pytest.mark.parametrize("direct", [False, True], ids=["nginx", "gunicorn"])


@BEHIND_NGINX_AND_ALONE
def test_a_content_length_over_api_max_body_bytes_is_a_413_before_the_body_is_read(
    service: Service, callers: dict[str, Caller], direct: bool
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
        direct=direct,
    )

    assert_json_error(answer, 413)
    assert answer.elapsed < 3


@BEHIND_NGINX_AND_ALONE
@pytest.mark.parametrize("resource", ["sprockets", "factories", "production"])
def test_a_bulk_content_length_over_bulk_max_bytes_is_a_413_before_the_body_is_read(
    service: Service, callers: dict[str, Caller], resource: str, direct: bool
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
        direct=direct,
    )

    assert "limit" in assert_json_error(answer, 413)["detail"]
    assert answer.elapsed < 3


@BEHIND_NGINX_AND_ALONE
@pytest.mark.parametrize("path", ["/production/bulk", "/sprockets/bulk", "/factories"])
def test_a_chunked_body_is_a_411(
    service: Service, callers: dict[str, Caller], path: str, direct: bool
):
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
        direct=direct,
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
