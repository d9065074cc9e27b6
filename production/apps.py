from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ProductionConfig(AppConfig):
    name = "production"
    verbose_name = "Production"

    def ready(self) -> None:
        from core.cache import cache_resources_register
        from core.roles import ALL, VIEW, roles_grant
        from production import signals  # noqa: F401
        from production.models import PRODUCTION
        from production.partitions import production_partitions_after_migrate

        cache_resources_register(self, PRODUCTION)
        post_migrate.connect(
            production_partitions_after_migrate, sender=self, dispatch_uid="production_partitions"
        )
        roles_grant(
            self,
            {
                "viewer": {"productionrecord": VIEW},
                "operator": {"productionrecord": ("view", "add", "change")},
                "manager": {"productionrecord": ALL},
            },
        )
