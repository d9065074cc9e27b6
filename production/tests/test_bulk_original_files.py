"""`POST /production/bulk` (DESIGN §4, bulk bodies and rules): the original challenge files, posted
as they are."""

import pytest

from inventory.models import Factory, Sprocket
from production.models import ProductionRecord
from production.services import production_records_delete
from production.tests.bulk_helpers import CHART_DATA, SPROCKETS_BULK, post, source, stored

pytestmark = pytest.mark.django_db


@pytest.fixture
def original_files_posted(manager):
    sprockets = post(manager, source("seed_sprocket_types.json"), url=SPROCKETS_BULK)
    production = post(manager, source("seed_factory_data.json"))
    assert sprockets.status_code == 201, sprockets.content
    assert production.status_code == 201, production.content


def test_the_original_sprocket_file_gives_exactly_three_sprocket_types(original_files_posted):
    assert (
        list(
            Sprocket.objects.values_list(
                "name", "teeth", "pitch_diameter", "outside_diameter", "pitch"
            )
        )
        == [(None, 5, 5, 6, 1)] * 3
    )


def test_the_original_factory_file_gives_factories_1_to_3(original_files_posted):
    assert list(Factory.objects.order_by("name").values_list("name", flat=True)) == [
        "Factory 1",
        "Factory 2",
        "Factory 3",
    ]


def test_the_original_factory_file_gives_its_60_records_with_their_values(
    original_files_posted,
):
    for position, entry in enumerate(source("seed_factory_data.json")["factories"], start=1):
        chart = entry["factory"]["chart_data"]
        expected = list(
            zip(
                chart["time"],
                chart["sprocket_production_actual"],
                chart["sprocket_production_goal"],
                strict=True,
            )
        )
        assert stored(Factory.objects.get(name=f"Factory {position}")) == expected
    assert ProductionRecord.objects.count() == 60


def test_posting_the_original_factory_file_twice_with_skip_does_not_multiply_factories(manager):
    document = source("seed_factory_data.json")
    post(manager, document)

    response = post(manager, document, on_conflict="skip")

    assert response.status_code == 201, response.content
    assert response.json()["skipped"] == 60
    assert Factory.objects.count() == 3
    assert ProductionRecord.objects.count() == 60


@pytest.mark.django_db(transaction=True)
def test_the_chart_data_document_round_trips_through_bulk(original_data, manager):
    before = manager.get(CHART_DATA).json()
    production_records_delete(queryset=ProductionRecord.objects.all())
    emptied = manager.get(CHART_DATA).json()["factories"]
    assert [entry["factory"]["chart_data"]["time"] for entry in emptied] == [[], [], []]

    response = post(manager, before)

    assert response.status_code == 201, response.content
    assert manager.get(CHART_DATA).json() == before
