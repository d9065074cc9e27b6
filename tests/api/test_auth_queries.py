"""What authenticating a token request costs (core/auth.py): its own token with its user in one
query, the user's permissions in one more; expired tokens of the user go when a new one is
issued, not on every request. The permissions are ModelBackend's, whatever a user holds."""

from datetime import timedelta

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from core.auth import RolePermissionsBackend, auth_token_issue

API = "/sprocketFactory/v1"

pytestmark = pytest.mark.django_db


def _client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _queries_naming(captured, table: str) -> int:
    return sum(table in query["sql"] for query in captured.captured_queries)


def test_a_token_read_asks_once_for_its_token_and_once_for_permissions(user_in_role, settings):
    settings.ANONYMOUS_READ = False
    viewer = user_in_role("viewer")
    auth_token_issue(user=viewer, expiry=timedelta(hours=1))  # another device's token
    _, token = auth_token_issue(user=viewer, expiry=timedelta(hours=1))

    with CaptureQueriesContext(connection) as captured:
        response = _client(token).get(f"{API}/sprockets", secure=True)

    assert response.status_code == 200
    assert _queries_naming(captured, "knox_authtoken") == 1
    assert _queries_naming(captured, "auth_permission") == 1


def test_an_expired_token_presented_is_refused_and_deleted(user_in_role):
    viewer = user_in_role("viewer")
    instance, token = auth_token_issue(user=viewer, expiry=timedelta(hours=1))
    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - timedelta(seconds=1))

    response = _client(token).get(f"{API}/sprockets", secure=True)

    assert response.status_code == 401
    assert not AuthToken.objects.filter(pk=instance.pk).exists()


def test_a_users_expired_tokens_go_when_a_new_one_is_issued(user_in_role):
    viewer = user_in_role("viewer")
    expired, _ = auth_token_issue(user=viewer, expiry=timedelta(hours=1))
    living, _ = auth_token_issue(user=viewer, expiry=timedelta(hours=1))
    AuthToken.objects.filter(pk=expired.pk).update(expiry=timezone.now() - timedelta(seconds=1))

    response = APIClient().post(
        f"{API}/auth/token",
        {"username": viewer.username, "password": "pw-12345-long"},
        format="json",
        secure=True,
    )

    assert response.status_code == 200
    remaining = set(AuthToken.objects.filter(user=viewer).values_list("pk", flat=True))
    assert expired.pk not in remaining
    assert living.pk in remaining
    assert len(remaining) == 2


def test_issue_token_also_clears_the_users_expired_tokens(user_in_role):
    call_command("issue_token", "robot", "--group", "viewer", "--ttl", "60", stdout=None)
    AuthToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))

    call_command("issue_token", "robot", "--group", "viewer", "--ttl", "60", stdout=None)

    assert AuthToken.objects.count() == 1
    assert AuthToken.objects.get().expiry > timezone.now()


@pytest.mark.parametrize(
    "holds",
    ["nothing", "own", "group", "own and group", "two groups", "inactive", "superuser"],
)
def test_role_permissions_are_model_backends(django_user_model, holds):
    user = django_user_model.objects.create_user("someone")
    own = Permission.objects.filter(codename__in=["add_sprocket", "view_factory"])
    if "own" in holds or holds in ("inactive", "superuser"):
        user.user_permissions.set(own)
    if "group" in holds or holds == "inactive":
        user.groups.add(Group.objects.get(name="operator"))
    if holds == "two groups":
        user.groups.add(Group.objects.get(name="operator"), Group.objects.get(name="manager"))
    user.is_active = holds != "inactive"
    user.is_superuser = holds == "superuser"
    user.save()

    ours = RolePermissionsBackend().get_all_permissions(django_user_model.objects.get(pk=user.pk))
    djangos = ModelBackend().get_all_permissions(django_user_model.objects.get(pk=user.pk))

    assert ours == djangos
    assert bool(ours) == (holds not in ("nothing", "inactive"))
