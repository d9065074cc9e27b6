from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    """What every app shares: the API plumbing, the response cache, roles and operations."""

    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # The schema's extensions register when their module is imported, before any schema.
        from core.api import schema  # noqa: F401
        from core.ops.db import statement_timeout_role_default

        # Sent only for apps with models (core has none): after auth's, once per migrate.
        post_migrate.connect(
            statement_timeout_role_default,
            sender=apps.get_app_config("auth"),
            dispatch_uid="statement_timeout",
        )
