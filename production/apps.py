from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ProductionConfig(AppConfig):
    name = "production"
    verbose_name = "Production"

    def ready(self) -> None:
        from production import signals  # noqa: F401
        from sprocket_factory.roles import roles_ensure

        # Sent for this app after the permissions of every app before it exist.
        post_migrate.connect(roles_ensure, sender=self, dispatch_uid="roles_ensure")
