"""Create (or reuse) a user in a role group and print a new API token for it."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.auth import auth_token_issue
from core.roles import ROLES


def _ttl(value: str) -> timedelta | None:
    if value == "never":
        return None
    if not value.isdigit() or int(value) < 1:
        raise CommandError("--ttl takes a number of seconds (at least 1) or 'never'.")
    return timedelta(seconds=int(value))


def _valid_username(username: str) -> str:
    user_model = get_user_model()
    username = username.strip()
    if not username:
        raise CommandError("USER must not be empty.")
    try:
        user_model._meta.get_field(user_model.USERNAME_FIELD).run_validators(username)
    except ValidationError as error:
        raise CommandError(f"USER {username!r}: {' '.join(error.messages)}") from None
    return username


class Command(BaseCommand):
    help = (
        "Create USER (with no password) in the group G if it does not exist, add it to G, and "
        "print a new token for it. For machines that push production unattended."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--group", required=True, choices=sorted(ROLES))
        parser.add_argument(
            "--ttl",
            default=str(int(settings.TOKEN_TTL.total_seconds())),
            help="Token lifetime in seconds, or 'never' (default: TOKEN_TTL).",
        )

    def handle(self, *args, username: str, group: str, ttl: str, **options) -> None:
        expiry = _ttl(ttl)
        username = _valid_username(username)
        try:
            role = Group.objects.get(name=group)
        except Group.DoesNotExist:
            raise CommandError(
                f"The group {group!r} is missing; run `manage.py migrate`."
            ) from None
        with transaction.atomic():
            user, created = get_user_model().objects.get_or_create(username=username)
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            user.groups.add(role)
            _, token = auth_token_issue(user=user, expiry=expiry)
        self.stdout.write(token)
