from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares: the API plumbing, the response cache, roles and operations."""

    name = "core"
    verbose_name = "Core"
