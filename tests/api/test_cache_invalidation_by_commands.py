"""Cached reads (DESIGN §6) after management commands that write: loaddata, the loaders and
generators of production, flush.

Runs on the configured cache: local memory on the embedded default, Redis when REDIS_URL is set.
The tests commit for real (`transaction=True`): generations are bumped on commit.
"""

from io import StringIO

import pytest
from django.core.management import call_command

from inventory.models import Factory
from inventory.tests.factories import SprocketFactory
from tests.api.cache_helpers import CHART_DATA, PRODUCTION_URL, SPROCKETS_URL, prime, read

pytestmark = pytest.mark.django_db(transaction=True)


def test_loaddata_shows_in_cached_lists(api_client):
    prime(api_client, SPROCKETS_URL)
    prime(api_client, PRODUCTION_URL)

    call_command("loaddata", "sprockets", "factories", "production", verbosity=0)

    assert len(read(api_client, SPROCKETS_URL)) == 3
    assert len(read(api_client, PRODUCTION_URL)) == 60


def test_load_original_data_shows_in_cached_chart_data(api_client):
    prime(api_client, CHART_DATA)

    call_command("load_original_data", verbosity=0)

    assert len(read(api_client, CHART_DATA)["factories"]) == 3


def test_generate_production_shows_in_a_cached_list(api_client):
    prime(api_client, PRODUCTION_URL)

    call_command(
        "generate_production",
        "--factories",
        "1",
        "--days",
        "1",
        "--interval",
        "3600",
        stdout=StringIO(),
    )

    assert len(read(api_client, PRODUCTION_URL)) == 24


def test_flush_shows_in_a_cached_list(api_client):
    SprocketFactory()
    prime(api_client, SPROCKETS_URL)

    call_command("flush", "--no-input", verbosity=0)

    assert read(api_client, SPROCKETS_URL) == []


# Not a transactional test: its teardown would itself flush, and fail the same way.
@pytest.mark.django_db
def test_flush_empties_the_database_on_postgresql(on_postgresql, plant):
    # No production rows here: their deferred foreign-key checks would block any TRUNCATE
    # in this (never committed) transaction.
    call_command("flush", "--no-input", verbosity=0)

    assert not Factory.objects.exists()
