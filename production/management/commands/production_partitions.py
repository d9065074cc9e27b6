from django.core.management.base import BaseCommand

from production.partitions import (
    production_partitioned,
    production_partitions_list,
    production_partitions_maintain,
)


class Command(BaseCommand):
    help = (
        "Create the time partitions of production records for the current period and "
        "PRODUCTION_PARTITIONS_AHEAD periods ahead, and for every period the default partition "
        "holds rows of (moving them). Run it daily (cron, or the worker). PostgreSQL only."
    )

    def handle(self, *args, **options) -> None:
        if not production_partitioned():
            self.stdout.write("Production records are not partitioned here (PostgreSQL only).")
            return
        done = production_partitions_maintain()
        for name in done.created:
            self.stdout.write(f"created {name}")
        self.stdout.write(
            f"{len(done.created)} partitions created, {done.rows_moved} rows moved out of the "
            f"default partition; {len(production_partitions_list())} time partitions in all."
        )
