# ruff: noqa: S608 (the only names put into SQL here are this module's constants)
"""Online conversion of an existing records table to time partitions (PostgreSQL).

Migration 0008 converts a small table in place; a larger one (over
PRODUCTION_CONVERT_IN_MIGRATE_MAX_ROWS) stays as it is until `manage.py production_partitions
--convert` runs this, while writes go on:

1. a partitioned table is made beside the old one, with its partitions for the periods the old
   one holds; statement triggers with transition tables on the old table repeat every insert,
   update, delete and truncate there, in the writer's own transaction;
2. rows are copied in batches of ids, each batch its own transaction; `FOR SHARE` makes a
   batch wait for a writer holding one of its rows and copy the version that writer
   committed, and the writer's own repeat makes any row it wrote win (ON CONFLICT DO NOTHING);
3. counts and sums of actual and goal per factory and month are compared between the tables
   in one statement — one snapshot, in which every write is in both or in neither;
4. the swap, in one short transaction under an exclusive lock: the old table is dropped, the
   new one takes its names, its identity goes on past every id the old one gave, and the
   old table's own triggers (rollups, written counts) are created again on it.

The rollups already count every row, so the copy never touches them.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction

from production.partitions import COLUMNS, DEFAULT_PARTITION, PARENT, production_partitioned

NEW = f"{PARENT}_converting"
MIRROR = "production_records_mirror"
MISMATCHES_SHOWN = 10
SWAP_ATTEMPTS = 5
LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout ran out

MIRROR_FUNCTIONS = f"""
CREATE FUNCTION {MIRROR}() RETURNS trigger LANGUAGE plpgsql AS $function$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM {NEW} n USING old_rows o WHERE n.id = o.id AND n.time = o.time;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO {NEW} ({COLUMNS}) SELECT {COLUMNS} FROM new_rows;
    END IF;
    RETURN NULL;
END
$function$;
CREATE FUNCTION {MIRROR}_truncate() RETURNS trigger LANGUAGE plpgsql AS $function$
BEGIN
    TRUNCATE {NEW};
    RETURN NULL;
END
$function$;
CREATE TRIGGER {MIRROR}_insert AFTER INSERT ON {PARENT}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {MIRROR}();
CREATE TRIGGER {MIRROR}_update AFTER UPDATE ON {PARENT}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {MIRROR}();
CREATE TRIGGER {MIRROR}_delete AFTER DELETE ON {PARENT}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {MIRROR}();
CREATE TRIGGER {MIRROR}_truncate AFTER TRUNCATE ON {PARENT}
    FOR EACH STATEMENT EXECUTE FUNCTION {MIRROR}_truncate();
"""
UNDONE = f"""
DROP TABLE IF EXISTS {NEW};
DROP FUNCTION IF EXISTS {MIRROR}() CASCADE;
DROP FUNCTION IF EXISTS {MIRROR}_truncate() CASCADE;
"""
# Every (factory, month) of either table, and the first of those whose count or sums differ,
# in one statement: one scan of each table, in one snapshot.
COMPARED = f"""
WITH old AS (
    SELECT factory_id, date_trunc('month', time, 'UTC') AS month, count(*) AS records,
           sum(sprocket_production_actual) AS actual, sum(sprocket_production_goal) AS goal
    FROM {PARENT} GROUP BY 1, 2
), new AS (
    SELECT factory_id, date_trunc('month', time, 'UTC') AS month, count(*) AS records,
           sum(sprocket_production_actual) AS actual, sum(sprocket_production_goal) AS goal
    FROM {NEW} GROUP BY 1, 2
), compared AS (
    SELECT factory_id, to_char(month, 'YYYY-MM') AS month,
           json_build_array(old.records, new.records) AS records,
           json_build_array(old.actual, new.actual) AS actual,
           json_build_array(old.goal, new.goal) AS goal,
           (old.records, old.actual, old.goal) IS DISTINCT FROM
               (new.records, new.actual, new.goal) AS differs
    FROM old FULL JOIN new USING (factory_id, month)
)
SELECT count(*), count(*) FILTER (WHERE differs),
       (array_agg(json_build_object('factory_id', factory_id, 'month', month,
                                    'records', records, 'actual', actual, 'goal', goal)
                  ORDER BY factory_id, month) FILTER (WHERE differs))[1:%(shown)s]
