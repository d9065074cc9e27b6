"""The dashboard in headless Chromium, against a live server holding the original data."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.test import Client

from inventory.models import Factory
from inventory.tests.factories import FactoryFactory
from production.tests.factories import create_records
from tests.browser.pages import BROWSER, PHONE, charts, open_dashboard, screenshot

pytestmark = BROWSER

SHORTFALL = {"target": 1, "below": "rgba(198,40,40,.18)", "above": "transparent"}


def summary(path: str) -> list[dict]:
    return Client().get(f"/sprocketFactory/v1/production/summary{path}").json()


def test_the_dashboard_draws_every_minute_of_the_original_data_per_factory(
    original_data, live_server, watched_page
):
    open_dashboard(watched_page, live_server)

    shown = charts(watched_page)
    assert sorted(shown) == [1, 2, 3]
    for chart in shown.values():
        actual, goal = chart["datasets"]
        assert len(actual["data"]) == 20
        assert len(goal["data"]) == 20
        assert chart["xTitle"].startswith("Minute")


def test_the_actual_points_are_the_original_records(original_data, live_server, watched_page):
    open_dashboard(watched_page, live_server)

    actual, goal = charts(watched_page)[1]["datasets"]
    assert actual["data"][:5] == [32, 29, 31, 30, 32]
    assert goal["data"][:5] == [32, 30, 31, 29, 32]


def test_goal_is_a_dashed_grey_step_and_actual_a_solid_coloured_line(
    original_data, live_server, watched_page
):
    open_dashboard(watched_page, live_server)

    for chart in charts(watched_page).values():
        actual, goal = chart["datasets"]
        assert (actual["label"], goal["label"]) == ("Actual", "Goal")
        assert goal["stepped"] is True
        assert goal["borderDash"]
        assert actual["borderDash"] == []
        assert actual["stepped"] is False
        assert actual["borderColor"] != goal["borderColor"]


def test_the_shortfall_under_the_goal_is_shaded(original_data, live_server, watched_page):
    open_dashboard(watched_page, live_server)

    for chart in charts(watched_page).values():
        actual, goal = chart["datasets"]
        assert actual["fill"] == SHORTFALL
        assert goal["fill"] is False


def test_each_tile_shows_the_factorys_attainment_for_the_window(
    original_data, live_server, watched_page
):
    overall = {r["factory_id"]: r["attainment"] for r in summary("?bucket=day") if not r["bucket"]}

    open_dashboard(watched_page, live_server)

    shown = {
        int(tile.get_attribute("data-factory-id")): tile.query_selector(".window").inner_text()
        for tile in watched_page.query_selector_all(".card")
    }
    assert shown.keys() == overall.keys()
    for factory_id, attainment in overall.items():
        assert f"{attainment * 100:.1f}%" in shown[factory_id]


def test_a_tile_says_so_when_its_factory_has_made_nothing_today(
    original_data, live_server, watched_page
):
    open_dashboard(watched_page, live_server)

    tile = watched_page.query_selector(".card[data-factory-id='1']")
    assert "No production yet today" in tile.inner_text()
    assert tile.query_selector(".today").inner_text() == "\N{EN DASH}"


def _zone_well_past_midnight() -> str:
    # Some zone whose day began an hour ago or more, so ten minutes of today are in the past.
    for zone in ("UTC", "Asia/Tokyo", "America/New_York"):
        if datetime.now(ZoneInfo(zone)).hour >= 1:
            return zone
    raise AssertionError("unreachable: these zones are 9 and 14 hours apart")


def test_a_tile_shows_todays_attainment_in_the_factorys_zone_and_its_running_totals(
    live_server, watched_page
):
    zone = _zone_well_past_midnight()
    plant = FactoryFactory(name="Plant Today", timezone=zone)
    midnight = datetime.now(ZoneInfo(zone)).replace(hour=0, minute=0, second=0, microsecond=0)
    midnight = midnight.astimezone(UTC)
    create_records(plant, 10, start=midnight - timedelta(minutes=10), sprocket_production_actual=10)
    create_records(plant, 10, start=midnight, sprocket_production_actual=24)

    open_dashboard(watched_page, live_server, f"?factory_id={plant.pk}")

    tile = watched_page.query_selector(f".card[data-factory-id='{plant.pk}']")
    assert tile.query_selector(".today").inner_text() == "75.0%"
    assert zone in tile.inner_text()
    totals = watched_page.evaluate(
        "() => Chart.getChart(document.querySelector('canvas[data-chart=today]'))"
        ".data.datasets.map((d) => d.data.at(-1))"
    )
    assert totals == [240, 320]


def test_a_factory_without_production_in_the_window_shows_a_message_not_an_empty_chart(
    original_data, live_server, watched_page
):
    idle = FactoryFactory(name="Plant Idle")

    open_dashboard(watched_page, live_server, f"?factory_id=1&factory_id={idle.pk}")

    figure = watched_page.query_selector(f"article.chart[data-factory-id='{idle.pk}']")
    assert "No production in this window" in figure.inner_text()
    assert figure.query_selector("canvas") is None
    assert sorted(charts(watched_page)) == [1]


def test_an_archived_factory_asked_for_by_id_is_shown_and_marked_archived(
    original_data, live_server, watched_page
):
    Factory.objects.filter(pk=3).update(is_active=False)

    open_dashboard(watched_page, live_server, "?factory_id=3")

    selected = watched_page.eval_on_selector(
        "select[name=factory_id]",
        "(select) => Array.from(select.selectedOptions).map((o) => o.textContent)",
    )
    title = watched_page.inner_text("article.chart[data-factory-id='3'] h2")
    assert selected == ["Factory 3 (archived)"]
    assert "(archived)" in title
    assert len(charts(watched_page)[3]["datasets"][0]["data"]) == 20


def test_an_unknown_factory_id_is_reported_on_the_page(original_data, live_server, watched_page):
    open_dashboard(watched_page, live_server, "?factory_id=1&factory_id=999")

    assert "999" in watched_page.inner_text("#dashboard-unknown")
    assert sorted(charts(watched_page)) == [1]


def test_the_dashboard_logs_no_errors_and_asks_no_other_host(
    original_data, live_server, watched_page
):
    open_dashboard(watched_page, live_server)
    screenshot(watched_page, "dashboard.png")

    assert watched_page.console_errors == []
    assert watched_page.request_hosts == {urlsplit(live_server.url).netloc}


def test_the_dashboard_links_the_sprocket_favicon(original_data, live_server, watched_page):
    open_dashboard(watched_page, live_server)

    href = watched_page.get_attribute("link[rel=icon]", "href")
    response = watched_page.request.get(f"{live_server.url}{href}")
    assert href.endswith("/production/favicon.svg")
    assert response.ok
    assert response.headers["content-type"].startswith("image/svg+xml")


def test_the_dashboard_fits_a_phone_screen_with_charts_full_width(
    original_data, live_server, browser
):
    page = browser.new_page(viewport=PHONE)
    open_dashboard(page, live_server)

    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    chart_widths = page.evaluate(
        "Array.from(document.querySelectorAll('article.chart'))"
        ".map((chart) => chart.getBoundingClientRect().width)"
    )
    controls_rows = page.evaluate(
        "new Set(Array.from(document.querySelectorAll('#dashboard-controls > *'))"
        ".map((control) => Math.round(control.getBoundingClientRect().top))).size"
    )
    screenshot(page, "dashboard-phone.png")
    page.close()

    assert overflow <= 0
    assert chart_widths
    assert all(width >= PHONE["width"] - 40 for width in chart_widths)
    assert controls_rows > 1


def test_the_dashboard_asks_for_a_login_when_anonymous_reads_are_off(
    original_data, live_server, watched_page, settings
):
    settings.ANONYMOUS_READ = False

    watched_page.goto(f"{live_server.url}/dashboard/")

    assert "/admin/login/" in watched_page.url


def test_the_dashboard_highlights_the_worst_buckets_of_a_busy_week(live_server, watched_page):
    from django.core.management import call_command

    call_command("generate_production", "--factories", "3", "--days", "7", verbosity=0)

    open_dashboard(watched_page, live_server, "?bucket=hour&after=2024-01-01&before=2024-01-08")
    screenshot(watched_page, "dashboard-week.png")

    worst_rows = watched_page.query_selector_all("#dashboard-worst tbody tr")
    highlighted = [
        chart["datasets"][0]["pointBackgroundColor"].count("#c62828")
        for chart in charts(watched_page).values()
    ]
    assert len(worst_rows) == 9
    assert highlighted == [3, 3, 3]
    assert watched_page.console_errors == []
