"""Clients that answer with the response even when the server fails (as a real client
does), and a factory with records, for the hostile-input tests."""

import pytest

# Before the tests import it, so that its asserts explain themselves too.
pytest.register_assert_rewrite("tests.api.hostile.helpers")

from inventory.tests.factories import FactoryFactory  # noqa: E402
from production.tests.factories import create_records  # noqa: E402


@pytest.fixture
def hostile(api_client):
    api_client.raise_request_exception = False
    return api_client


@pytest.fixture
def manager(api_client_as):
    client = api_client_as("manager")
    client.raise_request_exception = False
    return client


@pytest.fixture
def plant():
    factory = FactoryFactory(name="Plant Berlin")
    create_records(factory, 3)
    return factory
