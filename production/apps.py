from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ProductionConfig(AppConfig):
    name = "production"
    verbose_name = "Production"

    def ready(self) -> None:
        from core.cache import RESOURCES, cache_generations_bump
        from core.roles import roles_ensure
        from production import signals  # noqa: F401

        # Sent for this app after the permissions of every app before it exist.
        post_migrate.connect(roles_ensure, sender=self, dispatch_uid="roles_ensure")
        # migrate and flush (which also sends post_migrate) change data without saving models.
        post_migrate.connect(
            lambda **_: cache_generations_bump(RESOURCES),
            sender=self,
            dispatch_uid="cache_generations_bump_after_migrate",
            weak=False,
        )
