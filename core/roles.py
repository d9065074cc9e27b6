"""The three roles of DESIGN §5 as groups; each app grants them its own models' permissions.

An app calls `roles_grant` in its `AppConfig.ready`; after the app's post_migrate (when its
permissions exist) each group gets exactly the permissions granted on that app's models.
"""

from django.apps import AppConfig
from django.contrib.auth.models import Group, Permission
from django.db.models.signals import post_migrate

ROLES = ("viewer", "operator", "manager")
VIEW = ("view",)
ALL = ("view", "add", "change", "delete")

# role -> app label -> model name -> actions
_grants: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {role: {} for role in ROLES}


def roles_grant(app_config: AppConfig, grants: dict[str, dict[str, tuple[str, ...]]]) -> None:
    """Grant each role (`{"viewer": {"sprocket": VIEW}}`) the actions on the app's models."""
    for role, models in grants.items():
        _grants[role][app_config.label] = dict(models)
    post_migrate.connect(
        lambda **_: roles_ensure(app_label=app_config.label),
        sender=app_config,
        weak=False,
        dispatch_uid=f"roles_ensure:{app_config.label}",
    )


def role_permissions(role: str) -> set[str]:
    """Every permission the role is granted, as `app_label.codename`."""
    return {
        f"{app_label}.{action}_{model_name}"
        for app_label, models in _grants[role].items()
        for model_name, actions in models.items()
        for action in actions
    }


def roles_ensure(*, app_label: str) -> None:
    """Create the groups and give each exactly its permissions on one app's models."""
    app_permissions = Permission.objects.filter(content_type__app_label=app_label)
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        codenames = [
            f"{action}_{model_name}"
            for model_name, actions in _grants[role].get(app_label, {}).items()
            for action in actions
        ]
        group.permissions.remove(*app_permissions.exclude(codename__in=codenames))
        group.permissions.add(*app_permissions.filter(codename__in=codenames))
