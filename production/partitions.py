"""Time partitions of production records (PostgreSQL; migration 0008 makes the table).

One partition per `PRODUCTION_PARTITION_INTERVAL` (a UTC day, week or month), named after the
period's first day (`production_productionrecord_p20210101`), kept created from the current
period to `PRODUCTION_PARTITIONS_AHEAD` periods ahead. The default partition takes any row no
partition covers (old data loaded later, a clock far ahead): maintenance gives each period it
holds rows of a partition of its own, moving them there and attaching it in one transaction,
so no write is ever refused and none is seen twice or not at all. Rows moved this way are not
written again through the parent, so the rollups (which already count them) do not change.

Native partitioning and this module, rather than pg_partman: nothing to install on any
PostgreSQL (managed services included), and the one operation partman would add — moving rows
out of the default partition — is the few statements below.
"""

import calendar
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
from django.utils import timezone

from core.cache import cache_generations_bump_on_commit
from production.models import PRODUCTION

logger = logging.getLogger(__name__)

PARENT = "production_productionrecord"
LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout ran out
DEFAULT_PARTITION = f"{PARENT}_default"
COLUMNS = "id, time, sprocket_production_actual, sprocket_production_goal, factory_id"
BOUNDS = re.compile(r"FOR VALUES FROM \('([^']+)'\) TO \('([^']+)'\)")

# The periods to have: the current one and those ahead, and every period the default
# partition holds rows of. Bounds are UTC period starts.
WANTED_PERIODS = f"""
WITH step AS (SELECT ('1 ' || %(unit)s)::interval AS length)
SELECT start, start + step.length FROM step, (
    SELECT generate_series(date_trunc(%(unit)s, %(now)s::timestamptz, 'UTC'),
                           date_trunc(%(unit)s, %(now)s::timestamptz, 'UTC')
                               + %(ahead)s * (SELECT length FROM step),
                           (SELECT length FROM step)) AS start
    UNION
    SELECT DISTINCT date_trunc(%(unit)s, time, 'UTC') FROM {DEFAULT_PARTITION}
) periods
ORDER BY start
"""  # noqa: S608 (the table name is a constant; values are parameters)
PARTITION_BOUNDS = """
SELECT child.relname, pg_get_expr(child.relpartbound, child.oid)
FROM pg_inherits JOIN pg_class child ON child.oid = pg_inherits.inhrelid
WHERE pg_inherits.inhparent = %s::regclass
"""


@dataclass
class PartitionsMaintained:
    created: list[str] = field(default_factory=list)
    rows_moved: int = 0
    dropped: list[str] = field(default_factory=list)
    emptied_dropped: list[str] = field(default_factory=list)


def _months_before(moment: datetime, months: int) -> datetime:
    """`moment` that many calendar months earlier, the day kept within the month (as
    PostgreSQL subtracts an interval of months)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _period_start(moment: datetime, unit: str) -> datetime:
    """The UTC day, week (from Monday) or month that `moment` falls in, as date_trunc gives."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def production_records_kept_since(now: datetime | None = None) -> datetime | None:
    """Where raw records begin under PRODUCTION_RAW_RETENTION (the first period it keeps
    whole); None when every record is kept, or where no partition can be dropped (SQLite, a
    table not yet converted). Earlier periods are summarised only."""
    if not settings.PRODUCTION_RAW_RETENTION or not production_partitioned():
        return None
    amount, unit = settings.PRODUCTION_RAW_RETENTION.split()
    amount, unit = int(amount), unit.removesuffix("s")
    now = now or timezone.now()
    if unit in ("month", "year"):
        cutoff = _months_before(now, amount * (12 if unit == "year" else 1))
    else:
        cutoff = now - timedelta(days=amount * (7 if unit == "week" else 1))
    return _period_start(cutoff, settings.PRODUCTION_PARTITION_INTERVAL)


def production_partitioned(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether the records table is partitioned (PostgreSQL after migration 0008)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [PARENT])
        found = cursor.fetchone()
    return found is not None and found[0] == "p"


def summarised_only(kept_since: datetime, remedy: str) -> str:
    """Why a summary cannot read minutes before `kept_since`, and what to ask instead."""
    since = kept_since.isoformat().replace("+00:00", "Z")
    return (
        f"Records before {since} are kept summarised by the hour only "
        f"(PRODUCTION_RAW_RETENTION): {remedy}, or a window from {since} on."
    )


def production_partitions_list(
    using: str = DEFAULT_DB_ALIAS,
) -> list[tuple[str, datetime, datetime]]:
    """(name, start, end) of each time partition, oldest first; the default one is not listed."""
    with connections[using].cursor() as cursor:
        cursor.execute(PARTITION_BOUNDS, [PARENT])
        found = cursor.fetchall()
    partitions = []
    for name, bound in found:
        matched = BOUNDS.fullmatch(bound)
        if matched:  # the default partition's bound is DEFAULT
            start, end = (datetime.fromisoformat(value) for value in matched.groups())
            partitions.append((name, start, end))
    return sorted(partitions, key=lambda partition: partition[1])


