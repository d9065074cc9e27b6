"""Alerts and forecasts on the dashboard (issue 15): an open alert marks its factory, on load
and as it opens and resolves (through the live stream); each tile says where today will end
("on track" or "behind by N")."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from alerts.models import Alert
from alerts.services import alerts_evaluate
from alerts.tests.factories import AlertRuleFactory
from inventory.tests.factories import FactoryFactory
from production.tests.factories import create_records
from tests.browser.pages import BROWSER, LIVE, open_dashboard

pytestmark = BROWSER

SHOWN_WITHIN = 2_000


def tile(factory) -> str:
    return f".card[data-factory-id='{factory.pk}']"


def test_an_open_alert_marks_its_factory_when_the_page_loads(live_server, watched_page):
    alerting, calm = FactoryFactory(name="Plant Alerting"), FactoryFactory(name="Plant Calm")
    rule = AlertRuleFactory(name="Under 95%")
    Alert.objects.create(rule=rule, factory=alerting, opened_at=timezone.now())

    open_dashboard(watched_page, live_server, f"?factory_id={alerting.pk}&factory_id={calm.pk}")

    watched_page.wait_for_selector(f"{tile(alerting)}[data-alert]", timeout=SHOWN_WITHIN)
    badge = watched_page.query_selector(f"{tile(alerting)} .alert-badge")
    assert badge.inner_text() == "⚠ Alert: Under 95%"
    assert watched_page.query_selector(f"{tile(calm)}[data-alert]") is None


def test_an_alert_opening_and_resolving_marks_and_unmarks_the_open_page(live_server, watched_page):
    plant = FactoryFactory(name="Plant Live", timezone="UTC")
    AlertRuleFactory(name="Line slow", window_minutes=5, hysteresis=Decimal(0))
    now = timezone.now().replace(second=0, microsecond=0)
    open_dashboard(watched_page, live_server, f"?factory_id={plant.pk}")
    watched_page.wait_for_selector(LIVE, timeout=5_000)

    create_records(plant, 5, start=now - timedelta(minutes=4), sprocket_production_actual=10)
    alerts_evaluate(now=now)

    watched_page.wait_for_selector(f"{tile(plant)}[data-alert]", timeout=SHOWN_WITHIN)
    later = now + timedelta(minutes=5)
    create_records(plant, 5, start=later - timedelta(minutes=4), sprocket_production_actual=40)
    alerts_evaluate(now=later)
    watched_page.wait_for_selector(
        f"{tile(plant)}:not([data-alert])", timeout=SHOWN_WITHIN, state="attached"
    )


def test_a_tile_says_how_far_behind_today_will_end(live_server, watched_page):
    # A zone whose day began an hour ago or more: half an hour of today is in the past.
    zone = next(
        z for z in ("UTC", "Asia/Tokyo", "America/New_York") if datetime.now(ZoneInfo(z)).hour >= 1
    )
    plant = FactoryFactory(name="Plant Behind", timezone=zone)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    create_records(
        plant,
        30,
        start=now - timedelta(minutes=29),
        sprocket_production_actual=16,
        sprocket_production_goal=32,
    )

    open_dashboard(watched_page, live_server, f"?factory_id={plant.pk}")

    line = watched_page.wait_for_selector(f"{tile(plant)} .forecast", timeout=SHOWN_WITHIN)
    assert line.get_attribute("data-forecast") == "behind"
    assert line.inner_text().startswith("Forecast: behind by ")
