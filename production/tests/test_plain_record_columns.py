"""The column-at-a-time reading of plain bulk bodies (`plain_record_columns`) against the
item-by-item reading that names every error: wherever the first reads a body, both give the same
columns and the second finds nothing wrong; anything else is left to the second."""

from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.limits import ID_MAX, INT32_MAX
from ingest.body import ItemErrors
from production.columns import (
    EPOCH_MAX,
    EPOCH_MIN,
    RECORD_COLUMNS,
    _columns_item_by_item,
    plain_record_columns,
)

GOOD = {
    "factory_id": st.integers(1, ID_MAX),
    "time": st.integers(EPOCH_MIN, EPOCH_MAX),
    "sprocket_production_actual": st.integers(0, INT32_MAX),
    "sprocket_production_goal": st.integers(0, INT32_MAX),
}
# What a field may hold instead: neighbours of its bounds, other JSON types, a bool (an int
# subclass in Python), an ISO time.
ODD = st.one_of(
    st.sampled_from([0, -1, ID_MAX + 1, INT32_MAX + 1, EPOCH_MIN - 1, EPOCH_MAX + 1]),
    st.sampled_from([True, False, None, 1.0, "12", "2024-01-01T00:00:00Z", [], {}]),
)


@st.composite
def items(draw) -> dict | object:
    item = {name: draw(values) for name, values in GOOD.items()}
    change = draw(st.sampled_from(["none", "none", "value", "drop", "extra", "id", "not a dict"]))
    if change == "value":
        item[draw(st.sampled_from(RECORD_COLUMNS))] = draw(ODD)
    elif change == "drop":
        del item[draw(st.sampled_from(RECORD_COLUMNS))]
    elif change == "extra":
        item["colour"] = "red"
    elif change == "id":
        item["id"] = 7
    elif change == "not a dict":
        return draw(st.sampled_from([[], 3, None, "x"]))
    return item


def _same(left, right) -> bool:
    return all(
        getattr(left, name) == getattr(right, name)
        for name in ("factory_ids", "times", "actual", "goal")
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(items(), max_size=12))
# A time as text the item-by-item reading takes (found by a run of `make test`).
@example([{"factory_id": 1, "time": "12", **dict.fromkeys(RECORD_COLUMNS[2:], 0)}])
def test_plain_reading_agrees_with_the_item_by_item_reading(body):
    errors = ItemErrors()
    by_item = _columns_item_by_item(body, errors)

    plain = plain_record_columns(body)

    if plain is not None:
        assert not errors
        assert _same(plain, by_item)
    elif body and not errors and all(_plain(item) for item in body):
        raise AssertionError(f"a plain body was left to the slow path: {body!r}")


def _plain(item: dict) -> bool:
    """Four fields, every value a whole number (the item-by-item reading also takes times
    written as text, which the plain reading leaves to it)."""
    return len(item) == 4 and all(type(value) is int for value in item.values())


@given(st.lists(st.fixed_dictionaries(GOOD), min_size=1, max_size=50))
def test_every_plain_body_is_read_column_by_column(body):
    columns = plain_record_columns(body)

    assert columns is not None
    assert list(columns.times) == [item["time"] for item in body]
    assert list(columns.factory_ids) == [item["factory_id"] for item in body]


def test_bodies_that_need_the_item_by_item_reading_are_left_to_it():
    good = {"factory_id": 1, "time": 0, **dict.fromkeys(RECORD_COLUMNS[2:], 3)}

    assert plain_record_columns([]) is None
    assert plain_record_columns([good, {**good, "time": "2024-01-01T00:00:00Z"}]) is None
    assert plain_record_columns([good, {**good, "sprocket_production_goal": True}]) is None
    assert plain_record_columns([good, {**good, "id": 4}]) is None
    assert plain_record_columns([good, {**good, "factory_id": 0}]) is None
