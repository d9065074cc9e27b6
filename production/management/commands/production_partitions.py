from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from production.conversion import ConversionMismatch, production_records_convert
from production.partitions import (
    production_partitioned,
    production_partitions_list,
    production_partitions_maintain,
)


class Command(BaseCommand):
    help = (
        "Create the time partitions of production records for the current period and "
        "PRODUCTION_PARTITIONS_AHEAD periods ahead, and for every period the default partition "
        "holds rows of (moving them); drop those older than PRODUCTION_RAW_RETENTION and those "
        "of past periods without records. Run it "
        "daily (cron, or the worker). With --convert, first convert an unpartitioned records "
        "table while writes go on. PostgreSQL only."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--convert",
            action="store_true",
            help="convert an unpartitioned records table (one migration 0008 left as it was)",
        )
        parser.add_argument(
            "--batch-rows", type=int, default=50_000, help="ids copied per transaction"
        )
        parser.add_argument(
            "--pause", type=float, default=0.0, help="seconds to wait between batches"
        )

    def handle(self, *args, **options) -> None:
        if options["convert"]:
            self._convert(options["batch_rows"], options["pause"])
        if not production_partitioned():
            remedy = (
                "run it with --convert" if connection.vendor == "postgresql" else "PostgreSQL only"
            )
            self.stdout.write(f"Production records are not partitioned here ({remedy}).")
            return
        done = production_partitions_maintain()
        for name in done.created:
            self.stdout.write(f"created {name}")
        for name in done.dropped:
            self.stdout.write(f"dropped {name} (PRODUCTION_RAW_RETENTION)")
        for name in done.emptied_dropped:
            self.stdout.write(f"dropped {name} (a past period without records)")
        self.stdout.write(
            f"{len(done.created)} partitions created, {done.rows_moved} rows moved out of the "
            f"default partition; {len(production_partitions_list())} time partitions in all."
        )

    def _convert(self, batch_rows: int, pause: float) -> None:
        if batch_rows < 1:
            raise CommandError("--batch-rows must be at least 1.")
        try:
            converted = production_records_convert(
                batch_rows=batch_rows, pause_seconds=pause, progress=self.stdout.write
            )
        except ConversionMismatch as mismatch:
            raise CommandError(f"Not converted: {mismatch}") from None
        if converted is None:
            self.stdout.write("Nothing to convert: the records table is partitioned already.")
            return
        self.stdout.write(
            f"converted: {converted.rows_copied} rows copied in {converted.batches} batches, "
            f"{converted.months_checked} factory months checked equal, "
            f"swapped in {converted.swap_seconds:.3f} s."
        )
