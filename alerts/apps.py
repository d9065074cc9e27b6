from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from alerts.queue import alerts_evaluation_enqueue
        from core.roles import ALL, VIEW, roles_grant
        from production.events import production_written

        production_written.connect(
            lambda factory_ids, **_: alerts_evaluation_enqueue(factory_ids=factory_ids),
            weak=False,
            dispatch_uid="alerts_evaluation_enqueue",
        )

        roles_grant(
            self,
            {
                "viewer": {"alertrule": VIEW, "alert": VIEW},
                "operator": {"alertrule": VIEW, "alert": VIEW},
                "manager": {"alertrule": ALL, "alert": VIEW},
            },
        )
