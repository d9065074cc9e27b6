"""Load the original challenge data (fixtures/) into an empty database; leave any other alone."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from inventory.models import Factory, Sprocket
from production.models import ProductionRecord


class Command(BaseCommand):
    help = "Load the sprockets, factories and production fixtures if those tables are empty."

    def handle(self, *args, **options) -> None:
        if (
            Sprocket.objects.exists()
            or Factory.objects.exists()
            or ProductionRecord.objects.exists()
        ):
            self.stdout.write("The database already holds data; the original data was not loaded.")
            return
        call_command(
            "loaddata", "sprockets", "factories", "production", verbosity=options["verbosity"]
        )
