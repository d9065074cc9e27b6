"""What the browser tests share besides fixtures: where Chromium is, the page states they wait
on, and the helpers that open pages and read their charts."""

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LOADED = "body[data-loaded=true]"
LIVE = "#live-status[data-live-state=live]"
POLLING = "#live-status[data-live-state=polling]"

# The production chart of each factory shown: its id and its datasets, as Chart.js holds them.
CHARTS_JS = """() => Array.from(document.querySelectorAll("canvas[data-chart=production]")).map((canvas) => {
  const chart = Chart.getChart(canvas);
  return {
    factoryId: Number(canvas.dataset.factoryId),
    labels: chart.data.labels,
    xTitle: chart.options.scales.x.title.text,
    datasets: chart.data.datasets.map((d) => ({
      label: d.label, data: d.data, borderColor: d.borderColor, borderDash: d.borderDash || [],
      stepped: d.stepped || false, fill: d.fill, pointBackgroundColor: d.pointBackgroundColor,
    })),
  };
})"""


BROWSER = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium package"),
]


def watch(page) -> None:
    """Record the page's console errors and every host it sends a request to."""
    page.console_errors = []
    page.request_hosts = set()
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    page.on("request", lambda request: page.request_hosts.add(urlsplit(request.url).netloc))


def open_dashboard(page, live_server, query: str = "") -> None:
    page.goto(f"{live_server.url}/dashboard/{query}")
    page.wait_for_selector(LOADED, timeout=10_000)


def open_factory_admin(page, live_server, factory_id: int) -> None:
    page.goto(f"{live_server.url}/admin/inventory/factory/{factory_id}/change/")
    page.wait_for_selector(LOADED, timeout=10_000)


def charts(page) -> dict[int, dict]:
    """Each production chart on the page by factory id."""
    return {chart["factoryId"]: chart for chart in page.evaluate(CHARTS_JS)}


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
