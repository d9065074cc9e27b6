"""Charts kept current by the live stream (GET /sprocketFactory/v1/production/events): a write
shows on the open page within two seconds, refetching only that factory; a stream that is down
turns the page to polling every 15 s until the stream is ready again.

The tests that write production use the real stream; the others answer the stream's URL
themselves (`page.route`) to say what the server would."""

import json
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.test import APIClient

from inventory.models import Factory
from production.services import production_window_delete
from production.tests.bulk_helpers import post, rows_for
from production.tests.factories import FIRST_MINUTE, FIRST_MINUTE_UNIX, create_records
from tests.browser.pages import (
    BROWSER,
    LIVE,
    POLLING,
    charts,
    open_dashboard,
    open_factory_admin,
)

pytestmark = BROWSER

EVENTS = "**/sprocketFactory/v1/production/events*"
SUMMARY = "/sprocketFactory/v1/production/summary"
SHOWN_WITHIN = 2_000
# The original data: each factory's 20 records, one a minute; factory 1's from FIRST_MINUTE,
# factory 2's from FACTORY_2_FIRST.
AFTER_FACTORY_1 = FIRST_MINUTE_UNIX + 20 * 60
FACTORY_2_FIRST = 1611204818


@pytest.fixture
def writer(django_user_model) -> APIClient:
    """An API client with a token of a user allowed to write production."""
    from knox.models import AuthToken

    user = django_user_model.objects.create_superuser("writer", "writer@example.com", "pw")
    _, token = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def summary_requests(page) -> list[dict]:
    """The query of every summary request the page sends from now on."""
    sent = []

    def record(request) -> None:
        url = urlsplit(request.url)
        if url.path.rstrip("/") == SUMMARY:
            sent.append(parse_qs(url.query))

    page.on("request", record)
    return sent


def points_of(factory_id: int) -> str:
    return (
        "Chart.getChart(document.querySelector("
        f"'canvas[data-chart=production][data-factory-id=\"{factory_id}\"]')).data.datasets[0].data"
    )


def wait_for_points(page, factory_id: int, count: int) -> None:
    page.wait_for_function(f"{points_of(factory_id)}.length === {count}", timeout=SHOWN_WITHIN)


def stream(*events: tuple[str, dict], retry_ms: int = 3_600_000) -> dict:
    """A Server-Sent Events answer holding these events, after which the browser waits
    `retry_ms` before it reconnects."""
    text = f"retry: {retry_ms}\n\n" + "".join(
        f"id: {index}\nevent: {kind}\ndata: {json.dumps(data)}\n\n"
        for index, (kind, data) in enumerate(events, start=1)
    )
    return {"status": 200, "headers": {"Content-Type": "text/event-stream"}, "body": text}


READY = ("ready", {"last_event_id": "0"})
UNAVAILABLE = ("unavailable", {"detail": "Live updates are unavailable."})


def test_a_bulk_ingest_shows_on_the_open_dashboard_without_a_reload(
    original_data, live_server, watched_page, writer
):
    open_dashboard(watched_page, live_server)
    status = watched_page.wait_for_selector(LIVE, timeout=5_000)
    watched_page.evaluate("window.__marker = 1")
    sent = summary_requests(watched_page)
    assert status.inner_text() == "\N{BLACK CIRCLE} Live"

    response = post(
        writer,
        rows_for(
            Factory.objects.get(pk=1), 5, start=AFTER_FACTORY_1, sprocket_production_actual=40
        ),
    )
    assert response.status_code == 201

    wait_for_points(watched_page, 1, 25)
    shown = charts(watched_page)
    assert shown[1]["datasets"][0]["data"][-5:] == [40] * 5
    assert len(shown[2]["datasets"][0]["data"]) == 20
    assert watched_page.evaluate("window.__marker") == 1
    assert sent
    assert all(query["factory_id"] == ["1"] for query in sent)


def test_a_rewritten_minute_changes_its_point_in_place(
    original_data, live_server, watched_page, writer
):
    open_dashboard(watched_page, live_server)
    watched_page.wait_for_selector(LIVE, timeout=5_000)

    response = post(
        writer,
        rows_for(
            Factory.objects.get(pk=2), 1, start=FACTORY_2_FIRST + 60, sprocket_production_actual=99
        ),
        on_conflict="update",
    )
    assert response.status_code in (200, 201)

    watched_page.wait_for_function(f"{points_of(2)}.includes(99)", timeout=SHOWN_WITHIN)
    assert len(charts(watched_page)[2]["datasets"][0]["data"]) == 20


def test_deleted_production_leaves_the_open_dashboard(original_data, live_server, watched_page):
    open_dashboard(watched_page, live_server)
    watched_page.wait_for_selector(LIVE, timeout=5_000)

    production_window_delete(
        factory_id=3,
        after=FIRST_MINUTE + timedelta(days=1),
        before=FIRST_MINUTE + timedelta(days=2),
    )

    watched_page.wait_for_function(
        "document.querySelector('article.chart[data-factory-id=\"3\"] .empty') !== null",
        timeout=SHOWN_WITHIN,
    )


