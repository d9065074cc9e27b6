"""The three groups of DESIGN §5 and their permissions, kept in step after every migrate."""

from django.contrib.auth.models import Group, Permission

VIEW = ("view",)
ALL = ("view", "add", "change", "delete")

ROLE_PERMISSIONS: dict[str, dict[tuple[str, str], tuple[str, ...]]] = {
    "viewer": {
        ("inventory", "sprocket"): VIEW,
        ("inventory", "factory"): VIEW,
        ("production", "productionrecord"): VIEW,
    },
    "operator": {
        ("inventory", "sprocket"): VIEW,
        ("inventory", "factory"): VIEW,
        ("production", "productionrecord"): ("view", "add", "change"),
    },
    "manager": {
        ("inventory", "sprocket"): ALL,
        ("inventory", "factory"): ALL,
        ("production", "productionrecord"): ALL,
    },
}


def roles_ensure(**_signal_kwargs) -> None:
    """Create the groups and give each exactly its permissions (a post_migrate receiver)."""
    for role, grants in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = Permission.objects.none()
        for (app_label, model_name), actions in grants.items():
            wanted = wanted | Permission.objects.filter(
                content_type__app_label=app_label,
                codename__in=[f"{action}_{model_name}" for action in actions],
            )
        group.permissions.set(wanted)
