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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

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


def _pg_time(unix_seconds: int) -> int:
    return (unix_seconds - POSTGRES_EPOCH) * 1_000_000


def _sqlite_time(unix_seconds: int) -> str:
    return datetime.fromtimestamp(unix_seconds, UTC).replace(tzinfo=None).isoformat(sep=" ")


def _rows(columns: ProductionColumns, positions: Sequence[int] | None) -> Iterator[tuple]:
    to_time = _pg_time if _is_postgresql() else _sqlite_time
    f, t, a, g = columns.factory_ids, columns.times, columns.actual, columns.goal
    if positions is None:
        yield from zip(f, map(to_time, t), a, g, strict=True)
    else:
        for p in positions:
            yield p, f[p], to_time(t[p]), a[p], g[p]


def _copy_into(cursor, table: str, column_sql: str, types: list[str], rows) -> None:
    with (
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {table} ({column_sql}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def _stage(cursor, columns: ProductionColumns, positions: Sequence[int]) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
    if _is_postgresql():
        cursor.execute(
            f"CREATE TEMP TABLE {STAGING} (position bigint, factory_id bigint, "
            "time timestamptz, sprocket_production_actual integer, "
            "sprocket_production_goal integer) ON COMMIT DROP"
        )
        _copy_into(
            cursor,
            STAGING,
            f"position, {COLUMNS}",
            ["int8", "int8", "int8", "int4", "int4"],
            _rows(columns, positions),
        )
    else:
        cursor.execute(
            f"CREATE TEMP TABLE {STAGING} (position integer, factory_id integer, time text, "
            "sprocket_production_actual integer, sprocket_production_goal integer)"
        )
        cursor.executemany(
            f"INSERT INTO {STAGING} (position, {COLUMNS}) VALUES (%s, %s, %s, %s, %s)",
            _rows(columns, positions),
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
                    _copy_into(
                        cursor,
                        TABLE,
                        COLUMNS,
                        ["int8", "int8", "int4", "int4"],
                        _rows(columns, None),
                    )
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
        # xmax = 0 marks a row this statement inserted rather than updated: exact counts even
        # while another ingest writes the same keys.
        cursor.execute(
            f"WITH written AS ({upsert} RETURNING (xmax = 0) AS inserted) "
            "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) "
            "FROM written"
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
