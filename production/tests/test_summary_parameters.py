"""GET /production/summary (DESIGN §4 Summary): its parameters: a bad one is a 400 naming it, an
empty one means no value, and SUMMARY_MAX_ROWS bounds the answer."""

import json
from datetime import UTC, datetime

import pytest

from inventory.models import Factory
from inventory.tests.factories import FactoryFactory
from production.tests.summary_helpers import SUMMARY, get_summary, store, summary_row

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bucket": "fortnight"}, "bucket"),
        ({"tz": "Mars/Olympus_Mons"}, "tz"),
        ({"tz": "+05:30"}, "tz"),
        ({"after": "yesterday"}, "after"),
        ({"before": "2021-13-01"}, "before"),
        ({"after": "2021-02-01", "before": "2021-01-01"}, "before"),
    ],
    ids=["bucket", "tz", "tz-offset", "after", "before", "after-not-before"],
)
def test_a_bad_parameter_is_a_400_naming_it(api_client, params, field):
    FactoryFactory()

    response = get_summary(api_client, **params)

    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("factory_id", ["one", "0", "1,,2"])
def test_a_bad_factory_id_is_a_400_naming_it(api_client, factory_id):
    FactoryFactory()

    response = get_summary(api_client, factory_id=factory_id)

    assert response.status_code == 400
    assert "factory_id" in response.json()


def test_an_empty_factory_id_is_ignored_as_on_the_production_list(api_client):
    plant = FactoryFactory()

    response = api_client.get(f"{SUMMARY}?bucket=day&factory_id=")

    assert response.status_code == 200
    assert response.json() == [summary_row(plant.pk, None, 0, 0)]


def _five_dense_hours() -> Factory:
    plant = FactoryFactory()
    store(
        (plant.pk, datetime(2021, 1, 21, hour, minute, tzinfo=UTC), 1, 1)
        for hour in range(10, 15)
        for minute in (5, 35)
    )
    return plant


def test_a_summary_of_exactly_summary_max_rows_rows_is_answered(api_client, settings):
    _five_dense_hours()
    settings.SUMMARY_MAX_ROWS = 6  # five hours and the overall row

    response = get_summary(api_client, bucket="hour")

    assert response.status_code == 200
    assert len(response.json()) == 6


def test_a_summary_of_more_than_summary_max_rows_rows_is_a_400(api_client, settings):
    _five_dense_hours()
    settings.SUMMARY_MAX_ROWS = 5

    response = get_summary(api_client, bucket="hour")

    assert response.status_code == 400
    assert "SUMMARY_MAX_ROWS" in json.dumps(response.json())


def test_empty_query_values_mean_no_value_as_in_every_list(api_client):
    response = api_client.get(
        "/sprocketFactory/v1/production/summary",
        {"after": "", "before": "", "tz": "", "bucket": ""},
    )

    assert response.status_code == 200
