"""Bulk request bodies, shared by every `.../bulk` endpoint.

A body is a JSON array of items, `{"items": [...]}`, or the original challenge document of
the resource (`{"sprockets": [...]}`, `{"factories": [...]}`). Errors are reported the way
DRF 3.18 reports a list's errors: keyed by the item's index, then field, then messages.
"""

from dataclasses import dataclass

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


def bulk_body_parse(raw: bytes, *, document_key: str) -> BulkBody:
    """Parse a bulk body into its shape and list; malformed or mis-shaped → InvalidInput."""
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
