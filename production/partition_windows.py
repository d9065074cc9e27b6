"""Every factory's window delete on time partitions: the partitions wholly inside the
window are emptied at once (TRUNCATE, with the rollups of their periods), in the delete's
transaction; the rest of the window is deleted row by row by the caller."""

from dataclasses import dataclass
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections

from core.cache import cache_generations_bump_on_commit
from core.errors import Conflict
from production.models import PRODUCTION
from production.partitions import (
    lock_timed_out,
    lock_timeout_set_local,
    partition_steps_lock,
    production_partitioned,
    production_partitions_list,
)

# The rollups of emptied partitions' periods, deleted, and per factory what they counted.
# Partitions are whole UTC days, weeks or months, as the rollups' hours and days are.
EMPTIED_ROLLUPS = """
WITH emptied AS (SELECT * FROM unnest(%s::timestamptz[], %s::timestamptz[]) AS e(low, high)),
daily AS (DELETE FROM production_productiondailyrollup rollup USING emptied
          WHERE rollup.day >= emptied.low AND rollup.day < emptied.high),
hourly AS (DELETE FROM production_productionhourlyrollup rollup USING emptied
           WHERE rollup.hour >= emptied.low AND rollup.hour < emptied.high
           RETURNING rollup.factory_id, rollup.hour, rollup.records)
SELECT factory_id, min(hour), max(hour) + interval '59 minutes', sum(records)::int FROM hourly
WHERE records > 0 GROUP BY factory_id ORDER BY factory_id
"""


@dataclass(frozen=True)
class PartitionsEmptied:
    """What emptying whole partitions removed, per factory: (factory_id, first hour, last
    minute of the last hour, records), read from the hourly rollups."""

    rows: int
    spans: list[tuple[int, datetime, datetime, int]]


def production_partitions_inside(
    after: datetime, before: datetime, using: str = DEFAULT_DB_ALIAS
) -> list[tuple[str, datetime, datetime]]:
    """The partitions wholly inside [after, before), for the caller's transaction to empty
    (`production_partitions_empty`); maintenance waits for that transaction, so none of them
    is created or dropped meanwhile."""
    if not production_partitioned(using):
        return []
    with connections[using].cursor() as cursor:
        partition_steps_lock(cursor)
    return [
        partition
        for partition in production_partitions_list(using)
        if after <= partition[1] and partition[2] <= before
    ]


def production_partitions_empty(
    partitions: list[tuple[str, datetime, datetime]], using: str = DEFAULT_DB_ALIAS
) -> PartitionsEmptied:
    """Empty whole partitions at once in the caller's transaction — TRUNCATE, no row-by-row
    DELETE, no trigger — and delete the rollups of their periods. Only these partitions are
    locked until commit: reads and writes of other periods go on. Maintenance drops empty
    partitions of past periods later."""
    if not partitions:
        return PartitionsEmptied(rows=0, spans=[])
    with connections[using].cursor() as cursor:
        lock_timeout_set_local(cursor)
        try:
            cursor.execute(f"TRUNCATE {', '.join(name for name, _, _ in partitions)}")
        except OperationalError as error:
            if not lock_timed_out(error):
                raise
            raise Conflict(
                "The records of that period are being read (an export?) and could not be "
                "emptied within PARTITION_LOCK_TIMEOUT_SECONDS; nothing was deleted. Try again."
            ) from None
        cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
        lows, highs = ([partition[i] for partition in partitions] for i in (1, 2))
        cursor.execute(EMPTIED_ROLLUPS, [lows, highs])
        spans = cursor.fetchall()
    cache_generations_bump_on_commit(PRODUCTION)
    return PartitionsEmptied(rows=sum(span[3] for span in spans), spans=spans)
