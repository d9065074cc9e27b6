"""Bulk bodies are measured before they are built (DESIGN §4 bulk rules, §9 worst-case body).

A body under BULK_MAX_BYTES can still hold millions of tiny JSON values (`[{},{},...]`), each
of which costs tens of bytes as a Python object: rows (top-level items, or a document's
points) and values are counted over the bytes first, and a body over the limits is refused
before a single item is built. Peaks are traced with tracemalloc: building what these bodies
hold would take many times the bound asserted.
"""

import json
import tracemalloc

import orjson
import pytest

from core.errors import InvalidInput, TooLarge
from ingest.body import bulk_body_parse
from ingest.models import IngestBatch, Shape

PRODUCTION_BULK = "/sprocketFactory/v1/production/bulk"
MAX_ROWS = 1000
MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def small_row_limit(settings) -> None:
    settings.BULK_MAX_ROWS = MAX_ROWS


def empty_items(count: int) -> bytes:
    return b"[" + b",".join([b"{}"] * count) + b"]"


def document(points: int) -> bytes:
    chart = {"sprocket_production_actual": [1] * points, "sprocket_production_goal": [1] * points}
    chart["time"] = list(range(points))
    return orjson.dumps({"factories": [{"factory": {"name": "Plant", "chart_data": chart}}]})


def traced_peak(call) -> tuple[object, int]:
    """What `call()` returned or raised, and the peak of memory it allocated."""
    tracemalloc.start()
    try:
        outcome = call()
    except Exception as error:
        outcome = error
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return outcome, peak


# Too many rows: refused before any item is built.


def test_an_array_of_a_million_empty_items_is_refused_before_they_are_built():
    raw = empty_items(1_000_000)  # 3 MB; a million dicts would take ~70 MB

    outcome, peak = traced_peak(lambda: bulk_body_parse(raw, document_key="factories"))

    assert isinstance(outcome, TooLarge)
    assert "BULK_MAX_ROWS" in str(outcome.detail)
    assert peak < 8 * MIB


def test_an_items_body_of_a_million_empty_items_is_refused_before_they_are_built():
    raw = b'{"items": ' + empty_items(1_000_000) + b"}"

    outcome, peak = traced_peak(lambda: bulk_body_parse(raw, document_key="factories"))

    assert isinstance(outcome, TooLarge)
    assert "BULK_MAX_ROWS" in str(outcome.detail)
    assert peak < 8 * MIB


def test_a_document_with_more_points_than_the_row_limit_is_refused_before_they_are_built():
    raw = document(300_000)  # one entry: its rows are its points

    outcome, peak = traced_peak(lambda: bulk_body_parse(raw, document_key="factories"))

    assert isinstance(outcome, TooLarge)
    assert "BULK_MAX_ROWS" in str(outcome.detail)
    assert peak < 8 * MIB


@pytest.mark.parametrize(
    "row",
    [b'{"factory_id": %s}', b"%s"],  # a field's value, or the row itself
    ids=["in-a-field", "as-the-row"],
)
def test_one_row_holding_a_million_nested_values_is_refused_before_they_are_built(row):
    raw = b"[" + row % empty_items(1_000_000) + b"]"

    outcome, peak = traced_peak(lambda: bulk_body_parse(raw, document_key="factories"))

    assert isinstance(outcome, TooLarge)
    assert "values" in str(outcome.detail)
    assert peak < 8 * MIB


def records(count: int) -> list[dict]:
    return [
        {"factory_id": 1, "time": "2021-01-21T02:06:58Z", "sprocket_production_actual": n % 7}
        for n in range(count)
    ]


@pytest.mark.parametrize("wrap", [lambda items: items, lambda items: {"items": items}])
def test_one_record_over_the_row_limit_is_refused_before_any_is_built(wrap):
    raw = orjson.dumps(wrap(records(MAX_ROWS + 1)))

    with pytest.raises(TooLarge, match="BULK_MAX_ROWS"):
        bulk_body_parse(raw, document_key="factories")


def test_objects_with_thousands_of_field_names_are_refused_before_they_are_built():
    # Each new name is a string of its own once parsed; items share their few names.
    raw = orjson.dumps([{f"field{n}_{f}": n for f in range(5)} for n in range(MAX_ROWS)])

    outcome, peak = traced_peak(lambda: bulk_body_parse(raw, document_key="factories"))

    assert isinstance(outcome, TooLarge)
    assert "field names" in str(outcome.detail)
    assert peak < 8 * MIB


def test_scalars_between_objects_are_rows_too():
    raw = orjson.dumps([{"factory_id": 1}, 7] * (MAX_ROWS // 2 + 1))

    with pytest.raises(TooLarge, match="BULK_MAX_ROWS"):
        bulk_body_parse(raw, document_key="factories")


# Bodies within the limits are parsed as before.


@pytest.mark.parametrize("wrap", [lambda items: items, lambda items: {"items": items}])
def test_records_at_the_row_limit_are_parsed(wrap):
    body = bulk_body_parse(orjson.dumps(wrap(records(MAX_ROWS))), document_key="factories")

    assert len(body.items) == MAX_ROWS


def test_an_array_at_the_row_limit_is_parsed():
    body = bulk_body_parse(empty_items(MAX_ROWS), document_key="factories")

    assert body.shape == Shape.ARRAY
    assert len(body.items) == MAX_ROWS


def test_a_document_at_the_row_limit_is_parsed():
    body = bulk_body_parse(document(MAX_ROWS), document_key="factories")

    assert body.shape == Shape.DOCUMENT
    assert len(body.items[0]["factory"]["chart_data"]["time"]) == MAX_ROWS


def test_commas_brackets_and_escapes_inside_strings_are_not_counted_as_rows():
    tricky = 'a,b,[c],{d},"e",\\f,' * 20
    raw = json.dumps([{"factory_id": 1, "time": tricky}] * MAX_ROWS).encode()

    body = bulk_body_parse(raw, document_key="factories")

    assert len(body.items) == MAX_ROWS
    assert body.items[-1]["time"] == tricky


def test_a_catalogue_document_counts_its_entries_as_rows():
    sprockets = [{"name": f"S-{n}", "teeth": n + 1} for n in range(MAX_ROWS + 1)]

    with pytest.raises(TooLarge):
        bulk_body_parse(orjson.dumps({"sprockets": sprockets}), document_key="sprockets")


def test_malformed_json_that_must_be_counted_is_still_a_400():
    raw = b"[" + b'{"a": 1},' * (MAX_ROWS // 2) + b'{"a": 1,,}]'

    with pytest.raises(InvalidInput, match="JSON parse error"):
        bulk_body_parse(raw, document_key="factories")


# Through the API.


@pytest.mark.django_db
def test_a_bulk_post_of_too_many_empty_items_is_a_413_audited_as_such(manager):
    response = manager.post(
        PRODUCTION_BULK, data=empty_items(50_000), content_type="application/json"
    )

    assert response.status_code == 413
    assert "BULK_MAX_ROWS" in response.json()["detail"]
    assert IngestBatch.objects.get().status_code == 413


@pytest.mark.django_db
def test_a_bulk_post_with_millions_of_nested_values_is_a_413(manager):
    raw = b'[{"factory_id": 1, "time": ' + empty_items(500_000) + b"}]"

    response = manager.post(PRODUCTION_BULK, data=raw, content_type="application/json")

    assert response.status_code == 413
    assert "values" in response.json()["detail"]
