import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from inventory.models import Factory
from inventory.tests.factories import FactoryFactory
from production.models import ProductionRecord

API = "/sprocketFactory/v1"
PRODUCTION = f"{API}/production"
RECORDS = f"{API}/production/records"
CHART_DATA = f"{API}/factories/chart-data"
SOURCE_DIR = settings.BASE_DIR / "fixtures" / "source"

RECORD_FIELDS = {
    "id",
    "factory_id",
    "sprocket_production_actual",
    "sprocket_production_goal",
    "time",
}
UTC_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
FIRST_MINUTE = datetime(2021, 1, 21, 2, 6, 58, tzinfo=UTC)
FIRST_MINUTE_UNIX = 1611194818
MINUTE = timedelta(minutes=1)

pytestmark = pytest.mark.django_db
with_and_without_slash = pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])


@pytest.fixture
def plant():
    return FactoryFactory(name="Plant Berlin")


def create_records(factory: Factory, count: int, start: datetime = FIRST_MINUTE, **fields):
    # Built here, not by ProductionRecordFactory: production/tests/factories.py does not import
    # (its `factory` field shadows the factory_boy module inside the class body).
    values = {"sprocket_production_actual": 30, "sprocket_production_goal": 32, **fields}
    return ProductionRecord.objects.bulk_create(
        ProductionRecord(factory=factory, time=start + i * MINUTE, **values) for i in range(count)
    )


def source_charts() -> list[dict]:
    document = json.loads((SOURCE_DIR / "seed_factory_data.json").read_text())
    return [entry["factory"]["chart_data"] for entry in document["factories"]]


def as_chart_data(records: list[dict]) -> dict:
    return {
        "sprocket_production_actual": [r["sprocket_production_actual"] for r in records],
        "sprocket_production_goal": [r["sprocket_production_goal"] for r in records],
        "time": [int(datetime.fromisoformat(r["time"]).timestamp()) for r in records],
    }


def new_record(owner: Factory, **overrides) -> dict:
    return {
        "factory_id": owner.pk,
        "time": "2021-01-21T02:06:58Z",
        "sprocket_production_actual": 30,
        "sprocket_production_goal": 32,
        **overrides,
    }


# The challenge contract on the original data


@with_and_without_slash
def test_listing_production_answers_every_original_record(api_client, original_data, slash):
    response = api_client.get(f"{PRODUCTION}{slash}")

    assert response.status_code == 200
    records = response.json()
    assert len(records) == 60
    assert [
        as_chart_data([r for r in records if r["factory_id"] == factory_id])
        for factory_id in (1, 2, 3)
    ] == source_charts()


def test_production_is_listed_by_factory_then_time(api_client, original_data):
    records = api_client.get(PRODUCTION).json()

    keys = [(r["factory_id"], r["time"]) for r in records]
    assert keys == sorted(keys)


def test_a_production_record_has_exactly_the_documented_fields_and_json_types(
    api_client, original_data
):
    first = api_client.get(PRODUCTION).json()[0]

    assert first == {
        "id": 1,
        "factory_id": 1,
        "sprocket_production_actual": 32,
        "sprocket_production_goal": 32,
        "time": "2021-01-21T02:06:58Z",
    }


def test_every_listed_record_has_integer_counts_and_a_utc_time_with_z(api_client, original_data):
    for record in api_client.get(PRODUCTION).json():
        assert set(record) == RECORD_FIELDS
        assert all(
            type(record[f]) is int
            for f in ("id", "factory_id", "sprocket_production_actual", "sprocket_production_goal")
        )
        assert UTC_Z.match(record["time"])


@with_and_without_slash
@pytest.mark.parametrize("factory_id", [1, 2, 3])
def test_listing_one_factory_answers_its_original_records_in_time_order(
    api_client, original_data, factory_id, slash
):
    response = api_client.get(f"{PRODUCTION}/{factory_id}{slash}")

    assert response.status_code == 200
    records = response.json()
    assert {r["factory_id"] for r in records} == {factory_id}
    assert as_chart_data(records) == source_charts()[factory_id - 1]


@with_and_without_slash
def test_listing_an_unknown_factory_is_a_404(api_client, original_data, slash):
    response = api_client.get(f"{PRODUCTION}/999{slash}")

    assert response.status_code == 404
    assert "detail" in response.json()


@with_and_without_slash
def test_listing_a_factory_without_production_answers_an_empty_array(api_client, plant, slash):
    response = api_client.get(f"{PRODUCTION}/{plant.pk}{slash}")

    assert response.status_code == 200
    assert response.json() == []


def test_listing_production_with_no_records_answers_an_empty_array(api_client):
    response = api_client.get(PRODUCTION)

    assert response.status_code == 200
    assert response.json() == []


# One record: create, read, replace, change, delete


