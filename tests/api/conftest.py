"""Fixtures of the response cache's and the event stream's tests: a factory and its records,
a private Redis."""

from datetime import UTC, datetime

import pytest

# Before the import below, so that the helpers' asserts explain themselves too.
pytest.register_assert_rewrite("tests.api.cache_helpers")

from inventory.tests.factories import FactoryFactory  # noqa: E402
from production.models import ProductionRecord  # noqa: E402
from tests.api.cache_helpers import FIRST_MINUTE_UNIX  # noqa: E402
from tests.servers import PrivateRedis  # noqa: E402


@pytest.fixture
def plant():
    return FactoryFactory(name="Plant Berlin")


@pytest.fixture
def records(plant):
    return ProductionRecord.objects.bulk_create(
        ProductionRecord(
            factory=plant,
            time=datetime.fromtimestamp(FIRST_MINUTE_UNIX + 60 * i, UTC),
            sprocket_production_actual=30,
            sprocket_production_goal=32,
        )
        for i in range(3)
    )


@pytest.fixture
def private_redis():
    """A redis-server of the test's own, which it may stop and start (never the shared one)."""
    server = PrivateRedis()
    try:
        server.start()
        yield server
    finally:
        server.stop()
