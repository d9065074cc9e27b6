"""Production bulk bodies read into columns: validated whole, with one query for factories.

Items are either records (`{"factory_id", "time", "sprocket_production_actual",
"sprocket_production_goal"}`, `id` ignored) or chart-data document entries (`{"factory":
{"id"?, "name"?, "chart_data": {...}}}`) whose factory is matched by id (must exist), by
name (matched or created), or by position as "Factory {n}".
"""

from array import array
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q

from core.limits import ID_MAX, INT32_MAX
from core.times import TIME_FORMAT_HELP, parse_time
from ingest.body import BulkBody, ItemErrors
from inventory.models import Factory

ACTUAL = "sprocket_production_actual"
GOAL = "sprocket_production_goal"
RECORD_COLUMNS = ("factory_id", "time", ACTUAL, GOAL)
RECORD_FIELDS = frozenset({"id", *RECORD_COLUMNS})
ENTRY_FIELDS = frozenset({"factory"})
DOCUMENT_FACTORY_FIELDS = frozenset({"id", "name", "chart_data"})
CHART_FIELDS = (ACTUAL, GOAL, "time")
# The range of years PostgreSQL and Python both keep: 0001-01-01 .. 9999-12-31.
EPOCH_MIN = int(datetime(1, 1, 1, tzinfo=UTC).timestamp())
EPOCH_MAX = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())


@dataclass
class ProductionColumns:
    """Validated rows, one array per column; times in unix seconds."""

    factory_ids: array = field(default_factory=lambda: array("q"))
    times: array = field(default_factory=lambda: array("q"))
    actual: array = field(default_factory=lambda: array("q"))
    goal: array = field(default_factory=lambda: array("q"))
    labels: list[str] | None = None  # item labels when they are not plain positions
    factory_names_to_create: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.times)

    def label(self, position: int) -> str:
        return self.labels[position] if self.labels is not None else str(position)


def _count(value: object) -> int | None:
    if type(value) is int and 0 <= value <= INT32_MAX:
        return value
    return None


def _unix_seconds(value: object) -> int | None:
    if type(value) is int:
        return value if EPOCH_MIN <= value <= EPOCH_MAX else None
    if isinstance(value, str):
        try:
            return int(parse_time(value).timestamp())
        except DjangoValidationError:
            return None
    return None


COUNT_MESSAGE = f"A whole number from 0 to {INT32_MAX} is required."


def plain_record_columns(items: list) -> ProductionColumns | None:
    """The common body, objects of exactly the four record fields whose values are all
    in-range whole numbers, read column by column in C (map, itemgetter, array): a tenth of
    the item-by-item loop's time. None for any other body, which that loop reads and whose
    errors it names; where both read a body, they give the same columns."""
    if not items or set(map(type, items)) != {dict} or set(map(len, items)) != {4}:
        return None
    try:
        values = [list(map(itemgetter(name), items)) for name in RECORD_COLUMNS]
    except KeyError:
        return None
    if any(set(map(type, column)) != {int} for column in values):
        return None  # bools, floats, strings (ISO times) and nulls go item by item
    factory_ids, times, actual, goal = values
    bounds = [
        (factory_ids, 1, ID_MAX),
        (times, EPOCH_MIN, EPOCH_MAX),
        (actual, 0, INT32_MAX),
        (goal, 0, INT32_MAX),
    ]
    if any(min(column) < low or max(column) > high for column, low, high in bounds):
        return None
    return ProductionColumns(*(array("q", column) for column in values))


def production_rows_from_records(items: list, errors: ItemErrors) -> ProductionColumns:
    columns = plain_record_columns(items) or _columns_item_by_item(items, errors)
    named = set(columns.factory_ids) - {0}
    missing = named - set(Factory.objects.filter(pk__in=named).values_list("pk", flat=True))
    if missing:
        for position, factory_id in enumerate(columns.factory_ids):
            if factory_id in missing:
                errors.add(str(position), "factory_id", f"Factory {factory_id} does not exist.")
    return columns


def _columns_item_by_item(items: list, errors: ItemErrors) -> ProductionColumns:
    columns = ProductionColumns()
    append_factory, append_time = columns.factory_ids.append, columns.times.append
    append_actual, append_goal = columns.actual.append, columns.goal.append
    for index, item in enumerate(items):
        if type(item) is not dict:
            errors.add(str(index), "non_field_errors", "Expected an object.")
            for append in (append_factory, append_time, append_actual, append_goal):
                append(0)
            continue
        if not item.keys() <= RECORD_FIELDS:
            for name in sorted(item.keys() - RECORD_FIELDS):
                errors.add(str(index), name, "This field does not exist on this resource.")
        factory_id = item.get("factory_id")
        unix_time = _unix_seconds(item.get("time"))
        actual = _count(item.get(ACTUAL))
        goal = _count(item.get(GOAL))
        if type(factory_id) is not int or not 1 <= factory_id <= ID_MAX:
            errors.add(str(index), "factory_id", "A factory id (a whole number ≥ 1) is required.")
            factory_id = 0
        if unix_time is None:
            errors.add(str(index), "time", TIME_FORMAT_HELP)
        if actual is None:
            errors.add(str(index), ACTUAL, COUNT_MESSAGE)
        if goal is None:
            errors.add(str(index), GOAL, COUNT_MESSAGE)
        # Every item keeps its place, so that positions stay item indexes for the checks below.
        append_factory(factory_id)
        append_time(unix_time or 0)
        append_actual(actual or 0)
        append_goal(goal or 0)
    return columns


