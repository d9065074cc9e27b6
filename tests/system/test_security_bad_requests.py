"""Bad requests over real HTTP answer a JSON 4xx naming what was wrong: unknown paths and methods,
bad query parameters, foreign hosts."""

import pytest

from tests.system.conftest import Service
from tests.system.security_helpers import API, Caller, World, assert_json_error, send

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
