"""`POST /production/bulk` (DESIGN §4, bulk bodies and rules)."""

import json

import pytest
from django.conf import settings
from django.db import connection

from ingest.models import IngestBatch
from inventory.models import Factory, Sprocket
from inventory.tests.factories import FactoryFactory
from production import copy as production_copy
from production import services as production_services
from production.models import ProductionRecord
from production.services import production_records_delete

API = "/sprocketFactory/v1"
BULK = f"{API}/production/bulk"
SPROCKETS_BULK = f"{API}/sprockets/bulk"
CHART_DATA = f"{API}/factories/chart-data"
SOURCE_DIR = settings.BASE_DIR / "fixtures" / "source"
FIRST_MINUTE_UNIX = 1611194818

pytestmark = pytest.mark.django_db


@pytest.fixture
def plant():
    return FactoryFactory(name="Plant Berlin")


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


# The original challenge files, posted as they are.


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


# Body shapes.


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(lambda rows: rows, id="array"),
        pytest.param(lambda rows: {"items": rows}, id="items"),
    ],
)
def test_bulk_accepts_records_as_an_array_or_under_items(manager, plant, shape):
    response = post(manager, shape(rows_for(plant, 3)))

    assert response.status_code == 201, response.content
    assert response.json()["created"] == 3
    assert len(stored(plant)) == 3


def test_bulk_accepts_a_chart_data_document(manager, plant):
    response = post(manager, {"factories": [chart_entry(4, id=plant.pk)]})

    assert response.status_code == 201, response.content
    assert len(stored(plant)) == 4


def test_bulk_accepts_times_as_iso_strings(manager, plant):
    rows = rows_for(plant, 1)
    rows[0]["time"] = "2021-01-21T02:06:58Z"

    response = post(manager, rows)

    assert response.status_code == 201, response.content
    assert stored(plant) == [(FIRST_MINUTE_UNIX, 30, 32)]


def test_bulk_refuses_an_object_of_another_shape(manager, plant):
    response = post(manager, {"records": rows_for(plant, 1)})

    assert response.status_code == 400
    assert "detail" in response.json()


# Validation: all or nothing, errors keyed by item index and field.


@pytest.mark.parametrize("bad", [0, 500, 999], ids=["first", "middle", "last"])
def test_bulk_rejects_the_whole_body_when_one_item_is_bad(manager, plant, bad):
    rows = rows_for(plant, 1000)
    rows[bad]["sprocket_production_goal"] = "lots"

    response = post(manager, rows)

    assert response.status_code == 400
    assert list(response.json()) == [str(bad)]
    assert list(response.json()[str(bad)]) == ["sprocket_production_goal"]
    assert ProductionRecord.objects.count() == 0


def test_bulk_lists_every_bad_item(manager, plant):
    rows = rows_for(plant, 10)
    rows[1]["time"] = "yesterday-ish"
    rows[4]["sprocket_production_actual"] = -1
    rows[7]["sprocket_production_goal"] = None

    body = post(manager, rows).json()

    assert body == {
        "1": {"time": body["1"]["time"]},
        "4": {"sprocket_production_actual": body["4"]["sprocket_production_actual"]},
        "7": {"sprocket_production_goal": body["7"]["sprocket_production_goal"]},
    }


def test_bulk_rejects_a_factory_id_that_does_not_exist_at_its_index(manager, plant):
    rows = rows_for(plant, 3)
    rows[2]["factory_id"] = plant.pk + 1000

    response = post(manager, rows)

    assert response.status_code == 400
    assert list(response.json()) == ["2"]
    assert "factory_id" in response.json()["2"]
    assert ProductionRecord.objects.count() == 0


def test_bulk_rejects_an_unknown_field_at_its_index(manager, plant):
    rows = rows_for(plant, 3)
    rows[1]["colour"] = "blue"

    response = post(manager, rows)

    assert response.status_code == 400
    assert response.json() == {"1": {"colour": [response.json()["1"]["colour"][0]]}}


