"""`/factories/chart-data` and `/factories/{id}/chart-data`: the original challenge's document."""

import pytest

from inventory.tests.factories import FactoryFactory
from production.tests.factories import FIRST_MINUTE_UNIX, create_records, source_charts

API = "/sprocketFactory/v1"
CHART_DATA = f"{API}/factories/chart-data"

pytestmark = pytest.mark.django_db
with_and_without_slash = pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])


def expected_chart(factory_id: int, chart_data: dict) -> dict:
    return {"id": factory_id, "name": f"Factory {factory_id}", "chart_data": chart_data}


@with_and_without_slash
def test_chart_data_is_the_original_document_plus_ids_and_names(api_client, original_data, slash):
    response = api_client.get(f"{CHART_DATA}{slash}")

    assert response.status_code == 200
    assert response.json() == {
        "factories": [
            {"factory": expected_chart(position, chart)}
            for position, chart in enumerate(source_charts(), start=1)
        ]
    }


@with_and_without_slash
@pytest.mark.parametrize("factory_id", [1, 2, 3])
def test_one_factorys_chart_data_is_its_part_of_the_original_document(
    api_client, original_data, factory_id, slash
):
    response = api_client.get(f"{API}/factories/{factory_id}/chart-data{slash}")

    assert response.status_code == 200
    assert response.json() == {
        "factory": expected_chart(factory_id, source_charts()[factory_id - 1])
    }


def test_one_factorys_chart_data_narrowed_by_after_and_before(api_client, original_data):
    # The third to the fifth minute of factory 1: [02:08:58, 02:11:58).
    after, before = FIRST_MINUTE_UNIX + 120, FIRST_MINUTE_UNIX + 300

    response = api_client.get(f"{API}/factories/1/chart-data", {"after": after, "before": before})

    source = source_charts()[0]
    assert response.json()["factory"]["chart_data"] == {k: v[2:5] for k, v in source.items()}


def test_chart_data_narrowed_to_one_factorys_window_still_lists_every_factory(
    api_client, original_data
):
    response = api_client.get(
        CHART_DATA, {"after": "2021-01-21T04:00:00Z", "before": "2021-01-21T06:00:00Z"}
    )

    charts = [entry["factory"] for entry in response.json()["factories"]]
    assert [c["id"] for c in charts] == [1, 2, 3]
    assert [len(c["chart_data"]["time"]) for c in charts] == [0, 20, 0]
    assert charts[1]["chart_data"] == source_charts()[1]


def test_chart_data_of_a_factory_without_production_has_empty_series(api_client, plant):
    response = api_client.get(f"{API}/factories/{plant.pk}/chart-data")

    assert response.json() == {
        "factory": {
            "id": plant.pk,
            "name": "Plant Berlin",
            "chart_data": {
                "sprocket_production_actual": [],
                "sprocket_production_goal": [],
                "time": [],
            },
        }
    }


def test_chart_data_of_an_unknown_factory_is_a_404(api_client, original_data):
    response = api_client.get(f"{API}/factories/999/chart-data")

    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize(
    ("query", "field"),
    [({"after": "soon"}, "after"), ({"after": "2021-01-22", "before": "2021-01-21"}, "before")],
)
def test_chart_data_with_a_bad_window_is_a_400_naming_it(api_client, original_data, query, field):
    response = api_client.get(CHART_DATA, query)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_chart_data_of_more_than_chart_max_points_is_a_400_with_a_json_detail(
    api_client, original_data, settings
):
    settings.CHART_MAX_POINTS = 59

    response = api_client.get(CHART_DATA)

    assert response.status_code == 400
    assert "narrower" in response.json()["detail"]


def test_chart_data_of_exactly_chart_max_points_is_answered(api_client, original_data, settings):
    settings.CHART_MAX_POINTS = 60

    response = api_client.get(CHART_DATA)

    assert response.status_code == 200
    assert sum(len(e["factory"]["chart_data"]["time"]) for e in response.json()["factories"]) == 60


def test_one_factorys_chart_data_over_chart_max_points_is_a_400(
    api_client, original_data, settings
):
    settings.CHART_MAX_POINTS = 19

    response = api_client.get(f"{API}/factories/1/chart-data")

    assert response.status_code == 400
    assert "detail" in response.json()


def test_a_window_under_chart_max_points_is_answered_when_the_whole_would_not_be(
    api_client, original_data, settings
):
    settings.CHART_MAX_POINTS = 19

    response = api_client.get(
        f"{API}/factories/1/chart-data", {"before": FIRST_MINUTE_UNIX + 60 * 19}
    )

    assert response.status_code == 200
    assert len(response.json()["factory"]["chart_data"]["time"]) == 19


# Queries do not grow with rows


@pytest.fixture
def production_rows():
    """`rows` records, ten per factory, so factories grow with records."""

    def make(rows: int) -> None:
        for _ in range(rows // 10):
            create_records(FactoryFactory(), 10)

    return make


@pytest.mark.parametrize("rows", [10, 500])
def test_chart_data_takes_two_queries_however_many_rows_and_factories(
    api_client, django_assert_max_num_queries, production_rows, rows
):
    production_rows(rows)

    with django_assert_max_num_queries(2):
        response = api_client.get(CHART_DATA)

    assert sum(len(e["factory"]["chart_data"]["time"]) for e in response.json()["factories"]) == (
        rows
    )


@pytest.mark.parametrize("rows", [10, 500])
def test_one_factorys_chart_data_takes_three_queries_however_many_rows(
    api_client, django_assert_max_num_queries, plant, rows
):
    create_records(plant, rows)

    with django_assert_max_num_queries(3):
        response = api_client.get(f"{API}/factories/{plant.pk}/chart-data")

    assert len(response.json()["factory"]["chart_data"]["time"]) == rows


def test_chart_data_with_more_factories_than_points_allowed_is_a_400(api_client, settings):
    settings.CHART_MAX_POINTS = 2
    for name in ("A plant", "B plant", "C plant"):
        FactoryFactory(name=name)

    response = api_client.get(CHART_DATA)

    assert response.status_code == 400
    assert "factories" in response.json()["detail"]
