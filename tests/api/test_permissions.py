"""Who may do what (DESIGN §5): every role against every endpoint and method.

Requests are made with secure=True: with DATABASE_URL set (and DEBUG off) SECURE_SSL_REDIRECT
sends plain HTTP to HTTPS, as in production.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from knox.models import AuthToken
from rest_framework.test import APIClient

from alerts.models import Alert, AlertRule
from alerts.tests.factories import AlertRuleFactory
from core.roles import role_permissions, roles_ensure
from inventory.models import Factory, Sprocket
from inventory.tests.factories import FactoryFactory, SprocketFactory
from production.models import ProductionRecord
from production.tests.factories import ProductionRecordFactory

API = "/sprocketFactory/v1"
ROLES = ("viewer", "operator", "manager")
WINDOW = "after=2021-01-01T00:00:00Z&before=2022-01-01T00:00:00Z"
IN_WINDOW = datetime(2021, 1, 21, 2, 6, tzinfo=UTC)
AFTER_WINDOW = datetime(2022, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Endpoint:
    """One method on one route; `path` and `body` are filled in from the `world` ids."""

    method: str
    path: str
    body: Callable[[dict], dict] | None = None
    success: int = 200

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def send(self, client: APIClient, world: dict):
        url = API + self.path.format(**world)
        body = self.body(world) if self.body else None
        return getattr(client, self.method.lower())(url, body, format="json", secure=True)


def sprocket_body(_world: dict) -> dict:
    return {"name": "Renamed", "teeth": 7, "pitch_diameter": 5, "outside_diameter": 6, "pitch": 1}


def factory_body(_world: dict) -> dict:
    return {"name": "Renamed plant", "timezone": "Europe/Berlin", "is_active": True}


def record_body(world: dict) -> dict:
    return {
        "factory_id": world["factory"],
        "sprocket_production_actual": 1,
        "sprocket_production_goal": 2,
        "time": "2022-06-01T00:00:00Z",
    }


def rule_body(world: dict) -> dict:
    return {
        "name": "Under 90%",
        "kind": "attainment_below",
        "factory_id": world["factory"],
        "window_minutes": 30,
        "threshold": 0.9,
        "webhook_url": "https://hooks.example.com/x",
        "secret": "s",
    }


READS = [
    Endpoint("GET", "/sprockets"),
    Endpoint("GET", "/sprockets/{sprocket}"),
    Endpoint("GET", "/factories"),
    Endpoint("GET", "/factories/{factory}"),
    Endpoint("GET", "/factories/chart-data"),
    Endpoint("GET", "/factories/{factory}/chart-data"),
    Endpoint("GET", "/production"),
    Endpoint("GET", "/production/{factory}"),
    Endpoint("GET", "/production/records/{record}"),
    Endpoint("GET", "/alerts"),
    Endpoint("GET", "/alerts/{alert}"),
]
# Read by every role, never anonymously: a webhook address may carry a token.
ROLE_READS = [Endpoint("GET", "/alerts/rules"), Endpoint("GET", "/alerts/rules/{rule}")]

PRODUCTION_CREATE = Endpoint("POST", "/production", record_body, 201)
RECORD_PUT = Endpoint("PUT", "/production/records/{record}", record_body)
RECORD_PATCH = Endpoint(
    "PATCH", "/production/records/{record}", lambda _w: {"sprocket_production_actual": 99}
)
OPERATOR_WRITES = [PRODUCTION_CREATE, RECORD_PUT, RECORD_PATCH]

WRITES = [
    Endpoint("POST", "/sprockets", sprocket_body, 201),
    Endpoint("PUT", "/sprockets/{sprocket}", sprocket_body),
    Endpoint("PATCH", "/sprockets/{sprocket}", lambda _w: {"teeth": 12}),
    Endpoint("DELETE", "/sprockets/{sprocket}", success=204),
    Endpoint("POST", "/factories", factory_body, 201),
    # The factory without production: one with production is archived, not deleted.
    Endpoint("PUT", "/factories/{empty_factory}", factory_body),
    Endpoint("PATCH", "/factories/{empty_factory}", lambda _w: {"is_active": False}),
    Endpoint("DELETE", "/factories/{empty_factory}", success=204),
    *OPERATOR_WRITES,
    Endpoint("DELETE", "/production/records/{record}", success=204),
    Endpoint("POST", "/alerts/rules", rule_body, 201),
    Endpoint("PUT", "/alerts/rules/{rule}", rule_body),
    Endpoint("PATCH", "/alerts/rules/{rule}", lambda _w: {"threshold": 0.5}),
    Endpoint("DELETE", "/alerts/rules/{rule}", success=204),
    Endpoint("DELETE", "/production?" + WINDOW),
    Endpoint("DELETE", "/production/{factory}?" + WINDOW),
]

REFUSED_WRITES = [
    *[("viewer", endpoint) for endpoint in WRITES],
    *[("operator", endpoint) for endpoint in WRITES if endpoint not in OPERATOR_WRITES],
]
ALLOWED_WRITES = [
    *[("operator", endpoint) for endpoint in OPERATOR_WRITES],
    *[("manager", endpoint) for endpoint in WRITES],
]


def by_label(endpoints: list[Endpoint]) -> list:
    return [pytest.param(endpoint, id=endpoint.label) for endpoint in endpoints]


def by_role_and_label(pairs: list[tuple[str, Endpoint]]) -> list:
    return [pytest.param(role, endpoint, id=f"{role}-{endpoint.label}") for role, endpoint in pairs]


@pytest.fixture
def world(db) -> dict:
    """A sprocket, a factory with production (in 2021) and a factory without."""
    sprocket = SprocketFactory()
    busy = FactoryFactory()
    records = [
        ProductionRecordFactory(factory=busy, time=IN_WINDOW + timedelta(minutes=minute))
        for minute in range(3)
    ]
    empty = FactoryFactory()
    rule = AlertRuleFactory(factory=busy)
    alert = Alert.objects.create(rule=rule, factory=busy, opened_at=IN_WINDOW)
    return {
        "sprocket": sprocket.pk,
        "factory": busy.pk,
        "empty_factory": empty.pk,
        "record": records[0].pk,
        "rule": rule.pk,
        "alert": alert.pk,
    }


@pytest.fixture
def client_for(api_client_as):
    def make(who: str) -> APIClient:
        return APIClient() if who == "anonymous" else api_client_as(who)

    return make


def snapshot() -> dict:
    """Every row of every resource, timestamps included, to tell whether anything was written."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Sprocket, Factory, ProductionRecord, AlertRule)
    }


