from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from core.roles import ALL, VIEW, roles_grant

        roles_grant(
            self,
            {
                "viewer": {"alertrule": VIEW, "alert": VIEW},
                "operator": {"alertrule": VIEW, "alert": VIEW},
                "manager": {"alertrule": ALL, "alert": VIEW},
            },
        )