FROM compared
"""
OWN_TRIGGERS = f"""
SELECT pg_get_triggerdef(oid) FROM pg_trigger
WHERE tgrelid = '{PARENT}'::regclass AND NOT tgisinternal AND tgname NOT LIKE '{MIRROR}%%'
"""
FOREIGN_KEYS = f"""
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = '{PARENT}'::regclass AND contype = 'f'
"""


class ConversionMismatch(Exception):
    """The copy does not match the old table; the old table is left as it was."""


@dataclass
class Converted:
    rows_copied: int = 0
    batches: int = 0
    months_checked: int = 0
    swap_seconds: float = 0.0


def production_records_convert(
    *,
    batch_rows: int = 50_000,
    pause_seconds: float = 0.0,
    using: str = DEFAULT_DB_ALIAS,
    progress: Callable[[str], None] = lambda message: None,
    before_swap: Callable[[], None] = lambda: None,
) -> Converted | None:
    """Convert the records table to time partitions while writes go on; None when it is
    partitioned already (or not PostgreSQL). An interrupted run is started again from the
    beginning."""
    connection = connections[using]
    if connection.vendor != "postgresql" or production_partitioned(using):
        return None
    done = Converted()
    with connection.cursor() as cursor:
        cursor.execute(UNDONE)
        first_id, last_id = _prepare(cursor, progress)
        try:
            for low in range(first_id, last_id + 1, batch_rows):
                done.rows_copied += _copy_batch(cursor, low, low + batch_rows, using)
                done.batches += 1
                progress(f"copied ids up to {min(low + batch_rows - 1, last_id)} of {last_id}")
                time.sleep(pause_seconds)
            done.months_checked = _check(cursor, using)
            before_swap()
            started = time.perf_counter()
            _swap(cursor, using)
            done.swap_seconds = time.perf_counter() - started
        except BaseException:
            cursor.execute(UNDONE)
            raise
    return done


def _prepare(cursor, progress: Callable[[str], None]) -> tuple[int, int]:
    """The new table with its partitions and keys, and the triggers that repeat every write
    on it; the range of ids to copy. One transaction: no write falls between the two."""
    with transaction.atomic(using=cursor.db.alias):
        cursor.execute(
            f"CREATE TABLE {NEW} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
            "INCLUDING IDENTITY) PARTITION BY RANGE (time)"
        )
        cursor.execute(f"ALTER TABLE {NEW} ADD CONSTRAINT {NEW}_pkey PRIMARY KEY (id, time)")
        cursor.execute(
            f"ALTER TABLE {NEW} ADD CONSTRAINT {NEW}_key UNIQUE (factory_id, time)",
        )
        cursor.execute(f"CREATE INDEX {NEW}_brin ON {NEW} USING brin (time)")
        cursor.execute(FOREIGN_KEYS)
        for name, definition in cursor.fetchall():
            cursor.execute(f"ALTER TABLE {NEW} ADD CONSTRAINT {name} {definition}")
        cursor.execute(f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF {NEW} DEFAULT")
        cursor.execute(MIRROR_FUNCTIONS)
        cursor.execute(f"SELECT min(id), max(id), min(time), max(time) FROM {PARENT}")
        first_id, last_id, first_time, last_time = cursor.fetchone()
        if first_time is not None:
            _periods_create(cursor, first_time, last_time)
    progress(f"copying ids {first_id} to {last_id}")
    return (first_id or 0, last_id or -1)


def _periods_create(cursor, first_time, last_time) -> None:
    """A partition for each period from the old table's first record to its last; later
    periods come from `production_partitions` after the swap."""
    cursor.execute(
        "WITH step AS (SELECT ('1 ' || %(unit)s)::interval AS length) "
        "SELECT start, start + step.length FROM step, generate_series("
        "date_trunc(%(unit)s, %(first)s::timestamptz, 'UTC'), %(last)s::timestamptz, "
        "(SELECT length FROM step)) AS start",
        {"unit": settings.PRODUCTION_PARTITION_INTERVAL, "first": first_time, "last": last_time},
    )
    for start, end in cursor.fetchall():
        low, high = (f"'{bound.isoformat()}'" for bound in (start, end))  # our own datetimes
        cursor.execute(
            f"CREATE TABLE {PARENT}_p{start:%Y%m%d} PARTITION OF {NEW} "
            f"FOR VALUES FROM ({low}) TO ({high})"
        )


def _copy_batch(cursor, low: int, high: int, using: str) -> int:
    """Copies the old table's rows with low <= id < high that are not there yet."""
    with transaction.atomic(using=using):
        cursor.execute("SET LOCAL statement_timeout = 0")
        cursor.execute(
            f"INSERT INTO {NEW} ({COLUMNS}) SELECT {COLUMNS} FROM {PARENT} "
            "WHERE id >= %s AND id < %s FOR SHARE ON CONFLICT DO NOTHING",
            [low, high],
        )
        return cursor.rowcount


