"""Writing validated production rows: PostgreSQL binary COPY, with an ORM-free SQLite fallback.

Every path goes through a staging table except the common one on PostgreSQL — no conflicts
expected (on_conflict=error) — which COPYs straight into the table inside a savepoint; if a
row conflicts, the savepoint is rolled back and the staging table names the conflicts.

A write that PostgreSQL failed to break a deadlock runs again `careful`ly: staged, with the
existing rows it will touch locked in key order before it inserts any new key. A single-record
write takes its row first and its new key after, so the second run waits for it instead of
crossing it again.

The SQL text here is built only from this module's constants; values always go as parameters.
"""

import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice, repeat
from operator import mul, sub

from django.db import IntegrityError, connection, transaction

from ingest.body import Counts
from ingest.models import OnConflict
from production.columns import ProductionColumns
from production.models import ProductionRecord

TABLE = ProductionRecord._meta.db_table
STAGING = "production_ingest_staging"
COLUMNS = "factory_id, time, sprocket_production_actual, sprocket_production_goal"
# Binary COPY of a timestamptz is a big-endian int64 of microseconds since 2000-01-01 UTC,
# the same bytes as an int8: the rows go out as plain integers, no datetime per row.
POSTGRES_EPOCH = 946_684_800
# The binary COPY format (PostgreSQL's COPY page, "Binary Format"): a signature, flags and
# header-extension length of 0, then per row its field count and each field's length and
# big-endian value, then -1. Rows are packed by struct in C, never one Python call per row.
BINARY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
BINARY_TRAILER = struct.pack(">h", -1)
BINARY_CHUNK_ROWS = 8192


@dataclass
class RowConflicts(Exception):
    """Rows that duplicate an existing record or an earlier row of the same body: the first
    `conflict_limit` positions of the former, every (position, first position) of the latter,
    and how many there are of each."""

    existing: list[int]
    existing_count: int
    duplicates: list[tuple[int, int]]

    @property
    def count(self) -> int:
        return self.existing_count + len(self.duplicates)


def _is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _sqlite_time(unix_seconds: int) -> str:
    return datetime.fromtimestamp(unix_seconds, UTC).replace(tzinfo=None).isoformat(sep=" ")


def _sqlite_rows(columns: ProductionColumns, positions: Sequence[int]) -> Iterator[tuple]:
    f, t, a, g = columns.factory_ids, columns.times, columns.actual, columns.goal
    for p in positions:
        yield p, f[p], _sqlite_time(t[p]), a[p], g[p]


def _pg_columns(columns: ProductionColumns, positions: Sequence[int] | None) -> list[Iterable[int]]:
    """The columns to COPY (the positions first when given), times as PostgreSQL's
    microseconds; every step a map in C."""

    def taken(column):
        return column if positions is None else map(column.__getitem__, positions)

    micros = map(mul, map(sub, taken(columns.times), repeat(POSTGRES_EPOCH)), repeat(1_000_000))
    picked = [taken(columns.factory_ids), micros, taken(columns.actual), taken(columns.goal)]
    return picked if positions is None else [positions, *picked]


