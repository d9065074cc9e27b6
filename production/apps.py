from django.apps import AppConfig


class ProductionConfig(AppConfig):
    name = "production"
    verbose_name = "Production"

    def ready(self) -> None:
        from core.cache import cache_resources_register
        from core.roles import ALL, VIEW, roles_grant
        from production import signals  # noqa: F401
        from production.models import PRODUCTION

        cache_resources_register(self, PRODUCTION)
        roles_grant(
            self,
            {
                "viewer": {"productionrecord": VIEW},
                "operator": {"productionrecord": ("view", "add", "change")},
                "manager": {"productionrecord": ALL},
            },
        )
