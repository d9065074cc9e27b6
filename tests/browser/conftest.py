"""Fixtures of the browser tests: Chromium, a watched page, a page logged in as staff."""

import pytest
from django.conf import settings
from django.test import Client

from tests.browser.pages import CHROMIUM, CHROMIUM_ARGS, DESKTOP, watch


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
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def watched_page(browser, live_server):
    page = browser.new_page(viewport=DESKTOP)
    watch(page)
    yield page
    page.close()


@pytest.fixture
def staff_page(browser, live_server, django_user_model):
    """A page whose browser is logged in as a superuser."""
    staff = django_user_model.objects.create_superuser("chief", "chief@example.com", "pw")
    client = Client()
    client.force_login(staff)
    context = browser.new_context(viewport=DESKTOP)
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
    watch(page)
    yield page
    context.close()
