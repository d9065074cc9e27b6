"""Which SQL the summary runs: the unfiltered rollup scan serves a summary of every factory."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ingest.models import OnConflict
from inventory.tests.factories import FactoryFactory
from production.columns import ProductionColumns
from production.models import ProductionDailyRollup
from production.services import production_rows_write

SUMMARY = "/sprocketFactory/v1/production/summary"
START = datetime(2024, 1, 1, tzinfo=UTC)
DAILY_ROLLUP = ProductionDailyRollup._meta.db_table


@pytest.fixture
def two_days_of_two_factories(on_postgresql) -> list[int]:
    ids = [FactoryFactory(timezone="UTC").pk for _ in range(2)]
    columns = ProductionColumns()
    for factory_id in ids:
        for hour in range(48):
            columns.factory_ids.append(factory_id)
            columns.times.append(int((START + timedelta(hours=hour)).timestamp()))
            columns.actual.append(30)
            columns.goal.append(32)
    production_rows_write(columns=columns, on_conflict=OnConflict.ERROR)
    return ids


def daily_rollup_queries(api_client, query: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(f"{SUMMARY}?bucket=day{query}")
    assert response.status_code == 200
    return [q["sql"] for q in queries if f"FROM {DAILY_ROLLUP} t" in q["sql"]]


def test_a_summary_of_every_factory_scans_the_rollup_without_a_factory_filter(
    api_client, two_days_of_two_factories
):
    (sql,) = daily_rollup_queries(api_client, "")

    assert "factory_id = ANY" not in sql


def test_a_summary_of_chosen_factories_filters_the_rollup_by_factory(
    api_client, two_days_of_two_factories
):
    first, _ = two_days_of_two_factories

    (sql,) = daily_rollup_queries(api_client, f"&factory_id={first}")

    assert "factory_id = ANY" in sql


def test_both_paths_give_the_same_sums(api_client, two_days_of_two_factories):
    ids = ",".join(map(str, two_days_of_two_factories))

    every = api_client.get(f"{SUMMARY}?bucket=day").json()
    chosen = api_client.get(f"{SUMMARY}?bucket=day&factory_id={ids}").json()

    assert every == chosen
    assert [row["sprocket_production_actual"] for row in every] == [720, 720, 1440] * 2


@pytest.mark.parametrize("bucket", ["month", "auto"])
@pytest.mark.parametrize("query", ["", "&factory_id={first}", "&factory_id=999"])
def test_a_summary_on_postgresql_takes_two_queries_at_most(
    api_client, two_days_of_two_factories, django_assert_max_num_queries, query, bucket
):
    """The factories with the span of their data (and for `auto` each one's first and last
    record) in one, the sums in the other."""
    first, _ = two_days_of_two_factories

    with django_assert_max_num_queries(2):
        response = api_client.get(f"{SUMMARY}?bucket={bucket}&tz=UTC{query.format(first=first)}")

    assert response.status_code == 200
    # Two days in hours; no data at all (factory 999) is a day.
    auto_stands_for = "day" if "999" in query else "hour"
    assert response["Bucket"] == (bucket if bucket == "month" else auto_stands_for)
