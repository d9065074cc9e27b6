from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Inventory"

    def ready(self) -> None:
        from core.cache import cache_resources_register
        from core.roles import ALL, VIEW, roles_grant
        from inventory import signals  # noqa: F401
        from inventory.models import FACTORIES, SPROCKETS

        cache_resources_register(self, SPROCKETS, FACTORIES)
        roles_grant(
            self,
            {
                "viewer": {"sprocket": VIEW, "factory": VIEW},
                "operator": {"sprocket": VIEW, "factory": VIEW},
                "manager": {"sprocket": ALL, "factory": ALL},
            },
        )
