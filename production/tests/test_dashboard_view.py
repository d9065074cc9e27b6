"""The dashboard page as the server renders it: which factories it offers and selects, which
buckets, what it says about ids it cannot show, and the data its script reads."""

import json
from pathlib import Path

import pytest
from django.urls import reverse

from inventory.tests.factories import FactoryFactory
from production.selectors import BUCKETS

DASHBOARD = reverse("dashboard")


def factories_given(response) -> list[dict]:
    return json.loads(
        response.content.decode()
        .split('id="dashboard-factories" type="application/json">')[1]
        .split("</script>")[0]
    )


def test_the_bucket_choice_offers_every_bucket_with_auto_selected(client, db):
    response = client.get(DASHBOARD)

    page = response.content.decode()
    assert BUCKETS[0] == "auto"
    assert list(response.context["buckets"]) == list(BUCKETS)
    assert '<option value="auto" selected>auto</option>' in page
    for bucket in ("minute", "hour", "day", "week", "month"):
        assert f'<option value="{bucket}">{bucket}</option>' in page


def test_the_first_six_active_factories_are_selected_by_default(client, db):
    plants = [FactoryFactory() for _ in range(8)]

    response = client.get(DASHBOARD)

    assert response.context["selected"] == [plant.pk for plant in plants[:6]]


def test_archived_factories_are_not_offered_unless_asked_for(client, db):
    FactoryFactory(name="Plant Open")
    FactoryFactory(name="Plant Closed", is_active=False)

    response = client.get(DASHBOARD)

    assert [f["name"] for f in factories_given(response)] == ["Plant Open"]


def test_an_archived_factory_asked_for_by_id_is_offered_selected_and_marked(client, db):
    FactoryFactory(name="Plant Open")
    closed = FactoryFactory(name="Plant Closed", is_active=False)

    response = client.get(DASHBOARD, {"factory_id": closed.pk})

    page = response.content.decode()
    assert response.context["selected"] == [closed.pk]
    assert f'<option value="{closed.pk}" selected>Plant Closed (archived)</option>' in page
    assert {"id": closed.pk, "is_active": False}.items() <= next(
        f for f in factories_given(response) if f["id"] == closed.pk
    ).items()


def test_each_factorys_time_zone_is_given_to_the_page(client, db):
    plant = FactoryFactory(timezone="Asia/Kolkata")

    response = client.get(DASHBOARD)

    assert factories_given(response) == [
        {"id": plant.pk, "name": plant.name, "timezone": "Asia/Kolkata", "is_active": True}
    ]


@pytest.mark.parametrize("value", ["999", "abc", "²"])
def test_a_factory_id_that_names_no_factory_is_reported_on_the_page(client, db, value):
    plant = FactoryFactory()

    response = client.get(f"{DASHBOARD}?factory_id={plant.pk}&factory_id={value}")

    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["unknown_factory_ids"] == [value]
    assert response.context["selected"] == [plant.pk]
    assert 'id="dashboard-unknown"' in page
    assert f"No factory with id {value}" in page


def test_a_page_asked_only_for_unknown_factories_selects_none(client, db):
    FactoryFactory()

    response = client.get(DASHBOARD, {"factory_id": "999"})

    assert response.context["selected"] == []


def test_a_page_with_every_factory_known_reports_nothing(client, db):
    plant = FactoryFactory()

    response = client.get(DASHBOARD, {"factory_id": plant.pk})

    assert 'id="dashboard-unknown"' not in response.content.decode()


def test_the_page_has_a_live_status_and_the_sprocket_favicon(client, db):
    page = client.get(DASHBOARD).content.decode()

    assert 'id="live-status"' in page
    assert 'data-live-state="connecting"' in page
    assert '<link rel="icon" type="image/svg+xml" href="/static/production/favicon.svg">' in page


def test_the_favicon_is_served(client, db):
    from django.contrib.staticfiles import finders

    path = finders.find("production/favicon.svg")

    assert path is not None
    assert "<svg" in Path(path).read_text()


def test_favicon_ico_is_not_a_404(client, db):
    response = client.get("/favicon.ico")

    assert response.status_code in (200, 301, 302)
    if response.status_code != 200:
        assert response["Location"].endswith("production/favicon.svg")


def test_the_dashboard_asks_for_a_login_when_anonymous_reads_are_off(client, db, settings):
    settings.ANONYMOUS_READ = False

    response = client.get(DASHBOARD)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
