"""What the response cache's tests (tests/api/test_cache_*.py) share: the URLs they read and how
they read them; the `plant` and `records` they read are fixtures in conftest.py."""

from django.test.utils import CaptureQueriesContext

API = "/sprocketFactory/v1"
SPROCKETS_URL = f"{API}/sprockets"
FACTORIES_URL = f"{API}/factories"
PRODUCTION_URL = f"{API}/production"
CHART_DATA = f"{API}/factories/chart-data"
FIRST_MINUTE_UNIX = 1611194818
DATA_TABLES = ("production_productionrecord", "inventory_")


def read(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()


def prime(client, url: str):
    """Read once: the answer is now in the cache, under the current generations."""
    return read(client, url)


def data_table_queries(context: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in context.captured_queries if any(t in q["sql"] for t in DATA_TABLES)]
