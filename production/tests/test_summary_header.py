"""GET /production/summary says which bucket its rows are summed by in a `Bucket` header, on
fresh, cached and 304 answers alike, and the schema documents it with the bucket choices."""

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.tests.factories import FactoryFactory
from production.models import ProductionRecord
from production.tests.summary_helpers import ONE_MINUTE, SUMMARY, bucket_of, get_summary, store

pytestmark = pytest.mark.django_db

CHOICES = ["auto", "minute", "hour", "day", "week", "month"]


@pytest.fixture
def plant():
    plant = FactoryFactory(timezone="UTC")
    store((plant.pk, ONE_MINUTE.replace(minute=minute), 30, 32) for minute in range(20))
    return plant


@pytest.mark.parametrize("bucket", ["minute", "hour", "day", "week", "month"])
def test_an_explicit_bucket_is_named_in_the_bucket_header(api_client, plant, bucket):
    response = get_summary(api_client, bucket=bucket)

    assert response.status_code == 200
    assert bucket_of(response) == bucket


@pytest.mark.parametrize("bucket", ["auto", None, ""], ids=["auto", "absent", "empty"])
def test_the_bucket_auto_chose_is_named_in_the_bucket_header(api_client, plant, bucket):
    response = api_client.get(SUMMARY, {} if bucket is None else {"bucket": bucket})

    assert bucket_of(response) == "minute"


def test_the_body_stays_a_list_of_rows(api_client, plant):
    rows = get_summary(api_client).json()

    assert isinstance(rows, list)
    assert rows[-1]["bucket"] is None


def test_a_cached_summary_keeps_its_bucket_header(api_client, plant):
    first = get_summary(api_client)

    with CaptureQueriesContext(connection) as queries:
        second = get_summary(api_client)

    records = ProductionRecord._meta.db_table
    assert not [q for q in queries if records in q["sql"]], "the second read was not cached"
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]
    assert (bucket_of(first), bucket_of(second)) == ("minute", "minute")


def test_a_cached_explicit_bucket_keeps_its_header(api_client, plant):
    get_summary(api_client, bucket="week")

    assert bucket_of(get_summary(api_client, bucket="week")) == "week"


def test_a_304_of_a_summary_repeats_its_bucket_header(api_client, plant):
    etag = get_summary(api_client, bucket="hour")["ETag"]

    response = api_client.get(SUMMARY, {"bucket": "hour"}, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert bucket_of(response) == "hour"


def test_the_bucket_header_is_sent_when_the_cache_is_off(api_client, plant, settings):
    settings.CACHE_RESPONSES = False

    assert bucket_of(get_summary(api_client, bucket="day")) == "day"


def test_a_bad_bucket_is_a_json_400_listing_the_choices(api_client, plant):
    response = get_summary(api_client, bucket="fortnight")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    (message,) = response.json()["bucket"]
    assert "fortnight" in message
    assert ", ".join(CHOICES) in message


# The schema.


@pytest.fixture
def summary_schema(api_client) -> dict:
    response = api_client.get("/sprocketFactory/v1/schema", {"format": "json"}, secure=True)
    assert response.status_code == 200
    paths = {
        path.rstrip("/"): item for path, item in orjson.loads(response.content)["paths"].items()
    }
    return paths[SUMMARY]["get"]


def test_the_schema_lists_the_bucket_choices_with_auto_the_default(summary_schema):
    (bucket,) = [p for p in summary_schema["parameters"] if p["name"] == "bucket"]

    assert bucket["in"] == "query"
    assert bucket["schema"]["enum"] == CHOICES
    assert bucket["schema"]["default"] == "auto"


def test_the_schema_documents_the_bucket_response_header(summary_schema):
    header = summary_schema["responses"]["200"]["headers"]["Bucket"]

    assert sorted(header["schema"]["enum"]) == sorted(CHOICES[1:])
    assert header["required"] is True
    assert "auto" in header["description"]
    assert all(p["name"] != "Bucket" for p in summary_schema["parameters"])
