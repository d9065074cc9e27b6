"""Fixtures shared by every app's tests."""

import pytest
from django.db import connection


@pytest.fixture
def on_postgresql(db) -> None:
    """Skip a test that needs PostgreSQL when the suite runs on the embedded SQLite default."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def original_data(db) -> None:
    """The original challenge data, loaded as `load_original_data` loads it."""
    from production.management.commands.load_original_data import original_data_load

    original_data_load()


@pytest.fixture
def staff_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(admin)
    return client


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def user_in_role(db, django_user_model):
    """A user in one of the role groups (viewer, operator, manager)."""
    from django.contrib.auth.models import Group

    def make(role: str):
        user = django_user_model.objects.create_user(f"{role}-user", password="pw-12345-long")
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def api_client_as(user_in_role):
    """An API client authenticated with a real token of a user in the given role."""
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    def make(role: str) -> APIClient:
        _, token = AuthToken.objects.create(user=user_in_role(role))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client

    return make


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_cache_generations() -> None:
    """Each test starts with new generations, so no response cached by another test is served."""
    from core.cache import cache_generations_bump, cache_resources

    cache_generations_bump(cache_resources())


FORBIDDEN_REDIS_COMMANDS = ("scan", "keys")


def _stats_redis():
    """The shared Redis the suite caches in (REDIS_URL), for its command statistics."""
    import os

    import redis

    url = os.environ.get("REDIS_URL")
    return redis.Redis.from_url(url, socket_timeout=2) if url else None


def pytest_sessionstart(session) -> None:
    client = _stats_redis()
    if client is not None:
        client.config_resetstat()


def pytest_sessionfinish(session, exitstatus) -> None:
    """Fail the run if anything sent SCAN or KEYS to Redis during the whole suite (DESIGN §6)."""
    client = _stats_redis()
    if client is None:
        return
    stats = client.info("commandstats")
    used = {
        name: stats[f"cmdstat_{name}"]["calls"]
        for name in FORBIDDEN_REDIS_COMMANDS
        if f"cmdstat_{name}" in stats
    }
    # redis-py sends INCR as INCRBY 1.
    incr_calls = sum(
        stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("incr", "incrby")
    )
    print(f"\nRedis command statistics: INCR/INCRBY {incr_calls}, SCAN/KEYS {used or 'none'}")
    if used:
        print(f"Redis received forbidden commands during the suite: {used}")
        session.exitstatus = 1


@pytest.fixture
def manager(api_client_as):
    return api_client_as("manager")


@pytest.fixture
def operator(api_client_as):
    return api_client_as("operator")


@pytest.fixture
def viewer(api_client_as):
    return api_client_as("viewer")