def production_partitions_maintain(
    *, now: datetime | None = None, using: str = DEFAULT_DB_ALIAS
) -> PartitionsMaintained:
    """Create the partitions of the current period and those ahead, and of every period the
    default partition holds rows of (moving those rows into it); drop those wholly older
    than PRODUCTION_RAW_RETENTION, and those of past periods left empty (by window deletes)."""
    done = PartitionsMaintained()
    if not production_partitioned(using):
        return done
    parameters = {
        "unit": settings.PRODUCTION_PARTITION_INTERVAL,
        "now": now or timezone.now(),
        "ahead": settings.PRODUCTION_PARTITIONS_AHEAD,
    }
    with connections[using].cursor() as cursor:
        cursor.execute(WANTED_PERIODS, parameters)
        wanted = cursor.fetchall()
    existing = production_partitions_list(using)
    for start, end in wanted:
        # A period that overlaps a partition of another length (the interval was changed)
        # keeps its rows in the default partition.
        if any(start < other_end and other_start < end for _, other_start, other_end in existing):
            continue
        name = f"{PARENT}_p{start:%Y%m%d}"
        moved = _partition_create(name, start, end, using)
        if moved is not None:
            done.rows_moved += moved
            done.created.append(name)
        existing.append((name, start, end))
    kept_since = production_records_kept_since(parameters["now"])
    current = _period_start(parameters["now"], parameters["unit"])
    for name, _, end in existing:
        beyond_retention = kept_since is not None and end <= kept_since
        if beyond_retention and _partition_drop(name, using):
            done.dropped.append(name)
        elif not beyond_retention and end <= current and _empty_partition_drop(name, using):
            done.emptied_dropped.append(name)
    return done


def partition_steps_lock(cursor) -> None:
    """One step that creates, drops or empties partitions at a time (maintenance from cron,
    the worker and `migrate`; every factory's window delete), until its transaction ends."""
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext('production_partitions'))")


def lock_timeout_set_local(cursor) -> None:
    """Waits for a lock in this transaction end after PARTITION_LOCK_TIMEOUT_SECONDS: a step
    that needs a table another transaction holds (a long export) gives up, rather than make
    every reader and writer queue behind its request."""
    milliseconds = round(settings.PARTITION_LOCK_TIMEOUT_SECONDS * 1000)
    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [str(milliseconds)])


def lock_timed_out(error: OperationalError) -> bool:
    return getattr(error.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE


def _maintenance_lock(cursor) -> None:
    """One maintenance step at a time, and writers to the default partition wait until its
    rows are moved and attached."""
    lock_timeout_set_local(cursor)
    partition_steps_lock(cursor)
    cursor.execute(f"LOCK TABLE {DEFAULT_PARTITION} IN EXCLUSIVE MODE")


def _exists(cursor, name: str) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    return cursor.fetchone()[0]


def _partition_empty(name: str, using: str) -> bool:
    with connections[using].cursor() as cursor:
        if not _exists(cursor, name):  # another maintenance dropped it meanwhile
            return False
        cursor.execute(f"SELECT NOT EXISTS (SELECT FROM {name})")  # noqa: S608 (our name)
        return cursor.fetchone()[0]


def _empty_partition_drop(name: str, using: str) -> bool:
    """Drops a partition that holds no row (asked first without a lock: most hold rows)."""
    return _partition_empty(name, using) and _partition_drop(name, using, only_if_empty=True)


def _partition_drop(name: str, using: str, *, only_if_empty: bool = False) -> bool:
    """Drops a whole partition: no row-by-row DELETE, and no trigger fires, so the rollups
    keep what it held. Cached reads of its records are made new. `only_if_empty`: only if it
    still holds no row once writes to it wait. A lock it cannot get in time: not now (the
    next run tries again)."""
    try:
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            _maintenance_lock(cursor)
            if not _exists(cursor, name):  # another maintenance dropped it meanwhile
                return False
            if only_if_empty:
                cursor.execute(f"LOCK TABLE {name} IN SHARE MODE")
                if not _partition_empty(name, using):
                    return False
            cursor.execute(f"ALTER TABLE {PARENT} DETACH PARTITION {name}")
            cursor.execute(f"DROP TABLE {name}")
            cache_generations_bump_on_commit(PRODUCTION)
    except OperationalError as error:
        if not lock_timed_out(error):
            raise
        logger.warning("Partition %s not dropped: a lock was not free in time", name)
        return False
    return True


def _partition_create(name: str, start: datetime, end: datetime, using: str) -> int | None:
    """Creates partition `name` for [start, end), holding the default partition's rows of that
    period; returns how many rows moved (None: it was there already)."""
    low, high = (f"'{bound.isoformat()}'" for bound in (start, end))  # our own datetimes
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        _maintenance_lock(cursor)
        if _exists(cursor, name):  # another maintenance created it meanwhile
            return None
        cursor.execute(
            f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        move = (
            f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE time >= {low} AND time < {high}"  # noqa: S608 (names and bounds are ours)
            f" RETURNING {COLUMNS}) INSERT INTO {name} ({COLUMNS}) SELECT {COLUMNS} FROM moved"
        )
        cursor.execute(move)
        moved = cursor.rowcount
        cursor.execute(
            f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM ({low}) TO ({high})"
        )
    return moved


def production_partitions_after_migrate(using: str = DEFAULT_DB_ALIAS, **_signal) -> None:
    """post_migrate: a fresh install has its partitions at once."""
    production_partitions_maintain(using=using)
