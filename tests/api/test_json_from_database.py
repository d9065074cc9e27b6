"""JSON_FROM_DATABASE (DESIGN §9): on PostgreSQL list pages are read in binary and written by
orjson, chart documents are written by the database, and they are the bytes Python writes.
The property: for any rows, filters, orderings and page sizes, every page of every list
answers the same body and the same `Link` with the setting on and off (Python, the oracle);
so does every chart document."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from core import json_sql
from core.cache import cache_generations_bump
from inventory.models import FACTORIES, SPROCKETS, Factory, Sprocket
from production.models import PRODUCTION, ProductionRecord

API = "/sprocketFactory/v1"
START = datetime(2023, 12, 31, 22, tzinfo=UTC)
ZONES = ["UTC", "America/Chicago", "Asia/Kolkata", "Pacific/Chatham"]
# Any text PostgreSQL can hold: quotes, backslashes, control characters, U+2028, emoji.
NAMES = st.builds(
    str.__add__,
    st.sampled_from(["", "Plant ", 'Fäbrik "\\ ']),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        min_size=1,
        max_size=12,
    ),
)
MEASURES = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("99999999.9999"), places=4)
# Records are kept to the whole second (a constraint); created_at/updated_at are not.
moments = st.builds(lambda seconds: START + timedelta(seconds=seconds), st.integers(0, 3 * 86400))


@st.composite
def catalogues(draw) -> dict:
    return {
        "factories": draw(
            st.lists(
                st.tuples(NAMES, st.sampled_from(ZONES), st.booleans()),
                min_size=1,
                max_size=6,
                unique_by=lambda f: f[0],
            )
        ),
        "sprockets": draw(
            st.lists(
                st.tuples(
                    st.one_of(st.none(), NAMES), st.integers(1, 2**31 - 1), MEASURES, MEASURES
                ),
                max_size=6,
                unique_by=lambda s: s[0] or object(),
            )
        ),
        "records": draw(
            st.lists(
                st.tuples(st.integers(0, 5), moments, st.integers(0, 2**31 - 1)),
                max_size=25,
            )
        ),
    }


LISTS = {
    "/factories": {"ordering": ["id", "-id", "name", "-name"], "contains": True},
    "/sprockets": {"ordering": ["id", "-id", "name", "-name"], "contains": True},
    "/production": {"window": True, "contains": True},
    "/production/{factory}": {"ordering": ["time", "-time"], "window": True},
}


CHARTS = ("/factories/chart-data", "/factories/{factory}/chart-data")


@st.composite
def list_queries(draw) -> dict[str, dict]:
    """A query of each list: an ordering, a page size, and filters it takes."""
    queries = {}
    for path, takes in LISTS.items():
        query = {"limit": draw(st.integers(1, 7))}
        if "ordering" in takes:
            query["ordering"] = draw(st.sampled_from(takes["ordering"]))
        if takes.get("window"):
            for bound in ("after", "before"):
                if draw(st.booleans()):
                    query[bound] = draw(moments).strftime("%Y-%m-%dT%H:%M:%SZ")
        if takes.get("contains") and draw(st.booleans()):
            query["contains"] = draw(st.sampled_from(["Plant", 'äbrik "\\', "zzz"]))
        queries[path] = query
    chart_window = {
        bound: draw(moments).strftime("%Y-%m-%dT%H:%M:%SZ")
        for bound in ("after", "before")
        if draw(st.booleans())
    }
    for path in CHARTS:
        queries[path] = chart_window
    return queries


def store(catalogue: dict) -> list[int]:
    ProductionRecord.objects.all().delete()
    Factory.objects.all().delete()
    Sprocket.objects.all().delete()
    factories = Factory.objects.bulk_create(
        Factory(name=name, timezone=zone, is_active=active)
        for name, zone, active in catalogue["factories"]
    )
    Sprocket.objects.bulk_create(
        Sprocket(
            name=name,
            teeth=teeth,
            pitch_diameter=min(one, other),
            outside_diameter=max(one, other),
            pitch=one,
        )
        for name, teeth, one, other in catalogue["sprockets"]
    )
    unique = {
        (factories[i % len(factories)].pk, moment): n for i, moment, n in catalogue["records"]
    }
    ProductionRecord.objects.bulk_create(
        ProductionRecord(
            factory_id=factory_id,
            time=moment,
            sprocket_production_actual=count,
            sprocket_production_goal=count // 2,
        )
        for (factory_id, moment), count in unique.items()
    )
    cache_generations_bump([PRODUCTION, FACTORIES, SPROCKETS])
    return [factory.pk for factory in factories]


def pages(client, url: str, query: dict) -> list[tuple[int, bytes, str | None]]:
    """Every page of a list (a document is one), following `Link`, as (status, body, Link)."""
    answers = []
    response = client.get(url, query, HTTP_ACCEPT="application/json")
    while True:
        assert response.status_code < 500, response.content
        link = response.headers.get("Link")
        answers.append((response.status_code, response.content, link))
        if not link:
            return answers
        response = client.get(link.split(">")[0][1:], HTTP_ACCEPT="application/json")


@pytest.mark.usefixtures("on_postgresql")
@override_settings(CACHE_RESPONSES=False)
@hypothesis_settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(catalogue=catalogues(), queries=list_queries())
def test_every_page_postgresql_writes_is_the_bytes_python_writes(api_client, catalogue, queries):
    factory_ids = store(catalogue)
    for path, query in queries.items():
        url = API + path.format(factory=factory_ids[-1])

        with override_settings(JSON_FROM_DATABASE=True):
            from_database = pages(api_client, url, query)
        with override_settings(JSON_FROM_DATABASE=False):
            from_python = pages(api_client, url, query)

        assert from_database == from_python, (url, query)


@pytest.mark.usefixtures("on_postgresql", "original_data")
def test_the_original_data_page_is_read_in_binary_in_one_query(
    api_client, django_assert_max_num_queries, monkeypatch
):
    binary_reads = []
    real_binary_rows = json_sql._binary_rows

    def counted(*args):
        binary_reads.append(args)
        return real_binary_rows(*args)

    monkeypatch.setattr(json_sql, "_binary_rows", counted)
    with django_assert_max_num_queries(2):  # the factory exists; the page
        response = api_client.get(f"{API}/production/1", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert len(binary_reads) == 1
    assert response.content.startswith(b'[{"id":')
    assert response.content.count(b'"time":"') == 20
