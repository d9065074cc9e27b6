"""Production records as a CSV stream: every matching row, in constant memory.

PostgreSQL streams with COPY ... TO STDOUT inside a transaction (a server-side cursor in
autocommit would be WITH HOLD and materialise every row first); SQLite iterates in chunks.
"""

import csv
import io
from collections.abc import Iterator

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, F, Func, QuerySet

from core.ops.db import statement_timeout_set_local
from core.times import time_format

CSV_COLUMNS = ("id", "factory_id", "time", "sprocket_production_actual", "sprocket_production_goal")
FLUSH_BYTES = 64 * 1024


class IsoUtc(Func):
    """A timestamptz as ISO 8601 in UTC with Z, formatted by PostgreSQL."""

    template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    output_field = CharField()


def _header() -> bytes:
    return (",".join(CSV_COLUMNS) + "\n").encode()


def _postgresql_rows(records: QuerySet) -> Iterator[bytes]:
    query = records.annotate(iso_time=IsoUtc(F("time"))).values_list(
        "id", "factory_id", "iso_time", "sprocket_production_actual", "sprocket_production_goal"
    )
    sql, params = query.query.sql_with_params()
    with transaction.atomic():
        statement_timeout_set_local(settings.EXPORT_STATEMENT_TIMEOUT)
        yield from _copy_out(sql, params)


def _copy_out(sql: str, params) -> Iterator[bytes]:
    buffer = bytearray()
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy,
    ):
        for block in copy:
            buffer += block
            if len(buffer) >= FLUSH_BYTES:
                yield bytes(buffer)
                buffer.clear()
    if buffer:
        yield bytes(buffer)


def _iterated_rows(records: QuerySet) -> Iterator[bytes]:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")  # as PostgreSQL's COPY writes it
    for record_id, factory_id, time, actual, goal in records.values_list(*CSV_COLUMNS).iterator(
        chunk_size=2000
    ):
        writer.writerow((record_id, factory_id, time_format(time), actual, goal))
        if text.tell() >= FLUSH_BYTES:
            yield text.getvalue().encode()
            text.seek(0)
            text.truncate()
    if text.tell():
        yield text.getvalue().encode()


def production_csv_stream(*, records: QuerySet) -> Iterator[bytes]:
    """The header, then every record of `records` in its order, as CSV bytes."""
    yield _header()
    if connection.vendor == "postgresql":
        yield from _postgresql_rows(records)
    else:
        yield from _iterated_rows(records)
