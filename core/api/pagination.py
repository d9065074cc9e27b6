"""Keyset pagination that keeps lists bare JSON arrays: the next page is in a `Link` header.

A view names its allowed orderings (`keyset_orderings`, each a tuple of fields ending in a
unique one) and its `default_ordering`. Pages are fetched by comparing against the last key
seen, never by OFFSET and never with a COUNT.
"""

import base64
import binascii
from collections.abc import Sequence

import orjson
from django.conf import settings
from django.core import signing
from django.db import connection
from django.db.models import BooleanField, F, Q, QuerySet
from django.db.models.expressions import RawSQL
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from core.json_bytes import dumps
from core.json_sql import json_from_database, json_page

ORDERING_PARAM = "ordering"
# Cursors are signed: a client can only hand back positions this service gave out.
CURSOR_SIGNER = signing.Signer(salt="sprocket_factory.pagination.cursor")


def _encode(payload: list) -> str:
    return CURSOR_SIGNER.sign(
        base64.urlsafe_b64encode(dumps(payload, exact=True)).decode().rstrip("=")
    )


def _decode(token: str) -> list:
    try:
        encoded = CURSOR_SIGNER.unsign(token)
        payload = orjson.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (signing.BadSignature, binascii.Error, ValueError, orjson.JSONDecodeError):
        raise ValidationError({"cursor": ["Invalid cursor."]}) from None
    if not isinstance(payload, list) or len(payload) != 2 or not isinstance(payload[1], list):
        raise ValidationError({"cursor": ["Invalid cursor."]})
    return payload


def keyset_ordering(request, view) -> tuple[str, tuple[str, ...], bool]:
    """The `ordering` a request asks for (or the view's default): name, fields, descending."""
    name = request.query_params.get(ORDERING_PARAM, view.default_ordering)
    if name not in view.keyset_orderings:
        choices = ", ".join(view.keyset_orderings)
        raise ValidationError({ORDERING_PARAM: [f"Choose one of: {choices}."]})
    return name, view.keyset_orderings[name], name.startswith("-")


def keyset_order(queryset: QuerySet, fields: Sequence[str], descending: bool) -> QuerySet:
    # NULLS LAST only where NULLs can be: on a NOT NULL column it would stop PostgreSQL
    # from reading a B-tree index backwards for a descending order.
    model = queryset.model
    return queryset.order_by(
        *(
            getattr(F(f), "desc" if descending else "asc")(
                nulls_last=True if model._meta.get_field(f).null else None
            )
            for f in fields
        )
    )