@pytest.mark.parametrize("who", ["anonymous", *ROLES])
@pytest.mark.parametrize("endpoint", by_label(READS))
def test_everyone_reads_while_anonymous_reads_are_on(endpoint, who, world, client_for):
    response = endpoint.send(client_for(who), world)

    assert response.status_code == 200, response.content


@pytest.mark.parametrize("anonymous_read", [True, False], ids=["anon-read-on", "anon-read-off"])
@pytest.mark.parametrize("endpoint", by_label(ROLE_READS))
def test_rules_are_read_by_every_role_and_never_anonymously(
    endpoint, anonymous_read, world, settings, api_client_as
):
    settings.ANONYMOUS_READ = anonymous_read

    assert endpoint.send(APIClient(), world).status_code == 401
    for role in ROLES:
        assert endpoint.send(api_client_as(role), world).status_code == 200


def test_anonymous_reads_are_on_by_default(settings):
    assert settings.ANONYMOUS_READ is True


@pytest.mark.parametrize("endpoint", by_label(READS))
def test_anonymous_reads_are_refused_with_401_when_anonymous_read_is_off(endpoint, world, settings):
    settings.ANONYMOUS_READ = False

    response = endpoint.send(APIClient(), world)

    assert response.status_code == 401, response.content


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", by_label(READS))
def test_every_role_still_reads_when_anonymous_read_is_off(
    endpoint, role, world, settings, api_client_as
):
    settings.ANONYMOUS_READ = False

    response = endpoint.send(api_client_as(role), world)

    assert response.status_code == 200, response.content


