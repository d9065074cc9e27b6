"""The admin's production pages in headless Chromium, 1280x900, logged in as a superuser."""

from inventory.models import Factory
from tests.browser.pages import BROWSER, DESKTOP, charts, open_factory_admin, screenshot

pytestmark = BROWSER

CHANGELIST = "/admin/production/productionrecord/"


def test_every_column_of_the_production_change_list_fits_a_1280_px_window(
    original_data, live_server, staff_page
):
    staff_page.goto(f"{live_server.url}{CHANGELIST}")

    last_column = staff_page.evaluate(
        "document.querySelector('#result_list thead th:last-child').getBoundingClientRect().right"
    )
    hidden = staff_page.evaluate(
        "(() => { const r = document.querySelector('.results'); "
        "return r.scrollWidth - r.clientWidth; })()"
    )
    screenshot(staff_page, "admin-production-list.png")

    assert last_column <= DESKTOP["width"]
    assert hidden <= 0


def test_the_change_list_names_its_columns_briefly(original_data, live_server, staff_page):
    staff_page.goto(f"{live_server.url}{CHANGELIST}")

    headers = staff_page.eval_on_selector_all(
        "#result_list thead th", "(cells) => cells.map((cell) => cell.innerText.trim())"
    )
    assert [h.lower() for h in headers[1:]] == [
        "time (utc)",
        "factory",
        "actual",
        "goal",
        "attainment",
    ]


def test_the_factory_filter_shows_a_placeholder_until_a_factory_is_chosen(
    original_data, live_server, staff_page
):
    staff_page.goto(f"{live_server.url}{CHANGELIST}")

    placeholder = staff_page.wait_for_selector(
        "details[data-filter-title=factory] .select2-selection__placeholder"
    )
    assert placeholder.inner_text() == "Filter by factory…"


def test_the_admin_links_the_sprocket_favicon_and_it_is_served(
    original_data, live_server, staff_page
):
    staff_page.goto(f"{live_server.url}/admin/")

    icon = staff_page.query_selector("link[rel=icon]")
    assert icon is not None
    href = icon.get_attribute("href")
    response = staff_page.request.get(f"{live_server.url}{href}")
    assert href.endswith("/static/production/favicon.svg")
    assert response.ok
    assert "<svg" in response.text()


def test_the_admin_factory_page_charts_that_factory_by_minute(
    original_data, live_server, staff_page
):
    factory = Factory.objects.get(name="Factory 2")

    open_factory_admin(staff_page, live_server, factory.pk)
    screenshot(staff_page, "admin-factory.png")

    shown = charts(staff_page)
    assert list(shown) == [factory.pk]
    assert len(shown[factory.pk]["datasets"][0]["data"]) == 20
    assert shown[factory.pk]["xTitle"].startswith("Minute")
    assert "Production against goal" in staff_page.inner_text(".factory-chart > h2")
    assert staff_page.console_errors == []


def test_the_admin_page_of_an_archived_factory_marks_its_chart_archived(
    original_data, live_server, staff_page
):
    Factory.objects.filter(pk=1).update(is_active=False)

    open_factory_admin(staff_page, live_server, 1)

    assert "(archived)" in staff_page.inner_text("article.chart[data-factory-id='1'] h2")
