"""What the bulk ingest tests (production/tests/test_bulk_*.py) share: the bodies they post and how
they post them; their `plant` is a fixture in conftest.py."""

import json

from django.conf import settings

from inventory.models import Factory
from production.models import ProductionRecord
from production.tests.factories import FIRST_MINUTE_UNIX

API = "/sprocketFactory/v1"
BULK = f"{API}/production/bulk"
SPROCKETS_BULK = f"{API}/sprockets/bulk"
CHART_DATA = f"{API}/factories/chart-data"
SOURCE_DIR = settings.BASE_DIR / "fixtures" / "source"


def source(name: str) -> dict:
    return json.loads((SOURCE_DIR / name).read_text())


def post(client, body, *, url: str = BULK, on_conflict: str | None = None, **extra):
    raw = body if isinstance(body, bytes | str) else json.dumps(body)
    if on_conflict is not None:
        url = f"{url}?on_conflict={on_conflict}"
    return client.post(url, data=raw, content_type="application/json", **extra)


def rows_for(factory: Factory, count: int, *, start: int = FIRST_MINUTE_UNIX, **fields) -> list:
    values = {"sprocket_production_actual": 30, "sprocket_production_goal": 32, **fields}
    return [{"factory_id": factory.pk, "time": start + 60 * i, **values} for i in range(count)]


def chart_entry(count: int, *, start: int = FIRST_MINUTE_UNIX, **factory) -> dict:
    chart = {
        "sprocket_production_actual": [30] * count,
        "sprocket_production_goal": [32] * count,
        "time": [start + 60 * i for i in range(count)],
    }
    return {"factory": {**factory, "chart_data": chart}}


def stored(factory: Factory) -> list[tuple[int, int, int]]:
    return [
        (int(r.time.timestamp()), r.sprocket_production_actual, r.sprocket_production_goal)
        for r in ProductionRecord.objects.filter(factory=factory).order_by("time")
    ]