def test_a_bulk_ingest_shows_on_the_open_admin_factory_page_without_a_reload(
    original_data, live_server, staff_page, writer
):
    open_factory_admin(staff_page, live_server, 2)
    staff_page.wait_for_selector(LIVE, timeout=5_000)
    staff_page.evaluate("window.__marker = 1")

    response = post(writer, rows_for(Factory.objects.get(pk=2), 3, start=FACTORY_2_FIRST + 20 * 60))
    assert response.status_code == 201

    wait_for_points(staff_page, 2, 23)
    assert staff_page.evaluate("window.__marker") == 1


def test_a_production_event_refetches_only_that_factorys_changed_buckets(
    original_data, live_server, watched_page
):
    factory = Factory.objects.get(pk=1)
    written = {
        "factory_id": 1,
        "action": "write",
        "first": "2021-01-21T02:26:58Z",
        "last": "2021-01-21T02:28:58Z",
        "rows": 3,
    }
    steps = {"answered": 0, "page_drawn": False, "written": False}

    def answer(route) -> None:
        steps["answered"] += 1
        if steps["answered"] == 1:
            route.fulfill(**stream(READY, retry_ms=300))
        elif not steps["page_drawn"] or steps["written"]:
            # Empty streams a moment apart until the page has drawn everything; then none.
            route.fulfill(**stream(retry_ms=3_600_000 if steps["written"] else 300))
        else:
            # Written while the stream reconnects: only the event tells the page.
            steps["written"] = True
            create_records(factory, 3, start=FIRST_MINUTE + timedelta(minutes=20))
            route.fulfill(**stream(("production", written)))

    watched_page.route(EVENTS, answer)
    open_dashboard(watched_page, live_server)
    sent = summary_requests(watched_page)
    steps["page_drawn"] = True

    wait_for_points(watched_page, 1, 23)
    assert len(charts(watched_page)[2]["datasets"][0]["data"]) == 20
    assert sent
    assert all(query["factory_id"] == ["1"] for query in sent)
    assert all("after" in query for query in sent)


def every_factory_refetched(request) -> bool:
    url = urlsplit(request.url)
    return url.path.rstrip("/") == SUMMARY and len(parse_qs(url.query).get("factory_id", [])) == 3


def wait_until(page, condition, timeout_ms: int = 5_000) -> None:
    """Let the page run until `condition()` holds; fail past the deadline."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not condition():
        assert time.monotonic() < deadline, "the page did not get there in time"
        page.wait_for_timeout(50)


def test_a_reset_refetches_every_factory_shown(original_data, live_server, watched_page):
    answers = iter([stream(READY, retry_ms=1_000), stream(("reset", {}))])
    watched_page.route(EVENTS, lambda route: route.fulfill(**(next(answers, None) or stream())))
    refetched = []
    watched_page.on("request", lambda r: every_factory_refetched(r) and refetched.append(r.url))

    open_dashboard(watched_page, live_server)

    # Once when the stream is ready, again on `reset`.
    wait_until(watched_page, lambda: len(refetched) >= 2)


def test_an_unavailable_stream_turns_the_page_to_polling(original_data, live_server, watched_page):
    watched_page.route(EVENTS, lambda route: route.fulfill(**stream(UNAVAILABLE)))

    open_dashboard(watched_page, live_server)

    status = watched_page.wait_for_selector(POLLING, timeout=5_000)
    assert status.inner_text() == "Live updates paused — refreshing every 15 s"
    assert len(charts(watched_page)[1]["datasets"][0]["data"]) == 20


def test_while_polling_the_page_refetches_every_15_seconds(
    original_data, live_server, watched_page
):
    watched_page.clock.install()
    watched_page.route(EVENTS, lambda route: route.fulfill(**stream(UNAVAILABLE)))
    open_dashboard(watched_page, live_server)
    watched_page.wait_for_selector(POLLING, timeout=5_000)

    with watched_page.expect_request(every_factory_refetched, timeout=5_000):
        watched_page.clock.run_for(15_000)


# Every data-live-state #live-status takes, in order: an answered stream ends at once, so a
# state may last only until the next event.
RECORD_LIVE_STATES = """document.addEventListener("DOMContentLoaded", () => {
  const status = document.getElementById("live-status");
  window.__states = [status.dataset.liveState];
  new MutationObserver((records) => records.forEach((record, index) => window.__states.push(
    index + 1 < records.length ? records[index + 1].oldValue : status.dataset.liveState
  ))).observe(status, { attributeFilter: ["data-live-state"], attributeOldValue: true });
});"""


def test_a_stream_ready_again_stops_polling_and_shows_live(
    original_data, live_server, watched_page
):
    answers = iter([stream(UNAVAILABLE, retry_ms=1_000), stream(READY)])
    watched_page.route(EVENTS, lambda route: route.fulfill(**(next(answers, None) or stream())))
    watched_page.add_init_script(RECORD_LIVE_STATES)

    open_dashboard(watched_page, live_server)

    watched_page.wait_for_function("window.__states.includes('live')", timeout=5_000)
    states = watched_page.evaluate("window.__states")
    assert states.index("polling") < states.index("live")


def test_the_page_subscribes_to_the_factories_it_shows(original_data, live_server, watched_page):
    subscribed = []

    def answer(route) -> None:
        subscribed.append(parse_qs(urlsplit(route.request.url).query).get("factory_id"))
        route.fulfill(**stream(READY))

    watched_page.route(EVENTS, answer)

    open_dashboard(watched_page, live_server, "?factory_id=2&factory_id=3")

    assert subscribed[0] == ["2", "3"]