def test_bulk_reports_a_bad_document_point_by_entry_and_point(manager, plant):
    entry = chart_entry(3, id=plant.pk)
    entry["factory"]["chart_data"]["time"][2] = "not a time"

    response = post(manager, {"factories": [chart_entry(1, name="Other"), entry]})

    assert response.status_code == 400
    assert list(response.json()) == ["1.2"]
    assert "time" in response.json()["1.2"]
    assert not Factory.objects.filter(name="Other").exists()


def test_bulk_refuses_a_document_with_lists_of_different_lengths(manager, plant):
    entry = chart_entry(3, id=plant.pk)
    entry["factory"]["chart_data"]["sprocket_production_goal"].pop()

    response = post(manager, {"factories": [entry]})

    assert response.status_code == 400
    assert "chart_data" in response.json()["0"]


# Factories in a document: by id, by name, by position.


def test_a_document_factory_given_by_id_gets_the_records(manager, plant):
    post(manager, {"factories": [chart_entry(2, id=plant.pk)]})

    assert len(stored(plant)) == 2
    assert Factory.objects.count() == 1


def test_a_document_factory_id_that_does_not_exist_is_a_400_at_its_entry(manager, plant):
    response = post(
        manager, {"factories": [chart_entry(2, id=plant.pk), chart_entry(2, id=plant.pk + 99)]}
    )

    assert response.status_code == 400
    assert list(response.json()) == ["1"]
    assert "id" in response.json()["1"]
    assert ProductionRecord.objects.count() == 0


def test_a_document_factory_given_by_name_is_matched(manager, plant):
    post(manager, {"factories": [chart_entry(2, name="Plant Berlin")]})

    assert len(stored(plant)) == 2
    assert Factory.objects.count() == 1


def test_a_document_factory_given_by_an_unknown_name_is_created(manager):
    response = post(manager, {"factories": [chart_entry(2, name="Plant Lagos")]})

    assert response.status_code == 201, response.content
    assert len(stored(Factory.objects.get(name="Plant Lagos"))) == 2


def test_a_document_factory_without_id_or_name_is_named_by_its_position(manager):
    existing = FactoryFactory(name="Factory 2")

    post(manager, {"factories": [chart_entry(1), chart_entry(2)]})

    assert sorted(Factory.objects.values_list("name", flat=True)) == ["Factory 1", "Factory 2"]
    assert len(stored(existing)) == 2


def test_an_operator_cannot_create_factories_through_a_document(operator, plant):
    response = post(
        operator, {"factories": [chart_entry(2, id=plant.pk), chart_entry(2, name="Plant Lagos")]}
    )

    assert response.status_code == 403
    assert Factory.objects.count() == 1
    assert ProductionRecord.objects.count() == 0


def test_an_operator_may_post_a_document_naming_existing_factories(operator, plant):
    response = post(operator, {"factories": [chart_entry(2, name="Plant Berlin")]})

    assert response.status_code == 201, response.content
    assert len(stored(plant)) == 2


# on_conflict.


def test_on_conflict_error_is_the_default_and_lists_rows_that_exist(manager, plant):
    post(manager, rows_for(plant, 2, start=FIRST_MINUTE_UNIX + 120))
    rows = rows_for(plant, 5, sprocket_production_actual=1)

    response = post(manager, rows)

    assert response.status_code == 409
    assert sorted(response.json()["conflicts"]) == ["2", "3"]
    assert [actual for _, actual, _ in stored(plant)] == [30, 30]


def test_on_conflict_error_lists_duplicates_within_the_body(manager, plant):
    rows = rows_for(plant, 3) + rows_for(plant, 1)

    response = post(manager, rows, on_conflict="error")

    assert response.status_code == 409
    assert list(response.json()["conflicts"]) == ["3"]
    assert ProductionRecord.objects.count() == 0