@pytest.mark.parametrize("endpoint", by_label(READS))
def test_a_user_without_a_role_is_refused_reads_with_403_when_anonymous_read_is_off(
    endpoint, world, settings, django_user_model
):
    settings.ANONYMOUS_READ = False
    _, token = AuthToken.objects.create(user=django_user_model.objects.create_user("nobody"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = endpoint.send(client, world)

    assert response.status_code == 403, response.content


@pytest.mark.parametrize("anonymous_read", [True, False], ids=["anon-read-on", "anon-read-off"])
@pytest.mark.parametrize("endpoint", by_label(WRITES))
def test_anonymous_writes_are_refused_with_401_and_write_nothing(
    endpoint, anonymous_read, world, settings
):
    settings.ANONYMOUS_READ = anonymous_read
    before = snapshot()

    response = endpoint.send(APIClient(), world)

    assert response.status_code == 401, response.content
    assert snapshot() == before


@pytest.mark.parametrize(("role", "endpoint"), by_role_and_label(REFUSED_WRITES))
def test_a_write_outside_the_role_is_refused_with_403_and_writes_nothing(
    role, endpoint, world, api_client_as
):
    client = api_client_as(role)
    before = snapshot()

    response = endpoint.send(client, world)

    assert response.status_code == 403, response.content
    assert snapshot() == before


@pytest.mark.parametrize(("role", "endpoint"), by_role_and_label(ALLOWED_WRITES))
def test_a_write_within_the_role_succeeds_and_changes_the_data(
    role, endpoint, world, api_client_as
):
    client = api_client_as(role)
    before = snapshot()

    response = endpoint.send(client, world)

    assert response.status_code == endpoint.success, response.content
    assert snapshot() != before


def test_the_window_delete_deletes_only_the_factory_records_inside_the_window(world, api_client_as):
    outside = ProductionRecordFactory(factory_id=world["factory"], time=AFTER_WINDOW)
    window_delete = WRITES[-1]

    response = window_delete.send(api_client_as("manager"), world)

    assert response.json() == {"deleted": 3}
    assert list(ProductionRecord.objects.values_list("pk", flat=True)) == [outside.pk]


VIEW_ALL = {
    "inventory.view_sprocket",
    "inventory.view_factory",
    "production.view_productionrecord",
    # Issue 15: rules are edited by managers through the API, read by every role.
    "alerts.view_alertrule",
    "alerts.view_alert",
}
DESIGN_ROLES = {
    "viewer": VIEW_ALL,
    "operator": VIEW_ALL
    | {"production.add_productionrecord", "production.change_productionrecord"},
    "manager": {
        f"{app}.{action}_{model}"
        for app, model in (
            ("inventory", "sprocket"),
            ("inventory", "factory"),
            ("production", "productionrecord"),
            ("alerts", "alertrule"),
        )
        for action in ("view", "add", "change", "delete")
    }
    | {"alerts.view_alert"},
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_granted_what_design_section_5_says(role):
    assert role_permissions(role) == DESIGN_ROLES[role]


@pytest.mark.parametrize("role", ROLES)
def test_each_group_exists_after_migrate_with_exactly_its_permissions(db, role):
    expected = DESIGN_ROLES[role]

    granted = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name=role).permissions.select_related("content_type")
    }

    assert granted == expected


def test_roles_ensure_takes_back_a_permission_given_to_a_group_by_hand(db):
    viewer = Group.objects.get(name="viewer")
    viewer.permissions.add(*Group.objects.get(name="manager").permissions.all())

    roles_ensure(app_label="inventory")
    roles_ensure(app_label="production")
    roles_ensure(app_label="alerts")

    assert set(viewer.permissions.values_list("codename", flat=True)) == {
        "view_sprocket",
        "view_factory",
        "view_productionrecord",
        "view_alertrule",
        "view_alert",
    }


@pytest.mark.parametrize("url", ["sprockets/bulk", "factories/bulk", "production/bulk"])
def test_options_on_a_bulk_endpoint_is_answered_when_anonymous_reads_are_off(
    settings, api_client_as, url
):
    settings.ANONYMOUS_READ = False

    response = api_client_as("manager").options(f"/sprocketFactory/v1/{url}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_every_api_answer_is_private_when_anonymous_reads_are_off(settings, api_client_as):
    settings.ANONYMOUS_READ = False
    viewer = api_client_as("viewer")

    answers = [
        viewer.get("/sprocketFactory/v1/sprockets", HTTP_ACCEPT="text/html"),
        viewer.get("/sprocketFactory/v1/production?format=csv"),
        viewer.get("/sprocketFactory/v1/sprockets/999999"),
    ]

    for response in answers:
        assert "private" in response["Cache-Control"]
        assert {"Authorization", "Cookie", "Accept"} <= {
            v.strip() for v in response["Vary"].split(",")
        }
