"""The dashboard in headless Chromium, against a live server holding the original data."""

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client

from inventory.models import Factory

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium package"),
]


@pytest.fixture(autouse=True)
def allow_orm_beside_playwright(monkeypatch) -> None:
    # Playwright's sync API keeps an event loop in this thread, and Django refuses ORM calls
    # from a thread with a running loop. Only the test's own setup queries from here; the
    # live server answers the browser from its own threads.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def watched_page(browser, live_server):
    """A page that records console errors and every host it sends a request to."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.console_errors = []
    page.request_hosts = set()
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    page.on("request", lambda request: page.request_hosts.add(urlsplit(request.url).netloc))
    yield page
    page.close()


def summary(path: str) -> list[dict]:
    return Client().get(f"/sprocketFactory/v1/production/summary{path}").json()


def open_dashboard(page, live_server, query: str = "") -> None:
    page.goto(f"{live_server.url}/dashboard/{query}")
    page.wait_for_selector("body[data-loaded=true]", timeout=10_000)


def test_the_dashboard_draws_one_chart_per_factory_with_a_point_per_bucket(
    original_data, live_server, watched_page
):
    expected = summary("?bucket=day")

    open_dashboard(watched_page, live_server)

    points = watched_page.evaluate(
        "Object.values(Chart.instances).map(c => [c.canvas.dataset.factoryId, "
        "c.data.datasets.map(d => d.data.length)])"
    )
    by_factory = {int(factory_id): lengths for factory_id, lengths in points}
    assert sorted(by_factory) == [1, 2, 3]
    for factory_id, lengths in by_factory.items():
        buckets = [r for r in expected if r["factory_id"] == factory_id and r["bucket"]]
        assert lengths == [len(buckets), len(buckets)]


def test_the_dashboard_shows_each_factorys_attainment_for_the_window(
    original_data, live_server, watched_page
):
    overall = {r["factory_id"]: r["attainment"] for r in summary("?bucket=day") if not r["bucket"]}

    open_dashboard(watched_page, live_server)

    shown = {
        int(card.get_attribute("data-factory-id")): card.inner_text()
        for card in watched_page.query_selector_all(".card")
    }
    assert shown.keys() == overall.keys()
    for factory_id, attainment in overall.items():
        assert f"{attainment * 100:.1f}%" in shown[factory_id]


def test_the_dashboard_logs_no_errors_and_asks_no_other_host(
    original_data, live_server, watched_page
):
    open_dashboard(watched_page, live_server, "?bucket=day")
    ARTIFACTS.mkdir(exist_ok=True)
    watched_page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    assert watched_page.console_errors == []
    assert watched_page.request_hosts == {urlsplit(live_server.url).netloc}


def test_the_dashboard_fits_a_phone_screen(original_data, live_server, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    open_dashboard(page, live_server)

    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    page.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
    page.close()

    assert overflow <= 0


def test_the_dashboard_asks_for_a_login_when_anonymous_reads_are_off(
    original_data, live_server, watched_page, settings
):
    settings.ANONYMOUS_READ = False

    watched_page.goto(f"{live_server.url}/dashboard/")

    assert "/admin/login/" in watched_page.url


def test_the_admin_factory_page_shows_that_factorys_chart(
    original_data, live_server, browser, django_user_model
):
    staff = django_user_model.objects.create_superuser("chief", "chief@example.com", "pw")
    client = Client()
    client.force_login(staff)
    context = browser.new_context()
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    factory = Factory.objects.get(name="Factory 2")

    page.goto(f"{live_server.url}/admin/inventory/factory/{factory.pk}/change/")
    page.wait_for_selector("body[data-loaded=true]", timeout=10_000)

    charted = page.evaluate("Object.values(Chart.instances).map(c => c.canvas.dataset.factoryId)")
    context.close()
    assert charted == [str(factory.pk)]


def test_the_dashboard_highlights_the_worst_buckets_of_a_busy_week(live_server, watched_page):
    from django.core.management import call_command

    call_command("generate_production", "--factories", "3", "--days", "7", verbosity=0)

    open_dashboard(watched_page, live_server, "?bucket=hour&after=2024-01-01&before=2024-01-08")
    watched_page.screenshot(path=str(ARTIFACTS / "dashboard-week.png"), full_page=True)

    worst_rows = watched_page.query_selector_all("#dashboard-worst tbody tr")
    highlighted = watched_page.evaluate(
        "Object.values(Chart.instances).map(c => c.data.datasets[0].pointBackgroundColor"
        ".filter(color => color === '#c62828').length)"
    )
    assert len(worst_rows) == 9
    assert highlighted == [3, 3, 3]
    assert watched_page.console_errors == []