def _check(cursor, using: str) -> int:
    """Raises ConversionMismatch unless every factory's months agree; how many there are."""
    with transaction.atomic(using=using):
        cursor.execute("SET LOCAL statement_timeout = 0")
        cursor.execute(COMPARED, {"shown": MISMATCHES_SHOWN})
        months, differing, shown = cursor.fetchone()
    if differing:
        raise ConversionMismatch(
            f"{differing} factory months differ between the tables (old, new): {shown}"
        )
    return months


def _swap(cursor, using: str) -> None:
    """The new table takes the old one's place, in one transaction under an exclusive lock
    (waiting at most a few seconds for it at a time, so writers never queue long behind)."""
    for attempt in range(1, SWAP_ATTEMPTS + 1):
        try:
            with transaction.atomic(using=using):
                cursor.execute("SET LOCAL lock_timeout = '3s'")
                cursor.execute(f"LOCK TABLE {PARENT} IN ACCESS EXCLUSIVE MODE")
                _swapped(cursor)
            return
        except OperationalError as error:
            timed_out = getattr(error.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE
            if not timed_out or attempt == SWAP_ATTEMPTS:
                raise


def _swapped(cursor) -> None:
    cursor.execute(OWN_TRIGGERS)
    own_triggers = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        f"SELECT greatest(pg_sequence_last_value(pg_get_serial_sequence('{PARENT}', 'id')), "
        f"(SELECT max(id) FROM {NEW}))"
    )
    last_id = cursor.fetchone()[0]
    cursor.execute(f"DROP TABLE {PARENT}")
    cursor.execute(f"DROP FUNCTION {MIRROR}(), {MIRROR}_truncate()")
    cursor.execute(f"ALTER TABLE {NEW} RENAME TO {PARENT}")
    for old_name, name in (
        (f"{NEW}_pkey", f"{PARENT}_pkey"),
        (f"{NEW}_key", "production_record_unique_factory_time"),
    ):
        cursor.execute(f"ALTER TABLE {PARENT} RENAME CONSTRAINT {old_name} TO {name}")
    cursor.execute(f"ALTER INDEX {NEW}_brin RENAME TO production_record_time_brin")
    cursor.execute(f"SELECT pg_get_serial_sequence('{PARENT}', 'id')")
    sequence = cursor.fetchone()[0]
    cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {PARENT}_id_seq")
    cursor.execute(f"SELECT setval('{PARENT}_id_seq', %s, false)", [(last_id or 0) + 1])
    for definition in own_triggers:
        cursor.execute(definition)
