"""Who may do what (DESIGN §5): model permissions, with anonymous reads as a setting."""

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS, BasePermission

ACTION_BY_METHOD = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


class ModelActionPermission(BasePermission):
    """Reads need the model's `view` permission unless anonymous reads are on; writes need the
    model permission for the action.

    A view without a `queryset` names its model with `permission_model`, and may name other
    permissions per method with `required_permissions` (bulk ingest). Exports
    (`view.is_export(request)`) and views that say `anonymous_read = False` (alert rules:
    their webhook addresses may carry tokens) are never read anonymously.
    """

    def has_permission(self, request, view) -> bool:
        if request.method not in view.allowed_methods:
            # Let the view answer 405; a view without a model could not name a permission.
            return True
        exporting = getattr(view, "is_export", lambda _request: False)(request)
        anonymous_read = settings.ANONYMOUS_READ and getattr(view, "anonymous_read", True)
        if request.method in SAFE_METHODS and anonymous_read and not exporting:
            return True
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return user.has_perms(self.permission_names(request, view))

    @staticmethod
    def permission_names(request, view) -> list[str]:
        declared = getattr(view, "required_permissions", None) or {}
        if request.method in declared:
            return list(declared[request.method])
        model = getattr(view, "permission_model", None) or getattr(
            getattr(view, "queryset", None), "model", None
        )
        if model is None:
            # A view without a model (bulk ingest) is read with the rights it is written with.
            return sorted({name for names in declared.values() for name in names})
        meta = model._meta
        action = ACTION_BY_METHOD.get(request.method, "change")
        return [f"{meta.app_label}.{action}_{meta.model_name}"]


class ReadAllowed(BasePermission):
    """For pages without a model (the API schema and docs): open when anonymous reads are."""

    def has_permission(self, request, view) -> bool:
        return settings.ANONYMOUS_READ or bool(request.user and request.user.is_authenticated)
