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
    """The original challenge data, loaded from fixtures/ as a newcomer would."""
    from django.core.management import call_command

    call_command("loaddata", "sprockets", "factories", "production", verbosity=0)


@pytest.fixture
def staff_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(admin)
    return client
