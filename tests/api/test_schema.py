"""The OpenAPI 3 schema and its two viewers, Swagger UI and Redoc, served without any CDN.

Requests are made with secure=True: with DATABASE_URL set (and DEBUG off) SECURE_SSL_REDIRECT
sends plain HTTP to HTTPS, as in production.
"""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import orjson
import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from rest_framework.test import APIClient

API = "/sprocketFactory/v1"
SCHEMA_URL = f"{API}/schema"

DOCUMENTED_PATHS = [
    "/sprockets",
    "/sprockets/{id}",
    "/factories",
    "/factories/{id}",
    "/factories/chart-data",
    "/factories/{id}/chart-data",
    "/production",
    "/production/{factory_id}",
    "/production/records/{id}",
    "/auth/token",
    "/auth/logout",
]
LIST_PATHS = ["/sprockets", "/factories", "/production", "/production/{factory_id}"]
DOCS_PAGES = ["docs", "redoc"]


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker) -> dict:
    """The JSON schema, fetched once for the module's tests that only read it."""
    with django_db_blocker.unblock():
        response = APIClient().get(SCHEMA_URL, {"format": "json"}, secure=True)
    assert response.status_code == 200, response.content
    return orjson.loads(response.content)


def operation(schema: dict, path: str, method: str) -> dict:
    """The operation at `path` (given without the API prefix; a trailing slash is ignored)."""
    paths = {key.rstrip("/"): item for key, item in schema["paths"].items()}
    return paths[API + path][method]


class AssetCollector(HTMLParser):
    """Every `<script src>` and `<link href>` of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        wanted = {"script": "src", "link": "href"}.get(tag)
        self.urls.extend(value for name, value in attrs if name == wanted and value)


def page_assets(client, page: str) -> list[str]:
    response = client.get(f"{API}/{page}", secure=True)
    collector = AssetCollector()
    collector.feed(response.content.decode())
    return collector.urls


def is_same_host(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc


def test_schema_is_served_as_openapi_3_json(client, db):
    response = client.get(SCHEMA_URL, {"format": "json"}, secure=True)

    assert response.status_code == 200
    assert "json" in response["Content-Type"]
    assert orjson.loads(response.content)["openapi"].startswith("3.")


def test_schema_is_served_as_openapi_3_yaml_by_default(client, db):
    response = client.get(SCHEMA_URL, secure=True)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi;")
    assert yaml.safe_load(response.content)["openapi"].startswith("3.")


@pytest.mark.parametrize("path", DOCUMENTED_PATHS)
def test_schema_lists_the_path(schema, path):
    documented = {key.rstrip("/") for key in schema["paths"]}

    assert API + path in documented


@pytest.mark.parametrize("path", LIST_PATHS)
def test_list_operation_documents_limit_cursor_and_ordering(schema, path):
    parameters = operation(schema, path, "get")["parameters"]

    query = {p["name"] for p in parameters if p["in"] == "query"}
    assert {"limit", "cursor", "ordering"} <= query


@pytest.mark.parametrize("path", LIST_PATHS)
def test_list_operation_documents_the_link_header(schema, path):
    headers = operation(schema, path, "get")["responses"]["200"].get("headers", {})

    assert "Link" in headers


@pytest.mark.parametrize("path", ["/sprockets/{id}", "/production/records/{id}"])
def test_a_single_object_operation_documents_no_link_header(schema, path):
    response = operation(schema, path, "get")["responses"]["200"]

    assert "Link" not in response.get("headers", {})


def test_token_endpoint_documents_its_token_response(schema):
    response = operation(schema, "/auth/token", "post")["responses"]["200"]

    ref = response["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(component["properties"]) == {"token", "expiry"}


@pytest.mark.parametrize(("path", "method"), [("/sprockets", "post"), ("/auth/logout", "post")])
def test_operations_document_the_token_scheme(schema, path, method):
    assert {"knoxApiToken": []} in operation(schema, path, method)["security"]
    assert schema["components"]["securitySchemes"]["knoxApiToken"]["name"] == "Authorization"


def test_schema_generates_and_validates_without_warnings(db, tmp_path):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    assert yaml.safe_load(target.read_text())["openapi"].startswith("3.")


@pytest.mark.parametrize("page", DOCS_PAGES)
def test_docs_page_is_html(client, db, page):
    response = client.get(f"{API}/{page}", secure=True)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "page",
    ["docs", "redoc"],
)
def test_docs_page_loads_scripts_and_styles_only_from_this_host(client, db, page):
    assets = page_assets(client, page)

    assert assets
    assert [url for url in assets if not is_same_host(url)] == []


@pytest.mark.parametrize("page", DOCS_PAGES)
def test_docs_page_refers_only_to_static_files_that_exist(client, db, page):
    static_prefix = "/" + settings.STATIC_URL.lstrip("/")
    local = [urlsplit(url).path for url in page_assets(client, page) if is_same_host(url)]

    assert local
    assert all(path.startswith(static_prefix) for path in local), local
    missing = [path for path in local if not finders.find(path.removeprefix(static_prefix))]
    assert missing == []