class KeysetPagination(BasePagination):
    """Pages of `limit` rows ordered by a keyset, linked with RFC 8288 `rel="next"`."""

    limit_query_param = "limit"
    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list:
        self.request = request
        limit = self._limit(request)
        ordering_name, fields, descending = keyset_ordering(request, view)
        model = queryset.model

        cursor_token = request.query_params.get(self.cursor_query_param)
        if cursor_token:
            cursor_ordering, raw_values = _decode(cursor_token)
            if cursor_ordering != ordering_name or len(raw_values) != len(fields):
                raise ValidationError({"cursor": ["The cursor belongs to another ordering."]})
            values = self._key_values(model, fields, raw_values)
            queryset = queryset.filter(self._after_key(model, fields, values, descending))

        ordered = keyset_order(queryset, fields, descending)
        self.next_url = None
        json_fields = _database_json_fields(request, view, queryset)
        if json_fields:
            page = json_page(ordered, fields=json_fields, key=fields, limit=limit)
            if page.last_key is not None:
                self.next_url = self._next_url(request, ordering_name, page.last_key)
            self.page_empty = page.body == b"[]"
            return orjson.Fragment(page.body)
        rows = list(ordered[: limit + 1])
        self.page_empty = not rows
        if len(rows) > limit:
            rows = rows[:limit]
            key = [_row_value(rows[-1], model, f) for f in fields]
            self.next_url = self._next_url(request, ordering_name, key)
        return rows

    def _next_url(self, request, ordering_name: str, key: list) -> str:
        return replace_query_param(
            request.build_absolute_uri(), self.cursor_query_param, _encode([ordering_name, key])
        )

    def get_paginated_response(self, data) -> Response:
        headers = {"Link": f'<{self.next_url}>; rel="next"'} if self.next_url else None
        return Response(data, headers=headers)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return schema

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.limit_query_param,
                "in": "query",
                "required": False,
                "description": "Rows per page (default PAGE_SIZE_DEFAULT, at most PAGE_SIZE_MAX).",
                "schema": {"type": "integer", "minimum": 1, "maximum": settings.PAGE_SIZE_MAX},
            },
            {
                "name": self.cursor_query_param,
                "in": "query",
                "required": False,
                "description": 'Opaque position, taken from the `Link: <...>; rel="next"` header.',
                "schema": {"type": "string"},
            },
            {
                "name": ORDERING_PARAM,
                "in": "query",
                "required": False,
                "description": f"Order of the rows (default `{view.default_ordering}`).",
                "schema": {"type": "string", "enum": list(view.keyset_orderings)},
            },
        ]

    def _limit(self, request) -> int:
        raw = request.query_params.get(self.limit_query_param)
        if raw is None:
            return settings.PAGE_SIZE_DEFAULT
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= settings.PAGE_SIZE_MAX:
            raise ValidationError(
                {
                    self.limit_query_param: [
                        f"Enter a whole number from 1 to {settings.PAGE_SIZE_MAX}."
                    ]
                }
            )
        return int(raw)

    @staticmethod
    def _key_values(model, fields: Sequence[str], raw_values: list) -> list:
        try:
            return [
                None if raw is None else model._meta.get_field(f).to_python(raw)
                for f, raw in zip(fields, raw_values, strict=True)
            ]
        except Exception:
            raise ValidationError({"cursor": ["Invalid cursor."]}) from None

    @staticmethod
    def _after_key(model, fields: Sequence[str], values: list, descending: bool):
        """Rows strictly after the key in the ordering (NULLs sort last either way)."""
        op = "lt" if descending else "gt"
        meta_fields = [model._meta.get_field(f) for f in fields]
        if len(fields) == 1:
            return Q(**{f"{fields[0]}__{op}": values[0]})
        if not any(f.null for f in meta_fields):
            # A row-value comparison lets PostgreSQL start the index scan right at the key.
            quote = connection.ops.quote_name
            table = quote(model._meta.db_table)
            columns = ", ".join(f"{table}.{quote(f.column)}" for f in meta_fields)
            placeholders = ", ".join(["%s"] * len(fields))
            params = [
                f.get_db_prep_value(v, connection) for f, v in zip(meta_fields, values, strict=True)
            ]
            sql = f"({columns}) {'<' if descending else '>'} ({placeholders})"
            # Only column names from the model and placeholders go into the SQL text.
            return RawSQL(sql, params, output_field=BooleanField())  # noqa: S611
        # A nullable leading field followed by the unique tail, e.g. (name, id).
        assert len(fields) == 2, "a nullable key is followed by exactly one unique field"
        head, tail = fields[0], fields[-1]
        head_value, tail_value = values[0], values[-1]
        if head_value is None:
            return Q(**{f"{head}__isnull": True, f"{tail}__{op}": tail_value})
        return (
            Q(**{f"{head}__{op}": head_value})
            | Q(**{head: head_value, f"{tail}__{op}": tail_value})
            | Q(**{f"{head}__isnull": True})
        )


def _database_json_fields(request, view, queryset: QuerySet) -> Sequence[str] | None:
    """The fields of a JSON page PostgreSQL can write (`json_fields` of the view), or None
    where Python writes it: another database, another format (the browsable API), or
    JSON_FROM_DATABASE off."""
    fields = getattr(view, "json_fields", None)
    if fields and request.accepted_renderer.format == "json" and json_from_database(queryset.db):
        return fields
    return None


def _row_value(row, model, field: str):
    if isinstance(row, dict):
        return row[field]
    return getattr(row, model._meta.get_field(field).attname)