def test_on_conflict_skip_keeps_the_existing_row(manager, plant):
    post(manager, rows_for(plant, 1))

    response = post(manager, rows_for(plant, 2, sprocket_production_actual=7), on_conflict="skip")

    assert response.status_code == 201, response.content
    assert stored(plant) == [(FIRST_MINUTE_UNIX, 30, 32), (FIRST_MINUTE_UNIX + 60, 7, 32)]


def test_on_conflict_skip_keeps_the_first_row_of_the_body(manager, plant):
    rows = rows_for(plant, 1, sprocket_production_actual=1) + rows_for(
        plant, 1, sprocket_production_actual=2
    )

    post(manager, rows, on_conflict="skip")

    assert stored(plant) == [(FIRST_MINUTE_UNIX, 1, 32)]


def test_on_conflict_skip_counts_created_and_skipped(manager, plant):
    post(manager, rows_for(plant, 2))
    rows = rows_for(plant, 4) + rows_for(plant, 1)

    response = post(manager, rows, on_conflict="skip")

    assert {k: response.json()[k] for k in ("created", "updated", "skipped")} == {
        "created": 2,
        "updated": 0,
        "skipped": 3,
    }


def test_on_conflict_update_lets_the_last_row_of_the_body_win(manager, plant):
    post(manager, rows_for(plant, 1))
    rows = rows_for(plant, 1, sprocket_production_actual=1) + rows_for(
        plant, 1, sprocket_production_actual=2
    )

    post(manager, rows, on_conflict="update")

    assert stored(plant) == [(FIRST_MINUTE_UNIX, 2, 32)]


def test_on_conflict_update_counts_created_updated_and_skipped(manager, plant):
    post(manager, rows_for(plant, 2))
    rows = rows_for(plant, 4, sprocket_production_actual=9) + rows_for(plant, 1)

    response = post(manager, rows, on_conflict="update")

    assert {k: response.json()[k] for k in ("created", "updated", "skipped")} == {
        "created": 2,
        "updated": 2,
        "skipped": 1,
    }


def test_conflicts_in_a_document_are_listed_by_entry_and_point(manager, plant):
    document = {"factories": [chart_entry(3, id=plant.pk), chart_entry(2, name="Plant Berlin")]}

    response = post(manager, document)

    assert response.status_code == 409
    assert sorted(response.json()["conflicts"]) == ["1.0", "1.1"]
    assert ProductionRecord.objects.count() == 0


def test_an_unknown_on_conflict_is_a_400(manager, plant):
    response = post(manager, rows_for(plant, 1), on_conflict="merge")

    assert response.status_code == 400
    assert "on_conflict" in response.json()


def test_an_operator_may_ingest_with_on_conflict_update(operator, plant):
    post(operator, rows_for(plant, 1))

    response = post(
        operator, rows_for(plant, 1, sprocket_production_actual=5), on_conflict="update"
    )

    assert response.status_code == 201, response.content
    assert stored(plant) == [(FIRST_MINUTE_UNIX, 5, 32)]


def test_a_viewer_may_not_ingest(api_client_as, plant):
    response = post(api_client_as("viewer"), rows_for(plant, 1))

    assert response.status_code == 403
    assert ProductionRecord.objects.count() == 0


def test_an_anonymous_client_may_not_ingest(api_client, plant):
    response = post(api_client, rows_for(plant, 1))

    assert response.status_code == 401
    assert ProductionRecord.objects.count() == 0


# The answer and its audit.


def test_a_successful_ingest_answers_counts_and_its_batch(manager, plant):
    response = post(manager, rows_for(plant, 3))

    assert response.status_code == 201
    assert response.json() == {
        "created": 3,
        "updated": 0,
        "skipped": 0,
        "batch": IngestBatch.objects.get().pk,
    }