@with_and_without_slash
def test_creating_a_record_answers_201_with_the_record(manager, plant, slash):
    response = manager.post(f"{PRODUCTION}{slash}", new_record(plant), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body == {**new_record(plant), "id": body["id"]}
    assert ProductionRecord.objects.get(pk=body["id"]).time == FIRST_MINUTE


@with_and_without_slash
def test_creating_a_record_answers_a_location_that_points_at_it(manager, plant, slash):
    response = manager.post(f"{PRODUCTION}{slash}", new_record(plant), format="json")

    created = response.json()
    assert response["Location"] == f"http://testserver{RECORDS}/{created['id']}"
    assert manager.get(response["Location"]).json() == created


@with_and_without_slash
def test_getting_one_record_answers_it(api_client, original_data, slash):
    response = api_client.get(f"{RECORDS}/21{slash}")

    # Record 21 is factory 2's first minute.
    source = source_charts()[1]
    assert response.status_code == 200
    assert response.json() == {
        "id": 21,
        "factory_id": 2,
        "sprocket_production_actual": source["sprocket_production_actual"][0],
        "sprocket_production_goal": source["sprocket_production_goal"][0],
        "time": "2021-01-21T04:53:38Z",
    }
    assert source["time"][0] == int(datetime(2021, 1, 21, 4, 53, 38, tzinfo=UTC).timestamp())


def test_getting_an_unknown_record_is_a_404(api_client):
    assert api_client.get(f"{RECORDS}/999").status_code == 404


@with_and_without_slash
def test_replacing_a_record_stores_the_new_values(manager, plant, slash):
    (record,) = create_records(plant, 1)
    body = new_record(plant, time="2021-02-01T00:00:00Z", sprocket_production_actual=7)

    response = manager.put(f"{RECORDS}/{record.pk}{slash}", body, format="json")

    assert response.status_code == 200
    stored = ProductionRecord.objects.get(pk=record.pk)
    assert stored.time == datetime(2021, 2, 1, tzinfo=UTC)
    assert stored.sprocket_production_actual == 7


@with_and_without_slash
def test_patching_a_record_changes_only_the_given_field(manager, plant, slash):
    (record,) = create_records(plant, 1)

    response = manager.patch(
        f"{RECORDS}/{record.pk}{slash}", {"sprocket_production_goal": 40}, format="json"
    )

    assert response.status_code == 200
    stored = ProductionRecord.objects.get(pk=record.pk)
    assert (stored.sprocket_production_goal, stored.sprocket_production_actual) == (40, 30)
    assert stored.time == FIRST_MINUTE


def test_patching_factory_id_moves_a_record_to_another_factory(manager, plant):
    other = FactoryFactory()
    (record,) = create_records(plant, 1)

    response = manager.patch(f"{RECORDS}/{record.pk}", {"factory_id": other.pk}, format="json")

    assert response.status_code == 200
    assert response.json()["factory_id"] == other.pk
    assert ProductionRecord.objects.get(pk=record.pk).factory_id == other.pk


@with_and_without_slash
def test_deleting_a_record_answers_204_and_removes_it(manager, plant, slash):
    (record,) = create_records(plant, 1)

    response = manager.delete(f"{RECORDS}/{record.pk}{slash}")

    assert response.status_code == 204
    assert not ProductionRecord.objects.filter(pk=record.pk).exists()


def test_a_record_read_and_sent_back_is_accepted(manager, plant):
    (record,) = create_records(plant, 1)
    read = manager.get(f"{RECORDS}/{record.pk}").json()

    response = manager.put(f"{RECORDS}/{record.pk}", read, format="json")

    assert response.status_code == 200
    assert response.json() == read


def test_an_id_sent_on_create_is_ignored(manager, plant):
    response = manager.post(PRODUCTION, new_record(plant, id=999), format="json")

    assert response.status_code == 201
    assert ProductionRecord.objects.get().pk != 999


def test_an_id_sent_on_replace_does_not_change_the_record_id(manager, plant):
    first, second = create_records(plant, 2)

    response = manager.put(
        f"{RECORDS}/{first.pk}", new_record(plant, id=second.pk, time="2022-01-01"), format="json"
    )

    assert response.status_code == 200
    assert response.json()["id"] == first.pk
    assert ProductionRecord.objects.get(pk=second.pk).time == FIRST_MINUTE + MINUTE


# Conflicts and bad input


def test_a_second_record_for_the_same_factory_and_time_is_a_409(manager, plant):
    create_records(plant, 1)

    response = manager.post(PRODUCTION, new_record(plant), format="json")

    assert response.status_code == 409
    assert "detail" in response.json()
    assert ProductionRecord.objects.count() == 1


def test_the_same_time_written_differently_is_still_a_409(manager, plant):
    create_records(plant, 1)

    response = manager.post(
        PRODUCTION, new_record(plant, time="2021-01-21T04:06:58.4+02:00"), format="json"
    )

    assert response.status_code == 409
    assert ProductionRecord.objects.count() == 1


def test_the_same_time_in_another_factory_is_allowed(manager, plant):
    create_records(plant, 1)

    response = manager.post(PRODUCTION, new_record(FactoryFactory()), format="json")

    assert response.status_code == 201


def test_moving_a_record_onto_another_records_time_is_a_409(manager, plant):
    _, second = create_records(plant, 2)

    response = manager.patch(
        f"{RECORDS}/{second.pk}", {"time": "2021-01-21T02:06:58Z"}, format="json"
    )

    assert response.status_code == 409
    assert ProductionRecord.objects.get(pk=second.pk).time == FIRST_MINUTE + MINUTE


def test_an_unknown_factory_id_is_a_400_naming_it(manager, plant):
    response = manager.post(PRODUCTION, new_record(plant, factory_id=999), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["factory_id"]
    assert ProductionRecord.objects.count() == 0


@pytest.mark.parametrize("factory_id", [0, -1, 2**63, "one", None])
def test_a_factory_id_that_is_no_id_is_a_400(manager, plant, factory_id):
    response = manager.post(PRODUCTION, new_record(plant, factory_id=factory_id), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["factory_id"]


@pytest.mark.parametrize("field", ["sprocket_production_actual", "sprocket_production_goal"])
@pytest.mark.parametrize("value", [-1, 2**31, 1.5, "many", None])
def test_a_count_that_is_no_whole_number_from_zero_is_a_400(manager, plant, field, value):
    response = manager.post(PRODUCTION, new_record(plant, **{field: value}), format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_counts_of_zero_are_accepted(manager, plant):
    body = new_record(plant, sprocket_production_actual=0, sprocket_production_goal=0)

    assert manager.post(PRODUCTION, body, format="json").status_code == 201


def test_patching_actual_to_minus_one_is_a_400_and_keeps_the_record(manager, plant):
    (record,) = create_records(plant, 1)

    response = manager.patch(
        f"{RECORDS}/{record.pk}", {"sprocket_production_actual": -1}, format="json"
    )

    assert response.status_code == 400
    assert ProductionRecord.objects.get(pk=record.pk).sprocket_production_actual == 30


def test_an_unknown_record_field_is_a_400_naming_it(manager, plant):
    response = manager.post(PRODUCTION, new_record(plant, factory="Plant"), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["factory"]


def test_a_record_without_a_time_is_a_400(manager, plant):
    body = {k: v for k, v in new_record(plant).items() if k != "time"}

    response = manager.post(PRODUCTION, body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["time"]


# Time input: ISO 8601 date or datetime (no offset = UTC) or unix seconds


@pytest.mark.parametrize(
    ("time_in", "stored"),
    [
        (FIRST_MINUTE_UNIX, FIRST_MINUTE),
        (str(FIRST_MINUTE_UNIX), FIRST_MINUTE),
        ("2021-01-21", datetime(2021, 1, 21, tzinfo=UTC)),
        ("2021-01-21T02:06:58Z", FIRST_MINUTE),
        ("2021-01-21T02:06:58", FIRST_MINUTE),
        ("2021-01-21T02:06:58+00:00", FIRST_MINUTE),
        ("2021-01-21T04:06:58+02:00", FIRST_MINUTE),
        ("2021-01-20T21:06:58-05:00", FIRST_MINUTE),
        ("2021-01-21T02:06:58.999Z", FIRST_MINUTE),
        ("2021-01-21T02:06:58.000001", FIRST_MINUTE),
    ],
    ids=[
        "unix-int",
        "unix-string",
        "date",
        "z",
        "no-offset",
        "zero-offset",
        "plus-two",
        "minus-five",
        "sub-second",
        "sub-second-no-offset",
    ],
)
def test_a_time_in_any_accepted_form_is_stored_in_utc_to_the_whole_second(
    manager, plant, time_in, stored
):
    response = manager.post(PRODUCTION, new_record(plant, time=time_in), format="json")

    assert response.status_code == 201, response.content
    record = ProductionRecord.objects.get(pk=response.json()["id"])
    assert record.time == stored
    assert record.time.microsecond == 0


def test_a_time_with_an_offset_is_answered_in_utc_with_z(manager, plant):
    response = manager.post(
        PRODUCTION, new_record(plant, time="2021-01-21T04:06:58.75+02:00"), format="json"
    )

    assert response.json()["time"] == "2021-01-21T02:06:58Z"


@pytest.mark.parametrize(
    "time_in",
    ["yesterday", "2021-02-30", "10000-01-01", 10**12, 1611194818.5, True, "", "\x00"],
)
def test_a_time_that_is_no_accepted_form_is_a_400_naming_time(manager, plant, time_in):
    response = manager.post(PRODUCTION, new_record(plant, time=time_in), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["time"]


def test_a_time_whose_offset_moves_it_past_year_9999_is_a_400(manager, plant):
    body = new_record(plant, time="9999-12-31T23:59:59-01:00")

    response = manager.post(PRODUCTION, body, format="json")

    assert response.status_code == 400


# Deleting a window: DELETE /production/{factory_id}?after=&before=


@pytest.fixture
def ten_minutes(plant):
    """Ten records of `plant`, one a minute from FIRST_MINUTE, and ten of another factory."""
    create_records(plant, 10)
    create_records(FactoryFactory(name="Plant Lyon"), 10)
    return plant


def remaining_minutes(factory: Factory) -> list[int]:
    times = ProductionRecord.objects.filter(factory=factory).order_by("time")
    return [int((t - FIRST_MINUTE) / MINUTE) for t in times.values_list("time", flat=True)]


@with_and_without_slash
def test_deleting_a_window_deletes_exactly_after_up_to_before(manager, ten_minutes, slash):
    response = manager.delete(
        f"{PRODUCTION}/{ten_minutes.pk}{slash}"
        "?after=2021-01-21T02:08:58Z&before=2021-01-21T02:11:58Z"
    )

    assert response.status_code == 200
    assert response.json() == {"deleted": 3}
    assert remaining_minutes(ten_minutes) == [0, 1, 5, 6, 7, 8, 9]


def test_deleting_a_window_leaves_other_factories_untouched(manager, ten_minutes):
    manager.delete(f"{PRODUCTION}/{ten_minutes.pk}?after=2021-01-21&before=2021-01-22")

    assert remaining_minutes(ten_minutes) == []
    assert ProductionRecord.objects.exclude(factory=ten_minutes).count() == 10


def test_deleting_a_window_takes_unix_seconds_and_offsets(manager, ten_minutes):
    after = FIRST_MINUTE_UNIX + 60
    response = manager.delete(
        f"{PRODUCTION}/{ten_minutes.pk}?after={after}&before=2021-01-21T04:09:58%2B02:00"
    )

    assert response.json() == {"deleted": 2}
    assert remaining_minutes(ten_minutes) == [0, 3, 4, 5, 6, 7, 8, 9]


def test_deleting_an_empty_window_answers_zero(manager, ten_minutes):
    response = manager.delete(f"{PRODUCTION}/{ten_minutes.pk}?after=2020-01-01&before=2020-02-01")

    assert response.json() == {"deleted": 0}
    assert ProductionRecord.objects.count() == 20


@pytest.mark.parametrize(
    ("query", "missing"),
    [
        ("?after=2021-01-21", ["before"]),
        ("?before=2021-01-22", ["after"]),
        ("", ["after", "before"]),
    ],
)
def test_deleting_a_window_without_both_bounds_is_a_400_naming_them(
    manager, ten_minutes, query, missing
):
    response = manager.delete(f"{PRODUCTION}/{ten_minutes.pk}{query}")

    assert response.status_code == 400
    assert sorted(response.json()) == missing
    assert ProductionRecord.objects.count() == 20


def test_deleting_a_window_that_ends_before_it_starts_is_a_400(manager, ten_minutes):
    response = manager.delete(f"{PRODUCTION}/{ten_minutes.pk}?after=2021-01-22&before=2021-01-21")

    assert response.status_code == 400
    assert ProductionRecord.objects.count() == 20


def test_deleting_a_window_with_a_bad_bound_is_a_400_naming_it(manager, ten_minutes):
    response = manager.delete(f"{PRODUCTION}/{ten_minutes.pk}?after=soon&before=2021-01-22")

    assert response.status_code == 400
    assert list(response.json()) == ["after"]


def test_deleting_a_window_of_an_unknown_factory_is_a_404(manager):
    response = manager.delete(f"{PRODUCTION}/999?after=2021-01-21&before=2021-01-22")

    assert response.status_code == 404


# Chart data: the original challenge's document


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
def test_listing_production_takes_one_query_however_many_rows(
    api_client, django_assert_max_num_queries, production_rows, rows
):
    production_rows(rows)

    with django_assert_max_num_queries(1):
        response = api_client.get(PRODUCTION)

    assert len(response.json()) == rows


@pytest.mark.parametrize("rows", [10, 500])
def test_listing_one_factory_takes_two_queries_however_many_rows(
    api_client, django_assert_max_num_queries, plant, rows
):
    create_records(plant, rows)

    with django_assert_max_num_queries(2):
        response = api_client.get(f"{PRODUCTION}/{plant.pk}")

    assert len(response.json()) == rows


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
