"""The README's screenshots, into docs/. Not part of the suite (the name is not test_*.py):

    .venv/bin/pytest tests/browser/docs_screenshots.py -p no:cacheprovider

Each waits until the page is drawn and its live stream is ready, so the pictures show what a
reader sees."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from inventory.models import Factory
from production.services import production_window_delete
from tests.browser.pages import (
    BROWSER,
    DESKTOP,
    LIVE,
    PHONE,
    open_dashboard,
    open_factory_admin,
)

pytestmark = BROWSER

DOCS = Path(settings.BASE_DIR) / "docs"


def save(page, name: str) -> None:
    page.wait_for_selector(LIVE, timeout=10_000)
    page.screenshot(path=str(DOCS / name), full_page=True)


def test_the_dashboard_on_the_original_data(original_data, live_server, browser):
    for viewport, name in [
        (DESKTOP, "dashboard-original-data.png"),
        (PHONE, "dashboard-phone.png"),
    ]:
        page = browser.new_page(viewport=viewport)
        open_dashboard(page, live_server)
        save(page, name)
        page.close()


def test_the_admin_factory_page_on_the_original_data(original_data, live_server, staff_page):
    open_factory_admin(staff_page, live_server, 2)
    save(staff_page, "admin-factory-page.png")


def test_the_dashboard_on_a_generated_week_up_to_now(live_server, browser):
    now = datetime.now(UTC)
    start = (now - timedelta(days=6)).date()
    call_command(
        "generate_production", "--factories", "3", "--days", "7", "--start", str(start), verbosity=0
    )
    # Up to now, so that each tile shows today so far.
    for factory_id in Factory.objects.values_list("id", flat=True):
        production_window_delete(factory_id=factory_id, after=now, before=now + timedelta(days=2))

    page = browser.new_page(viewport=DESKTOP)
    open_dashboard(page, live_server)
    save(page, "dashboard-generated-week.png")
    page.close()
