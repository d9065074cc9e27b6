"""Load the original challenge data into an empty database; leave any other alone."""

from pathlib import Path

import orjson
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from ingest.body import ItemErrors
from ingest.models import OnConflict
from inventory.models import Factory, Sprocket
from production.columns import production_rows_from_document
from production.models import ProductionRecord
from production.services import production_rows_write

ORIGINAL_PRODUCTION = Path(settings.BASE_DIR) / "fixtures" / "source" / "seed_factory_data.json"


def original_data_load(*, verbosity: int = 0) -> int:
    """The sprocket types and factories from fixtures/, then the original production document
    through the one write path for production rows; return how many records were written."""
    with transaction.atomic():
        call_command("loaddata", "sprockets", "factories", verbosity=verbosity)
        errors = ItemErrors()
        document = orjson.loads(ORIGINAL_PRODUCTION.read_bytes())
        columns = production_rows_from_document(document["factories"], errors)
        errors.raise_if_any()
        counts = production_rows_write(columns=columns, on_conflict=OnConflict.ERROR)
    return counts.created


class Command(BaseCommand):
    help = "Load the original sprocket types, factories and production if those tables are empty."

    def handle(self, *args, **options) -> None:
        if (
            Sprocket.objects.exists()
            or Factory.objects.exists()
            or ProductionRecord.objects.exists()
        ):
            self.stdout.write("The database already holds data; the original data was not loaded.")
            return
        written = original_data_load(verbosity=options["verbosity"])
        if options["verbosity"]:
            self.stdout.write(f"Loaded the original data: {written} production records.")
