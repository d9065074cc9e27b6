"""ETags and conditional requests (DESIGN §6): a matching If-None-Match is a 304 without a body or
a query of the data, and a write changes the ETag.

Runs on the configured cache: local memory on the embedded default, Redis when REDIS_URL is set.
The tests commit for real (`transaction=True`): generations are bumped on commit.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.tests.factories import SprocketFactory
from tests.api.cache_helpers import PRODUCTION_URL, SPROCKETS_URL, data_table_queries

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_read_carries_an_etag(api_client):
    assert api_client.get(SPROCKETS_URL)["ETag"].startswith('"')


def test_a_matching_if_none_match_is_a_304_without_a_body(api_client):
    etag = api_client.get(SPROCKETS_URL)["ETag"]

    response = api_client.get(SPROCKETS_URL, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


def test_a_weak_or_listed_if_none_match_also_matches(api_client):
    etag = api_client.get(SPROCKETS_URL)["ETag"]

    response = api_client.get(SPROCKETS_URL, HTTP_IF_NONE_MATCH=f'"other", W/{etag}')

    assert response.status_code == 304


def test_another_query_has_another_etag(api_client):
    assert (
        api_client.get(f"{SPROCKETS_URL}?limit=1")["ETag"]
        != api_client.get(f"{SPROCKETS_URL}?limit=2")["ETag"]
    )


def test_after_a_write_the_old_etag_no_longer_matches(api_client, manager):
    etag = api_client.get(SPROCKETS_URL)["ETag"]
    SprocketFactory()

    response = api_client.get(SPROCKETS_URL, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert len(response.json()) == 1
    assert response["ETag"] != etag


def test_an_anonymous_304_makes_no_query(api_client, records, django_assert_num_queries):
    etag = api_client.get(PRODUCTION_URL)["ETag"]

    with django_assert_num_queries(0):
        response = api_client.get(PRODUCTION_URL, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304


def test_an_authenticated_304_does_not_query_the_data_tables(viewer, records):
    etag = viewer.get(PRODUCTION_URL)["ETag"]

    with CaptureQueriesContext(connection) as queries:
        response = viewer.get(PRODUCTION_URL, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert data_table_queries(queries) == []
