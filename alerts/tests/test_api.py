"""`/alerts/rules` (CRUD: managers write, every role reads, never anonymously; the secret is
write-only) and `/alerts` (read only, filtered by factory, rule, state and time)."""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from alerts.models import Alert, AlertRule, AlertState
from alerts.tests.factories import AlertRuleFactory
from inventory.tests.factories import FactoryFactory

API = "/sprocketFactory/v1"
RULES = f"{API}/alerts/rules"
ALERTS = f"{API}/alerts"

pytestmark = pytest.mark.django_db

RULE = {
    "name": "Berlin under 95%",
    "kind": "attainment_below",
    "window_minutes": 60,
    "threshold": 0.95,
    "webhook_url": "https://hooks.example.com/line-1",
    "secret": "s3cret",
}


def test_a_manager_creates_a_rule_and_every_role_reads_it_without_the_secret(api_client_as):
    response = api_client_as("manager").post(RULES, RULE, format="json")

    assert response.status_code == 201, response.content
    created = response.json()
    assert "secret" not in created
    assert created["factory_id"] is None
    assert created["threshold"] == 0.95
    assert created["hysteresis"] == 0.02
    assert response["Location"].endswith(f"/alerts/rules/{created['id']}")
    assert AlertRule.objects.get().secret == "s3cret"
    for role in ("viewer", "operator"):
        read = api_client_as(role).get(f"{RULES}/{created['id']}")
        assert read.status_code == 200
        assert read.json() == created


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_managers_write_rules(api_client_as, role):
    client = api_client_as(role)
    rule = AlertRuleFactory()

    assert client.post(RULES, RULE, format="json").status_code == 403
    assert client.patch(f"{RULES}/{rule.pk}", {"name": "x"}, format="json").status_code == 403
    assert client.delete(f"{RULES}/{rule.pk}").status_code == 403
    assert AlertRule.objects.count() == 1


def test_rules_are_never_read_anonymously_for_their_webhook_addresses(settings):
    settings.ANONYMOUS_READ = True
    AlertRuleFactory()

    assert APIClient().get(RULES).status_code == 401


def test_a_manager_changes_and_deletes_a_rule(api_client_as):
    client = api_client_as("manager")
    rule = AlertRuleFactory()

    changed = client.patch(f"{RULES}/{rule.pk}", {"threshold": 0.9}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["threshold"] == 0.9
    assert client.delete(f"{RULES}/{rule.pk}").status_code == 204
    assert not AlertRule.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"threshold": None}, "threshold"),
        ({"kind": "no_production", "threshold": 0.9}, "threshold"),
        ({"kind": "sometimes"}, "kind"),
        ({"window_minutes": 0}, "window_minutes"),
        ({"window_minutes": 7 * 1440 + 1}, "window_minutes"),
        ({"threshold": -1}, "threshold"),
        ({"hysteresis": -0.1}, "hysteresis"),
        ({"cooldown_minutes": 30 * 1440 + 1}, "cooldown_minutes"),
        ({"webhook_url": "not a url"}, "webhook_url"),
        ({"factory_id": 999999}, "factory_id"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_a_bad_rule_is_a_400_naming_the_field_and_nothing_is_written(api_client_as, change, field):
    response = api_client_as("manager").post(RULES, {**RULE, **change}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not AlertRule.objects.exists()


def test_a_no_production_rule_needs_no_threshold(api_client_as):
    body = {**RULE, "kind": "no_production"}
    del body["threshold"]

    response = api_client_as("manager").post(RULES, body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["threshold"] is None


def test_rules_filter_by_factory_kind_and_activity(api_client_as):
    plant = FactoryFactory()
    mine = AlertRuleFactory(factory=plant)
    AlertRuleFactory(kind="no_production", threshold=None)
    AlertRuleFactory(is_active=False)
    client = api_client_as("viewer")

    def ids(query: str) -> list[int]:
        return [rule["id"] for rule in client.get(f"{RULES}?{query}").json()]

    assert ids(f"factory_id={plant.pk}") == [mine.pk]
    assert len(ids("kind=no_production")) == 1
    assert len(ids("is_active=false")) == 1
    assert client.get(f"{RULES}?kind=sometimes").status_code == 400


T0 = datetime(2024, 3, 1, 8, tzinfo=UTC)


@pytest.fixture
def alerts_of_two_factories():
    berlin, lyon = FactoryFactory(), FactoryFactory()
    rule, other_rule = AlertRuleFactory(), AlertRuleFactory()
    made = [
        Alert.objects.create(rule=rule, factory=berlin, opened_at=T0),
        Alert.objects.create(
            rule=rule,
            factory=lyon,
            opened_at=T0 + timedelta(hours=1),
            state=AlertState.RESOLVED,
            resolved_at=T0 + timedelta(hours=2),
        ),
        Alert.objects.create(rule=other_rule, factory=lyon, opened_at=T0 + timedelta(days=1)),
    ]
    return {"berlin": berlin, "lyon": lyon, "rule": rule, "alerts": made}


def test_alerts_are_listed_newest_first_and_filtered(api_client, alerts_of_two_factories):
    world = alerts_of_two_factories
    first, second, third = (alert.pk for alert in world["alerts"])

    def ids(query: str = "") -> list[int]:
        response = api_client.get(f"{ALERTS}?{query}")
        assert response.status_code == 200, response.content
        return [alert["id"] for alert in response.json()]

    assert ids() == [third, second, first]
    assert ids(f"factory_id={world['lyon'].pk}") == [third, second]
    assert ids(f"rule_id={world['rule'].pk}") == [second, first]
    assert ids("state=open") == [third, first]
    assert ids("after=2024-03-01T08:30:00Z&before=2024-03-02") == [second]
    assert api_client.get(f"{ALERTS}?state=maybe").status_code == 400


def test_an_alert_reads_as_its_document(api_client, alerts_of_two_factories):
    resolved = alerts_of_two_factories["alerts"][1]

    answer = api_client.get(f"{ALERTS}/{resolved.pk}").json()

    assert answer == {
        "id": resolved.pk,
        "rule_id": resolved.rule_id,
        "rule_name": resolved.rule.name,
        "factory_id": resolved.factory_id,
        "state": "resolved",
        "opened_at": "2024-03-01T09:00:00Z",
        "resolved_at": "2024-03-01T10:00:00Z",
        "opened_value": None,
        "resolved_value": None,
    }


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_alerts_cannot_be_written_through_the_api(api_client_as, alerts_of_two_factories, method):
    alert = alerts_of_two_factories["alerts"][0]
    url = ALERTS if method == "post" else f"{ALERTS}/{alert.pk}"

    response = getattr(api_client_as("manager"), method)(url, {}, format="json")

    assert response.status_code == 405