def test_a_successful_ingest_is_recorded_as_an_ingest_batch(manager, plant):
    post(manager, {"items": rows_for(plant, 3) + rows_for(plant, 1)}, on_conflict="skip")

    batch = IngestBatch.objects.get()
    assert (batch.user.username, batch.resource, batch.shape, batch.on_conflict) == (
        "manager-user",
        "production",
        "items",
        "skip",
    )
    assert (batch.rows, batch.created, batch.updated, batch.skipped) == (4, 3, 0, 1)
    assert batch.status_code == 201


def test_a_rejected_ingest_is_recorded_without_its_idempotency_key(manager, plant):
    rows = rows_for(plant, 2)
    rows[1]["time"] = "never"

    post(manager, rows, HTTP_IDEMPOTENCY_KEY="key-1")

    batch = IngestBatch.objects.get()
    assert (batch.status_code, batch.idempotency_key) == (400, None)
    assert "1" in batch.response


def test_a_conflicting_ingest_is_recorded_with_status_409(manager, plant):
    post(manager, rows_for(plant, 1))

    post(manager, rows_for(plant, 1))

    assert list(IngestBatch.objects.values_list("status_code", flat=True)) == [409, 201]


# Idempotency-Key.


def test_a_retry_with_the_same_idempotency_key_replays_the_first_answer(manager, plant):
    rows = rows_for(plant, 3)
    first = post(manager, rows, HTTP_IDEMPOTENCY_KEY="key-1")

    retry = post(manager, rows, HTTP_IDEMPOTENCY_KEY="key-1")

    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"


def test_a_retry_with_the_same_idempotency_key_writes_nothing(manager, plant):
    rows = rows_for(plant, 3)
    post(manager, rows, HTTP_IDEMPOTENCY_KEY="key-1")
    ProductionRecord.objects.all().delete()

    post(manager, rows, HTTP_IDEMPOTENCY_KEY="key-1")

    assert ProductionRecord.objects.count() == 0
    assert IngestBatch.objects.count() == 1


def test_a_first_request_with_an_idempotency_key_is_not_marked_replayed(manager, plant):
    response = post(manager, rows_for(plant, 3), HTTP_IDEMPOTENCY_KEY="key-1")

    assert "Idempotent-Replayed" not in response.headers


def test_the_same_idempotency_key_with_another_body_is_a_409(manager, plant):
    post(manager, rows_for(plant, 3), HTTP_IDEMPOTENCY_KEY="key-1")

    response = post(
        manager, rows_for(plant, 3, start=FIRST_MINUTE_UNIX + 3600), HTTP_IDEMPOTENCY_KEY="key-1"
    )

    assert response.status_code == 409
    assert ProductionRecord.objects.count() == 3


def test_the_same_idempotency_key_from_another_user_is_independent(manager, operator, plant):
    post(manager, rows_for(plant, 3), HTTP_IDEMPOTENCY_KEY="key-1")

    response = post(
        operator, rows_for(plant, 3, start=FIRST_MINUTE_UNIX + 3600), HTTP_IDEMPOTENCY_KEY="key-1"
    )

    assert response.status_code == 201, response.content
    assert "Idempotent-Replayed" not in response.headers
    assert ProductionRecord.objects.count() == 6


def test_a_key_whose_request_failed_can_be_used_again(manager, plant):
    rows = rows_for(plant, 2)
    post(manager, [*rows, {"oops": 1}], HTTP_IDEMPOTENCY_KEY="key-1")

    response = post(manager, rows, HTTP_IDEMPOTENCY_KEY="key-1")

    assert response.status_code == 201, response.content
    assert ProductionRecord.objects.count() == 2


def test_an_idempotency_key_over_200_characters_is_a_400(manager, plant):
    response = post(manager, rows_for(plant, 1), HTTP_IDEMPOTENCY_KEY="k" * 201)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert ProductionRecord.objects.count() == 0


# A failure in the middle of the write leaves nothing behind.


