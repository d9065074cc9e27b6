"""`manage.py issue_token USER --group G [--ttl SECONDS|never]` (DESIGN §5).

Requests are made with secure=True: with DATABASE_URL set (and DEBUG off) SECURE_SSL_REDIRECT
sends plain HTTP to HTTPS, as in production.
"""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from inventory.tests.factories import FactoryFactory
from production.models import ProductionRecord

PRODUCTION_URL = "/sprocketFactory/v1/production"


def issue_token(*args: str) -> str:
    out = StringIO()
    call_command("issue_token", *args, stdout=out)
    return out.getvalue().strip()


def post_production_with(token: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    record = {
        "factory_id": FactoryFactory().pk,
        "sprocket_production_actual": 30,
        "sprocket_production_goal": 32,
        "time": 1611194818,
    }
    return client.post(PRODUCTION_URL, record, format="json", secure=True)


def test_issue_token_creates_the_user_in_the_group(db):
    issue_token("etl", "--group", "operator")

    user = get_user_model().objects.get(username="etl")
    assert list(user.groups.values_list("name", flat=True)) == ["operator"]


def test_issue_token_creates_the_user_without_a_usable_password(db):
    issue_token("etl", "--group", "operator")

    assert not get_user_model().objects.get(username="etl").has_usable_password()


def test_issue_token_prints_a_token_that_lets_an_operator_post_production(db):
    token = issue_token("etl", "--group", "operator")

    response = post_production_with(token)

    assert response.status_code == 201, response.content
    assert ProductionRecord.objects.count() == 1


def test_issue_token_gives_the_token_the_configured_lifetime_by_default(db, settings):
    issue_token("etl", "--group", "operator")

    expected = timezone.now() + settings.TOKEN_TTL
    assert abs(AuthToken.objects.get().expiry - expected) < timedelta(seconds=30)


def test_issue_token_with_ttl_never_gives_a_token_without_expiry(db):
    issue_token("etl", "--group", "operator", "--ttl", "never")

    assert AuthToken.objects.get().expiry is None


def test_issue_token_with_ttl_seconds_gives_a_token_expiring_that_far_ahead(db):
    issue_token("etl", "--group", "operator", "--ttl", "60")

    expected = timezone.now() + timedelta(seconds=60)
    assert abs(AuthToken.objects.get().expiry - expected) < timedelta(seconds=5)


@pytest.mark.parametrize("ttl", ["0", "abc", "-5", "1.5", ""])
def test_issue_token_refuses_a_ttl_that_is_not_a_positive_number_of_seconds(db, ttl):
    with pytest.raises(CommandError, match="--ttl"):
        issue_token("etl", "--group", "operator", f"--ttl={ttl}")


def test_issue_token_with_a_refused_ttl_creates_no_user_and_no_token(db):
    with pytest.raises(CommandError):
        issue_token("etl", "--group", "operator", "--ttl", "abc")

    assert not get_user_model().objects.filter(username="etl").exists()
    assert not AuthToken.objects.exists()


def test_issue_token_refuses_an_unknown_group(db):
    with pytest.raises(CommandError, match="group"):
        issue_token("etl", "--group", "admins")

    assert not get_user_model().objects.filter(username="etl").exists()


def test_issue_token_reports_a_deleted_group_as_a_command_error(db):
    Group.objects.filter(name="operator").delete()

    with pytest.raises(CommandError, match="operator"):
        issue_token("etl", "--group", "operator")


def test_issue_token_refuses_an_empty_username(db):
    with pytest.raises(CommandError):
        issue_token("", "--group", "operator")

    assert not get_user_model().objects.filter(username="").exists()


def test_issue_token_refuses_a_username_the_user_model_would_refuse(db):
    with pytest.raises(CommandError):
        issue_token("bad user!", "--group", "operator")

    assert not get_user_model().objects.filter(username="bad user!").exists()


def test_issue_token_needs_a_group(db):
    with pytest.raises(CommandError, match="--group"):
        issue_token("etl")


def test_issue_token_twice_for_one_user_gives_two_working_tokens(db):
    first = issue_token("etl", "--group", "operator")
    second = issue_token("etl", "--group", "operator")

    assert first != second
    assert get_user_model().objects.filter(username="etl").count() == 1
    assert post_production_with(first).status_code == 201
    assert post_production_with(second).status_code == 201
