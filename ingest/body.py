"""Bulk request bodies, shared by every `.../bulk` endpoint.

A body is a JSON array of items, `{"items": [...]}`, or the original challenge document of
the resource (`{"sprockets": [...]}`, `{"factories": [...]}`). Errors are reported the way
DRF 3.18 reports a list's errors: keyed by the item's index, then field, then messages.

A body is measured before it is built: a few bytes of JSON (`{},`) cost tens of bytes as a
Python object, so 64 MiB of tiny values would take gigabytes. Rows and values are bounded
from counts over the bytes (exact ones from a streaming parse when the cheap ones cannot
tell), and only a body within the bounds is parsed.
"""

from dataclasses import dataclass

import ijson
import orjson
from django.conf import settings

from core.errors import InvalidInput, TooLarge
from ingest.models import Shape


@dataclass
class Counts:
    """What a bulk request did to its rows."""

    created: int = 0
    updated: int = 0
    skipped: int = 0


@dataclass
class BulkBody:
    """A parsed bulk body: its shape and its items (or document entries)."""

    shape: Shape
    items: list


# A row is one object of at most 5 fields (`id` included), or a point of a document's
# three lists: a legitimate body holds at most this many values (objects, arrays, scalars;
# keys aside) per row, and about one object or array per row.
VALUES_PER_ROW = 6
# The objects and arrays a document wraps its entries' points in.
CONTAINERS_SLACK = 1024
# Items share their field names; each name the body adds costs a string once parsed.
MAX_FIELD_NAMES = 1024
# The C backend explicitly: ijson would otherwise fall back, silently, to pure Python.
_ijson = ijson.get_backend("yajl2_c")
_STARTS = frozenset({"start_map", "start_array"})
_ENDS = frozenset({"end_map", "end_array"})


@dataclass
class _Open:
    """A container being read: whether it is an array, and how many items it has so far."""

    is_array: bool
    items: int = 0


class _Measure:
    """Rows, values and containers of a body, refused as soon as one is over its bound.

    Rows are the root array's items, `{"items": [...]}`'s items, or, in a document, each
    entry's longest list (a chart's points; 1 for an entry without lists).
    """

    def __init__(self) -> None:
        self.max_rows = settings.BULK_MAX_ROWS
        self.max_values = self.max_rows * VALUES_PER_ROW + CONTAINERS_SLACK
        self.max_containers = self.max_rows + CONTAINERS_SLACK

    def fits(self, *, rows: int, values: int, containers: int) -> bool:
        return (
            rows <= self.max_rows
            and values <= self.max_values
            and containers <= self.max_containers
        )

    def refuse_rows(self, rows: int) -> TooLarge:
        return TooLarge(
            f"The body holds more than BULK_MAX_ROWS ({self.max_rows}) rows ({rows} counted "
            "so far); split it."
        )

    def check(self, *, rows: int, values: int, containers: int) -> None:
        if rows > self.max_rows:
            raise self.refuse_rows(rows)
        if values > self.max_values or containers > self.max_containers:
            raise TooLarge(
                f"The body holds more JSON values than {self.max_rows} rows need (at most "
                f"{self.max_values} values, {self.max_containers} of them objects or arrays); "
                "split it, or leave out what the items do not need."
            )

    def streamed(self, raw: bytes) -> None:
        """Count over a streaming parse (nothing is built); stop at the first bound passed."""
        stack: list[_Open] = []
        values = containers = rows = entry_rows = 0
        is_document = False
        names: set[str] = set()
        try:
            for event, value in _ijson.basic_parse(raw, use_float=True):
                if event == "map_key":
                    if len(stack) == 1 and value != "items":
                        is_document = True
                    if value not in names:
                        names.add(value)
                        if len(names) > MAX_FIELD_NAMES:
                            raise TooLarge(
                                f"The body's objects use more than {MAX_FIELD_NAMES} different "
                                "field names; send the resource's fields only."
                            )
                    continue
                if event in _ENDS:
                    closed = stack.pop()
                    depth = len(stack)
                    if is_document and closed.is_array and depth >= 3:
                        entry_rows = max(entry_rows, closed.items)
                    if is_document and depth == 2:
                        rows, entry_rows = rows + max(entry_rows, 1), 0
                        if rows > self.max_rows:
                            raise self.refuse_rows(rows)
                    continue
                values += 1
                if stack and stack[-1].is_array:
                    parent, depth = stack[-1], len(stack)
                    parent.items += 1
                    if depth == 1 or (
                        depth == 2
                        and not stack[0].is_array
                        and (not is_document or event not in _STARTS)
                    ):
                        rows += 1  # an item; or a document entry that holds no lists
                    elif is_document and depth >= 3 and parent.items > self.max_rows:
                        raise self.refuse_rows(parent.items)  # one list alone is over
                    if rows > self.max_rows:
                        raise self.refuse_rows(rows)
                if event in _STARTS:
                    containers += 1
                    stack.append(_Open(is_array=event == "start_array"))
                if values > self.max_values or containers > self.max_containers:
                    self.check(rows=rows, values=values, containers=containers)
        except ijson.JSONError as error:
            # yajl's first line says what is wrong; the next ones would repeat the body.
            message = error.args[0] if error.args else "malformed JSON"
            if isinstance(message, bytes):
                message = message.decode(errors="replace")
            raise InvalidInput(f"JSON parse error: {message.splitlines()[0]}") from None


