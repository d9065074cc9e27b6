from django.apps import AppConfig


class IngestConfig(AppConfig):
    """Bulk ingest for every resource: body parsing, the generic bulk view and its audit."""

    name = "ingest"
    verbose_name = "Ingest"
