"""JSON written by PostgreSQL, byte for byte what the orjson renderer writes from Python.

A list page built this way costs no Python object per row: PostgreSQL turns each row into
its JSON text and joins them, and the service passes the bytes on. What the renderer does,
the SQL does the same way: times in UTC with `Z` and no fraction of a second, decimals as
the shortest number (`5`, `0.5`), text escaped as orjson escapes it (PostgreSQL's `to_json`
escapes the same characters the same way), keys in the serializer's order.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, QuerySet

INTEGER_FIELDS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
        "ForeignKey",
    }
)
TEXT_FIELDS = frozenset({"CharField", "TextField", "SlugField", "EmailField"})


def json_from_database(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether the database writes JSON: PostgreSQL, unless JSON_FROM_DATABASE is off."""
    return settings.JSON_FROM_DATABASE and connections[using].vendor == "postgresql"


def json_time_sql(column: str) -> str:
    """A timestamptz as the renderer's JSON string: ISO 8601 in UTC, whole seconds, `Z`.

    `to_json` of a UTC timestamp writes the ISO form (a quarter faster than `to_char`);
    the fraction is cut, not rounded, as orjson's OMIT_MICROSECONDS cuts it."""
    return f"left(to_json(date_trunc('second', {column} AT TIME ZONE 'UTC'))::text, -1) || 'Z\"'"


def json_value_sql(field: Field, column: str) -> str:
    """The SQL giving `column`'s value as JSON text, `null` included."""
    kind = field.get_internal_type()
    if kind in INTEGER_FIELDS:
        value = f"{column}::text"
    elif kind == "DecimalField":
        # The renderer writes a whole decimal as an integer and any other as a float; below
        # 16 significant digits the shortest float is the decimal without trailing zeros.
        value = f"trim_scale({column})::text"
    elif kind == "BooleanField":
        value = f"CASE {column} WHEN true THEN 'true' WHEN false THEN 'false' END"
    elif kind == "DateTimeField":
        value = json_time_sql(column)
    elif kind in TEXT_FIELDS:
        value = f"to_json({column})::text"
    else:
        raise ValueError(f"No JSON from the database for a {kind}.")
    return f"coalesce({value}, 'null')" if field.null else value


def json_object_sql(pairs: Sequence[tuple[str, str]]) -> str:
    """`{"name":value,...}` from (name, SQL of its JSON text) pairs, in that order."""
    parts = []
    for index, (name, value) in enumerate(pairs):
        # Names are the model's field names: identifiers, nothing to escape in a literal.
        assert name.isidentifier(), name
        parts.append(f"""'{"{" if index == 0 else ","}"{name}":' || {value}""")
    return " || ".join(parts) + " || '}'" if parts else "'{}'"


@dataclass(frozen=True)
class JSONPage:
    body: bytes  # the JSON array of the page's rows
    last_key: list | None  # the key of the page's last row when more rows follow it


def json_page(
    ordered: QuerySet, *, fields: Sequence[str], key: Sequence[str], descending: bool, limit: int
) -> JSONPage:
    """The first `limit` rows of `ordered` (ordered by `key`, NULLs last, descending or not)
    as one JSON array, in one query answering one row.

    The rows are numbered in `ordered`'s own order again outside it (a subquery's order is
    not promised to its reader) so the array keeps that order.
    """
    model, connection = ordered.model, connections[ordered.db]
    quote = connection.ops.quote_name
    names = list(dict.fromkeys([*fields, *key]))
    page_query = ordered[: limit + 1].values(*names).query
    try:
        sql, params = page_query.get_compiler(using=ordered.db).as_sql()
    except EmptyResultSet:  # a filter that can match nothing, such as an empty `__in`
        return JSONPage(body=b"[]", last_key=None)
    meta_fields = {name: model._meta.get_field(name) for name in names}
    document = json_object_sql(
        [(name, json_value_sql(meta_fields[name], f"rows.{quote(name)}")) for name in fields]
    )
    order = ", ".join(
        f"rows.{quote(name)} {'DESC' if descending else 'ASC'}"
        + (" NULLS LAST" if meta_fields[name].null else "")
        for name in key
    )
    last_key = ", ".join(
        f"max(page.k{index}) FILTER (WHERE page.n = %s)" for index in range(len(key))
    )
    keys = ", ".join(f"rows.{quote(name)} AS k{index}" for index, name in enumerate(key))
    # Only quoted model field names, numbered aliases and placeholders go into the text.
    query = (
        f"SELECT count(*), string_agg(page.doc, ',' ORDER BY page.n) FILTER (WHERE page.n <= %s), "  # noqa: S608
        f"{last_key} FROM (SELECT {document} AS doc, {keys}, "
        f"row_number() OVER (ORDER BY {order}) AS n FROM ({sql}) AS rows) AS page"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, [limit] * (1 + len(key)) + list(params))
        fetched, joined, *last = cursor.fetchone()
    body = b"[" + (joined or "").encode() + b"]"
    return JSONPage(body=body, last_key=last if fetched > limit else None)
