"""Realistic synthetic production, written through the bulk ingest's COPY path."""

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.cache import cache_generations_bump_on_commit
from ingest.models import OnConflict
from inventory.models import FACTORIES, Factory
from production.columns import ProductionColumns
from production.services import RowsConflict, production_rows_write

# A zone per factory in turn, including one with a :30 offset.
ZONES = ("UTC", "Europe/Berlin", "America/Chicago", "Asia/Kolkata")
# Sprockets per minute expected in each local hour: two full shifts, a thin night shift.
SHIFT_GOALS = [8] * 6 + [32] * 8 + [28] * 8 + [8] * 2
WEEKEND_FACTOR = 0.25
CHUNK_ROWS = 200_000


def production_goal(local_time: datetime) -> int:
    goal = SHIFT_GOALS[local_time.hour]
    if local_time.weekday() >= 5:
        goal = round(goal * WEEKEND_FACTOR)
    return goal


class Command(BaseCommand):
    help = (
        "Create N factories ('Generated Factory 1'..) and D days of minute-by-minute "
        "production for each: goals follow shifts and weekends in the factory's zone, actuals "
        "vary around them. Written with the bulk ingest's COPY path."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--factories", type=int, required=True)
        parser.add_argument("--days", type=int, required=True)
        parser.add_argument("--interval", type=int, default=60, help="Seconds between records.")
        parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1))
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--on-conflict",
            choices=OnConflict.values,
            default=OnConflict.ERROR.value,
            help="What to do with records that exist already (default: stop with an error).",
        )

    def handle(self, *args, **options) -> None:
        if options["factories"] < 1 or options["days"] < 1 or options["interval"] < 1:
            raise CommandError("--factories, --days and --interval must be at least 1.")
        rng = random.Random(options["seed"])
        start = datetime.combine(options["start"], datetime.min.time(), tzinfo=UTC)
        steps = options["days"] * 86400 // options["interval"]
        factories = self._factories(options["factories"])
        written = 0
        for factory in factories:
            zone = ZoneInfo(factory.timezone)
            columns = ProductionColumns()
            for step in range(steps):
                moment = start + timedelta(seconds=step * options["interval"])
                goal = production_goal(moment.astimezone(zone))
                actual = max(0, round(rng.gauss(goal * 0.96, 1.5 + goal * 0.06)))
                columns.factory_ids.append(factory.pk)
                columns.times.append(int(moment.timestamp()))
                columns.actual.append(actual)
                columns.goal.append(goal)
                if len(columns) >= CHUNK_ROWS:
                    written += self._write(columns, options["on_conflict"])
                    columns = ProductionColumns()
            if len(columns):
                written += self._write(columns, options["on_conflict"])
        self.stdout.write(f"Wrote {written} records for {len(factories)} factories.")

    @staticmethod
    def _factories(count: int) -> list[Factory]:
        with transaction.atomic():
            factories = []
            for number in range(1, count + 1):
                factory, _ = Factory.objects.get_or_create(
                    name=f"Generated Factory {number}",
                    defaults={"timezone": ZONES[(number - 1) % len(ZONES)]},
                )
                factories.append(factory)
            cache_generations_bump_on_commit(FACTORIES)
        return factories

    @staticmethod
    def _write(columns: ProductionColumns, on_conflict: str) -> int:
        try:
            counts = production_rows_write(columns=columns, on_conflict=OnConflict(on_conflict))
        except RowsConflict as conflict:
            raise CommandError(
                f"{conflict.count} records exist already; run with --on-conflict skip or update."
            ) from None
        return counts.created + counts.updated
