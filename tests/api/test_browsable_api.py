"""The browsable API reads well: indented JSON, Markdown descriptions, plural names and
breadcrumbs that say where one is, no one-click form for a destructive window delete."""

import re

import pytest

from production.tests.factories import ProductionRecordFactory

API = "/sprocketFactory/v1"
HTML = {"HTTP_ACCEPT": "text/html"}

pytestmark = pytest.mark.django_db


@pytest.fixture
def record():
    return ProductionRecordFactory()


@pytest.fixture
def manager_session(client, user_in_role):
    client.force_login(user_in_role("manager"))
    return client


def page(client, path: str) -> str:
    response = client.get(f"{API}/{path}", **HTML)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


def breadcrumbs(html: str) -> list[str]:
    items = re.search(r'<ul class="breadcrumb">(.*?)</ul>', html, flags=re.DOTALL).group(1)
    return [
        re.sub(r"<[^>]+>", "", item).strip()
        for item in re.findall(r"<li.*?</li>", items, re.DOTALL)
    ]


def test_the_browsable_api_shows_the_json_indented(client, record):
    html = page(client, "production")

    assert "[\n  {\n    &quot;id&quot;: " in html


def test_the_json_api_stays_compact(client, record):
    response = client.get(f"{API}/production")

    assert b"\n" not in response.content


def test_view_descriptions_are_rendered_as_markdown(client, record):
    html = page(client, f"production/{record.factory_id}")

    assert "<code>/production/{factory_id}</code>" in html
    assert "`/production/{factory_id}`" not in html


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("sprockets", ["Sprockets"]),
        ("factories", ["Factories"]),
        ("production", ["Production records"]),
    ],
)
def test_a_list_is_named_in_the_plural(client, path, expected):
    assert breadcrumbs(page(client, path))[-1:] == expected


def test_one_record_s_breadcrumbs_lead_from_the_list_to_the_record(client, record):
    crumbs = breadcrumbs(page(client, f"production/records/{record.pk}"))

    assert crumbs[-2:] == ["Production records", "Production record"]


def test_one_factory_s_records_say_so_in_their_title(client, record):
    html = page(client, f"production/{record.factory_id}")

    assert breadcrumbs(html)[-1] == "Production records of one factory"


def test_a_factory_s_records_offer_no_one_click_delete_even_to_a_manager(manager_session, record):
    html = page(manager_session, f"production/{record.factory_id}")

    assert 'data-target="#deleteModal"' not in html


def test_one_record_still_offers_its_delete_to_a_manager(manager_session, record):
    html = page(manager_session, f"production/records/{record.pk}")

    assert 'data-target="#deleteModal"' in html


@pytest.mark.parametrize(
    "path", ["production", "production/records/{record}", "production/{factory}"]
)
def test_forms_cost_the_same_queries_however_many_factories_there_are(
    manager_session, record, path
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inventory.models import Factory

    url = path.format(record=record.pk, factory=record.factory_id)
    with CaptureQueriesContext(connection) as few:
        html = page(manager_session, url)
    Factory.objects.bulk_create(Factory(name=f"Plant no. {n}") for n in range(2000))
    with CaptureQueriesContext(connection) as many:
        page(manager_session, url)

    # A factory is chosen by its id: no dropdown of every factory in any form.
    assert len(many.captured_queries) <= len(few.captured_queries)
    assert "Plant no. 0<" not in page(manager_session, url)
    assert "<form" in html
