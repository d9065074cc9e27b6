"""What the response cache serves (DESIGN §6): repeated JSON reads without touching the data, with
their Link header; private answers when anonymous reads are off, permissions before the cache,
and never the browsable API.

Runs on the configured cache: local memory on the embedded default, Redis when REDIS_URL is set.
The tests commit for real (`transaction=True`): generations are bumped on commit.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.cache_helpers import (
    CHART_DATA,
    FACTORIES_URL,
    PRODUCTION_URL,
    SPROCKETS_URL,
    data_table_queries,
    prime,
)

pytestmark = pytest.mark.django_db(transaction=True)


# Reads served from the cache.


@pytest.mark.parametrize("url", [PRODUCTION_URL, CHART_DATA, SPROCKETS_URL, FACTORIES_URL])
def test_a_cached_read_does_not_query_the_data_tables(viewer, records, url):
    first = viewer.get(url)

    with CaptureQueriesContext(connection) as queries:
        second = viewer.get(url)

    assert second.json() == first.json()
    assert data_table_queries(queries) == []


def test_a_cached_anonymous_read_makes_no_query(api_client, records, django_assert_num_queries):
    first = api_client.get(PRODUCTION_URL)

    with django_assert_num_queries(0):
        second = api_client.get(PRODUCTION_URL)

    assert second.content == first.content


def test_a_cached_page_keeps_its_link_header(api_client, records):
    url = f"{PRODUCTION_URL}?limit=1"
    first = api_client.get(url)

    second = api_client.get(url)

    assert 'rel="next"' in first["Link"]
    assert second["Link"] == first["Link"]


# Private responses when anonymous reads are off.


def test_with_anonymous_reads_off_responses_are_private(viewer, settings):
    settings.ANONYMOUS_READ = False

    response = viewer.get(SPROCKETS_URL)

    assert response["Cache-Control"] == "private"
    vary = {v.strip().lower() for v in response["Vary"].split(",")}
    assert {"authorization", "cookie", "accept"} <= vary


def test_with_anonymous_reads_off_a_304_is_private_too(viewer, settings):
    settings.ANONYMOUS_READ = False
    etag = viewer.get(SPROCKETS_URL)["ETag"]

    response = viewer.get(SPROCKETS_URL, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response["Cache-Control"] == "private"


def test_with_anonymous_reads_on_responses_are_not_marked_private(api_client):
    assert "private" not in api_client.get(SPROCKETS_URL).get("Cache-Control", "")


def test_permissions_are_checked_before_the_cache(viewer, api_client, settings, records):
    settings.ANONYMOUS_READ = False
    prime(viewer, PRODUCTION_URL)

    response = api_client.get(PRODUCTION_URL)

    assert response.status_code == 401


def test_an_anonymous_if_none_match_is_refused_when_anonymous_reads_are_off(
    viewer, api_client, settings
):
    settings.ANONYMOUS_READ = False
    etag = viewer.get(SPROCKETS_URL)["ETag"]

    response = api_client.get(SPROCKETS_URL, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 401


def test_the_browsable_api_is_not_served_from_the_json_cache(api_client, records):
    prime(api_client, PRODUCTION_URL)

    response = api_client.get(PRODUCTION_URL, HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"<html" in response.content


def test_the_browsable_api_does_not_fill_the_json_cache(api_client, records):
    api_client.get(PRODUCTION_URL, HTTP_ACCEPT="text/html")

    response = api_client.get(PRODUCTION_URL)

    assert response["Content-Type"] == "application/json"
    assert len(response.json()) == 3