def production_rows_from_document(entries: list, errors: ItemErrors) -> ProductionColumns:
    """Rows from chart-data entries; item labels are "<entry>.<point>"."""
    wanted: list[tuple[int, int | None, str | None]] = []
    for position, entry in enumerate(entries):
        factory = entry.get("factory") if isinstance(entry, dict) else None
        if not isinstance(factory, dict) or not isinstance(factory.get("chart_data"), dict):
            errors.add(str(position), "factory", 'Expected {"factory": {"chart_data": {...}}}.')
            continue
        unknown = sorted((entry.keys() - ENTRY_FIELDS) | (factory.keys() - DOCUMENT_FACTORY_FIELDS))
        if unknown:
            for field_name in unknown:
                errors.add(str(position), field_name, "This field does not exist.")
            continue
        factory_id, name = factory.get("id"), factory.get("name")
        if factory_id is not None:
            if type(factory_id) is not int or not 1 <= factory_id <= ID_MAX:
                errors.add(str(position), "id", "A factory id is a whole number ≥ 1.")
                continue
        elif name is None:
            name = f"Factory {position + 1}"
        elif isinstance(name, str) and 0 < len(name.strip()) <= 200 and "\x00" not in name:
            name = name.strip()
        else:
            errors.add(str(position), "name", "A factory name is 1 to 200 characters, no NUL.")
            continue
        wanted.append((position, factory_id, name))

    by_id, by_name = {}, {}
    ids = {factory_id for _, factory_id, _ in wanted if factory_id is not None}
    names = {name for _, factory_id, name in wanted if factory_id is None and name}
    for pk, name in Factory.objects.filter(Q(pk__in=ids) | Q(name__in=names)).values_list(
        "pk", "name"
    ):
        by_id[pk] = name
        by_name[name] = pk

    columns = ProductionColumns(labels=[])
    new_names: dict[str, int] = {}
    for position, factory_id, name in wanted:
        if factory_id is not None:
            if factory_id not in by_id:
                errors.add(str(position), "id", f"Factory {factory_id} does not exist.")
                continue
            resolved = factory_id
        elif name in by_name:
            resolved = by_name[name]
        else:
            # A negative placeholder until the factory is created, in the same transaction.
            resolved = new_names.setdefault(name, -(len(new_names) + 1))
        _append_chart(
            columns, entries[position]["factory"]["chart_data"], position, resolved, errors
        )
    columns.factory_names_to_create = list(new_names)
    return columns


def _append_chart(
    columns: ProductionColumns, chart: dict, position: int, factory_id: int, errors: ItemErrors
) -> None:
    series = [chart.get(name) for name in CHART_FIELDS]
    if not all(isinstance(values, list) for values in series):
        errors.add(str(position), "chart_data", f"Expected the lists {', '.join(CHART_FIELDS)}.")
        return
    if len({len(values) for values in series}) != 1:
        errors.add(str(position), "chart_data", "The three lists must have the same length.")
        return
    unknown = sorted(chart.keys() - set(CHART_FIELDS))
    for name in unknown:
        errors.add(str(position), f"chart_data.{name}", "This field does not exist.")
    for point, (actual, goal, time) in enumerate(zip(*series, strict=True)):
        label = f"{position}.{point}"
        unix_time, actual_ok, goal_ok = _unix_seconds(time), _count(actual), _count(goal)
        if unix_time is None:
            errors.add(label, "time", TIME_FORMAT_HELP)
        if actual_ok is None:
            errors.add(label, ACTUAL, COUNT_MESSAGE)
        if goal_ok is None:
            errors.add(label, GOAL, COUNT_MESSAGE)
        if not errors:
            columns.factory_ids.append(factory_id)
            columns.times.append(unix_time)
            columns.actual.append(actual_ok)
            columns.goal.append(goal_ok)
            columns.labels.append(label)


def production_rows_read(body: BulkBody, errors: ItemErrors) -> ProductionColumns:
    if body.shape == "document":
        return production_rows_from_document(body.items, errors)
    return production_rows_from_records(body.items, errors)


def production_row_count(body: BulkBody) -> int:
    """Rows a body carries, counted before anything is validated (for BULK_MAX_ROWS)."""
    if body.shape != "document":
        return len(body.items)
    total = 0
    for entry in body.items:
        factory = entry.get("factory") if isinstance(entry, dict) else None
        chart = factory.get("chart_data") if isinstance(factory, dict) else None
        times = chart.get("time") if isinstance(chart, dict) else None
        total += len(times) if isinstance(times, list) else 0
    return total