def _copy_into(cursor, table: str, column_sql: str, kinds: str, values: list[Iterable[int]]):
    """COPY whole numbers into `table`: `kinds` has "q" (int8, timestamptz) or "i" (int4)
    per column of `values`."""
    row = struct.Struct(">h" + "".join(f"i{kind}" for kind in kinds))
    lengths = [repeat(struct.calcsize(kind)) for kind in kinds]
    fields = [field for pair in zip(lengths, values, strict=True) for field in pair]
    rows = map(row.pack, repeat(len(kinds)), *fields)
    with (
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {table} ({column_sql}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.write(BINARY_SIGNATURE)
        while chunk := b"".join(islice(rows, BINARY_CHUNK_ROWS)):
            copy.write(chunk)
        copy.write(BINARY_TRAILER)


def _stage(cursor, columns: ProductionColumns, positions: Sequence[int]) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
    if _is_postgresql():
        cursor.execute(
            f"CREATE TEMP TABLE {STAGING} (position bigint, factory_id bigint, "
            "time timestamptz, sprocket_production_actual integer, "
            "sprocket_production_goal integer) ON COMMIT DROP"
        )
        _copy_into(
            cursor, STAGING, f"position, {COLUMNS}", "qqqii", _pg_columns(columns, positions)
        )
    else:
        cursor.execute(
            f"CREATE TEMP TABLE {STAGING} (position integer, factory_id integer, time text, "
            "sprocket_production_actual integer, sprocket_production_goal integer)"
        )
        cursor.executemany(
            f"INSERT INTO {STAGING} (position, {COLUMNS}) VALUES (%s, %s, %s, %s, %s)",
            _sqlite_rows(columns, positions),
        )


def _kept_positions(columns: ProductionColumns, *, keep_last: bool) -> list[int]:
    """One position per (factory, time): the first in the body, or the last."""
    kept: dict[tuple[int, int], int] = {}
    for position, key in enumerate(zip(columns.factory_ids, columns.times, strict=True)):
        if keep_last or key not in kept:
            kept[key] = position
    return sorted(kept.values())


def _duplicates_in_body(columns: ProductionColumns) -> list[tuple[int, int]]:
    first: dict[tuple[int, int], int] = {}
    duplicates = []
    for position, key in enumerate(zip(columns.factory_ids, columns.times, strict=True)):
        if key in first:
            duplicates.append((position, first[key]))
        else:
            first[key] = position
    return duplicates


def _existing_in_staging(cursor, limit: int) -> tuple[list[int], int]:
    """The first `limit` positions that match an existing record, and how many match."""
    join = f"FROM {STAGING} s JOIN {TABLE} p ON p.factory_id = s.factory_id AND p.time = s.time"
    cursor.execute(f"SELECT s.position {join} ORDER BY s.position LIMIT %s", [limit])
    positions = [position for (position,) in cursor.fetchall()]
    if len(positions) < limit:
        return positions, len(positions)
    cursor.execute(f"SELECT count(*) {join}")
    return positions, cursor.fetchone()[0]


def _lock_existing(cursor, mode: str) -> None:
    """Lock the existing rows the staged ones will touch, in key order (PostgreSQL)."""
    cursor.execute(
        f"SELECT 1 FROM {TABLE} p JOIN {STAGING} s "
        "ON p.factory_id = s.factory_id AND p.time = s.time "
        f"ORDER BY p.factory_id, p.time FOR {mode} OF p"
    )


def _insert_from_staging(cursor, on_conflict_sql: str) -> int:
    # Sorted by key, so concurrent ingests lock rows in the same order and never deadlock.
    cursor.execute(
        f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {STAGING} WHERE true "
        f"ORDER BY factory_id, time {on_conflict_sql}"
    )
    return cursor.rowcount


def production_rows_copy(
    columns: ProductionColumns,
    *,
    on_conflict: OnConflict,
    conflict_limit: int,
    careful: bool = False,
) -> Counts:
    """Write every row or none (the caller, `production_rows_write`, holds the transaction);
    `careful` after a deadlock (see above)."""
    with connection.cursor() as cursor:
        try:
            return _write(
                cursor,
                columns,
                on_conflict=on_conflict,
                conflict_limit=conflict_limit,
                careful=careful and _is_postgresql(),
            )
        finally:
            if not _is_postgresql():
                cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")


def _write(
    cursor,
    columns: ProductionColumns,
    *,
    on_conflict: OnConflict,
    conflict_limit: int,
    careful: bool,
) -> Counts:
    total = len(columns)
    if on_conflict is OnConflict.ERROR:
        if _is_postgresql() and not careful:
            try:
                with transaction.atomic():
                    _copy_into(cursor, TABLE, COLUMNS, "qqii", _pg_columns(columns, None))
                return Counts(created=total)
            except IntegrityError:
                pass
        duplicates = _duplicates_in_body(columns)
        _stage(cursor, columns, range(total))
        existing, existing_count = _existing_in_staging(cursor, conflict_limit)
        if existing or duplicates:
            raise RowConflicts(
                existing=existing, existing_count=existing_count, duplicates=duplicates
            )
        return Counts(created=_insert_from_staging(cursor, ""))

    kept = _kept_positions(columns, keep_last=on_conflict is OnConflict.UPDATE)
    _stage(cursor, columns, kept)
    if careful:
        # KEY SHARE is enough to wait for a writer that moves or deletes a row (skip).
        _lock_existing(cursor, "UPDATE" if on_conflict is OnConflict.UPDATE else "KEY SHARE")
    if on_conflict is OnConflict.SKIP:
        created = _insert_from_staging(cursor, "ON CONFLICT (factory_id, time) DO NOTHING")
        return Counts(created=created, skipped=total - created)
    upsert = (
        f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {STAGING} WHERE true "
        "ORDER BY factory_id, time ON CONFLICT (factory_id, time) DO UPDATE SET "
        "sprocket_production_actual = excluded.sprocket_production_actual, "
        "sprocket_production_goal = excluded.sprocket_production_goal"
    )
    if _is_postgresql():
        # The statement's own triggers count what it inserted and updated (migration 0008):
        # exact even while another ingest writes the same keys.
        cursor.execute(
            "SELECT set_config('production.inserted_rows', '0', true), "
            "set_config('production.updated_rows', '0', true)"
        )
        cursor.execute(upsert)
        cursor.execute(
            "SELECT current_setting('production.inserted_rows')::bigint, "
            "current_setting('production.updated_rows')::bigint"
        )
        created, updated = cursor.fetchone()
    else:
        # SQLite lets one writer at a time: counting the existing keys first is exact.
        cursor.execute(
            f"SELECT COUNT(*) FROM {STAGING} s JOIN {TABLE} p "
            "ON p.factory_id = s.factory_id AND p.time = s.time"
        )
        (updated,) = cursor.fetchone()
        cursor.execute(upsert)
        created = cursor.rowcount - updated
    return Counts(created=created, updated=updated, skipped=total - len(kept))