def test_a_failure_after_the_rows_are_written_leaves_no_rows_and_no_factories(manager, monkeypatch):
    real_write = production_services.production_rows_write

    def write_then_fail(*args, **kwargs):
        real_write(*args, **kwargs)
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(production_services, "production_rows_write", write_then_fail)

    response = post(manager, {"factories": [chart_entry(5, name="Plant Lagos")]})

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}
    assert ProductionRecord.objects.count() == 0
    assert Factory.objects.count() == 0


def test_a_failure_in_the_middle_of_the_write_is_audited_as_a_500(manager, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(production_services, "production_rows_write", fail)

    post(manager, {"factories": [chart_entry(5, name="Plant Lagos")]})

    (batch,) = IngestBatch.objects.all()
    assert batch.status_code == 500
    assert batch.idempotency_key is None


def test_a_failure_inside_the_copy_leaves_no_rows(on_postgresql, manager, plant, monkeypatch):
    real_rows = production_copy._rows

    def rows_then_fail(columns, positions):
        for sent, row in enumerate(real_rows(columns, positions)):
            if sent == 500:
                raise RuntimeError("the client went away mid-COPY")
            yield row

    monkeypatch.setattr(production_copy, "_rows", rows_then_fail)

    response = post(manager, rows_for(plant, 1000))

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}
    assert ProductionRecord.objects.count() == 0


# A constant number of queries, however many rows.


def query_bound() -> int:
    """Queries of one bulk request of any size, token authentication included.

    SQLite stages every write in a temporary table (create, fill, join, drop); PostgreSQL
    COPYs straight into the table after setting the bulk statement timeout. The write runs
    in a savepoint of its own (SAVEPOINT, RELEASE).
    """
    return 18 if connection.vendor == "postgresql" else 21


@pytest.mark.parametrize("count", [10, 5000])
def test_ingesting_an_array_takes_a_bounded_number_of_queries(
    manager, plant, count, django_assert_max_num_queries
):
    rows = rows_for(plant, count)

    with django_assert_max_num_queries(query_bound()):
        response = post(manager, rows)

    assert response.status_code == 201, response.content
    assert response.json()["created"] == count


@pytest.mark.parametrize("count", [10, 5000])
def test_ingesting_a_document_takes_a_bounded_number_of_queries(
    manager, plant, count, django_assert_max_num_queries
):
    document = {"factories": [chart_entry(count, id=plant.pk), chart_entry(count, name="New")]}

    with django_assert_max_num_queries(query_bound()):
        response = post(manager, document)

    assert response.status_code == 201, response.content
    assert response.json()["created"] == 2 * count


# Limits.


def test_more_rows_than_bulk_max_rows_is_a_413(manager, plant, settings):
    settings.BULK_MAX_ROWS = 5

    response = post(manager, rows_for(plant, 6))

    assert response.status_code == 413
    assert "BULK_MAX_ROWS" in response.json()["detail"]
    assert ProductionRecord.objects.count() == 0


def test_a_document_with_more_points_than_bulk_max_rows_is_a_413(manager, plant, settings):
    settings.BULK_MAX_ROWS = 5

    response = post(manager, {"factories": [chart_entry(3, id=plant.pk), chart_entry(3)]})

    assert response.status_code == 413
    assert Factory.objects.count() == 1


def test_bulk_max_rows_itself_is_accepted(manager, plant, settings):
    settings.BULK_MAX_ROWS = 5

    response = post(manager, rows_for(plant, 5))

    assert response.status_code == 201, response.content


@pytest.mark.parametrize("body", [[], {"items": []}], ids=["array", "items"])
def test_an_empty_body_is_a_400(manager, body):
    response = post(manager, body)

    assert response.status_code == 400
    assert "detail" in response.json()


def test_malformed_json_is_a_400(manager):
    response = post(manager, b'[{"factory_id": 1,')

    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_deeply_nested_json_is_a_400(manager):
    response = post(manager, b"[" * 100_000 + b"]" * 100_000)

    assert response.status_code == 400
    assert "detail" in response.json()
