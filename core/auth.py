"""Who a request is and what it may do, in two queries per request rather than four.

knox's token check also reads every other token of the user on every request, to delete the
expired ones; here expired tokens go when the user is given a new one (`auth_token_issue`), and
each request reads only its own token (with its user). Django's ModelBackend reads a user's own
permissions and their groups' in two queries; `RolePermissionsBackend` reads both in one.
"""

from datetime import timedelta

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.models import AuthToken
from knox.signals import token_expired


class OwnTokenAuthentication(TokenAuthentication):
    """knox's `Authorization: Token <token>`, reading only the presented token."""

    def _cleanup_token(self, auth_token: AuthToken) -> bool:
        if auth_token.expiry is None or auth_token.expiry >= timezone.now():
            return False
        username = auth_token.user.get_username()
        auth_token.delete()
        token_expired.send(sender=self.__class__, username=username, source="auth_token")
        return True


class RolePermissionsBackend(ModelBackend):
    """ModelBackend, with a user's own and group permissions read in one query."""

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            granted = (
                Permission.objects.filter(Q(user=user_obj) | Q(group__user=user_obj))
                .values_list("content_type__app_label", "codename")
                .distinct()
            )
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in granted}
        return user_obj._perm_cache


def auth_token_issue(*, user, expiry: timedelta | None) -> tuple[AuthToken, str]:
    """A new token for `user` (and its text, shown once); the user's expired tokens go."""
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    return AuthToken.objects.create(user=user, expiry=expiry)