_NOT_STRUCTURE = bytes(sorted(set(range(256)) - set(b'[]{},"')))


def _flat_items(raw: bytes, structure: bytes) -> int | None:
    """The items of a body that is an array (or a one-key object of an array) of flat
    objects, counted exactly from its `structure` (its brackets, commas and quotes); None for
    any other body.

    Without backslashes, quotes delimit strings exactly: a string without structural
    characters leaves `""`, which is dropped, and one with them leaves a quote, which sends
    the body to the streaming count.
    """
    if b"\\" in raw:
        return None
    skeleton = structure.replace(b'""', b"")
    if skeleton.startswith(b"{[") and skeleton.endswith(b"]}"):
        skeleton = skeleton[1:-1]
    if b'"' in skeleton or not (skeleton.startswith(b"[{") and skeleton.endswith(b"}]")):
        return None
    items = skeleton[1:-1]
    braces = items.translate(None, b",")
    objects = len(braces) // 2
    if b"[" in items or b"]" in items or braces != b"{}" * objects:
        return None  # nested objects or arrays
    # Every object is followed by `,{`: no other item (a scalar leaves a comma) in between.
    if items.count(b"},{") != objects - 1:
        return None
    pairs = items.count(b",") - (objects - 1) + objects - items.count(b"{}")
    return objects if _names_repeat(raw, pairs) else None


def _names_repeat(raw: bytes, pairs: int) -> bool:
    """Whether every one of the `pairs` of a flat body's objects is named as in its first
    object. Without backslashes `"name":` can only be a key, so counting it is exact."""
    start = raw.index(b"{", raw.index(b"["))
    try:
        first = orjson.loads(raw[start : raw.index(b"}", start) + 1])
    except orjson.JSONDecodeError:
        return False
    if not isinstance(first, dict) or len(first) > 64:
        return False
    return sum(raw.count(orjson.dumps(name) + b":") for name in first) == pairs


def _body_measure(raw: bytes) -> None:
    """Refuse a body over BULK_MAX_ROWS, or with more values than its rows need, unbuilt.

    The cheap bounds count structural bytes (commas and brackets inside strings only make
    them larger): items ≤ commas + arrays, values ≤ commas + containers + 1. A body they
    cannot clear is counted exactly: from its structure when it is a plain array of flat
    objects that share their field names, else by a streaming parse, which also bounds the
    field names a body may use.
    """
    measure = _Measure()
    structure = raw.translate(None, _NOT_STRUCTURE)  # counted faster than the whole body
    commas, arrays = structure.count(b","), structure.count(b"[")
    containers = arrays + structure.count(b"{")
    values = commas + containers + 1
    if measure.fits(rows=commas + arrays, values=values, containers=containers):
        return
    if measure.fits(rows=0, values=values, containers=containers):
        rows = _flat_items(raw, structure)
        if rows is not None:
            measure.check(rows=rows, values=0, containers=0)
            return
    measure.streamed(raw)


def bulk_body_parse(raw: bytes, *, document_key: str) -> BulkBody:
    """Parse a bulk body into its shape and list; malformed or mis-shaped → InvalidInput,
    more rows or values than BULK_MAX_ROWS allows → TooLarge, before anything is built."""
    _body_measure(raw)
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise InvalidInput(f"JSON parse error: {error}") from None
    if isinstance(payload, list):
        return BulkBody(shape=Shape.ARRAY, items=payload)
    if isinstance(payload, dict) and len(payload) == 1:
        if isinstance(payload.get("items"), list):
            return BulkBody(shape=Shape.ITEMS, items=payload["items"])
        if isinstance(payload.get(document_key), list):
            return BulkBody(shape=Shape.DOCUMENT, items=payload[document_key])
    raise InvalidInput(
        f'Send a JSON array of items, {{"items": [...]}}, or {{"{document_key}": [...]}}.'
    )


def bulk_rows_check(count: int) -> None:
    if count > settings.BULK_MAX_ROWS:
        raise TooLarge(
            f"{count} rows is more than BULK_MAX_ROWS ({settings.BULK_MAX_ROWS}); split the body."
        )
    if count == 0:
        raise InvalidInput("The body holds no items.")


class ItemErrors:
    """Errors by item index and field, at most BULK_MAX_ERRORS of them listed."""

    def __init__(self) -> None:
        self.by_item: dict[str, dict[str, list[str]]] = {}
        self.count = 0
        self.truncated = False

    def add(self, index: str, field: str, message: str) -> None:
        self.count += 1
        if len(self.by_item) < settings.BULK_MAX_ERRORS or index in self.by_item:
            self.by_item.setdefault(index, {}).setdefault(field, []).append(message)
        else:
            self.truncated = True

    def __bool__(self) -> bool:
        return self.count > 0

    def raise_if_any(self) -> None:
        if not self:
            return
        detail: dict = dict(self.by_item)
        if self.truncated:
            detail["detail"] = (
                f"{self.count} errors in all; the first {len(self.by_item)} items with errors "
                "are listed (BULK_MAX_ERRORS)."
            )
        raise InvalidInput(detail)
