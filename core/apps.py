from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares: the API plumbing, the response cache, roles and operations."""

    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # The schema's extensions register when their module is imported, before any schema.
        from core.api import schema  # noqa: F401
