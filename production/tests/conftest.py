"""Fixtures shared by production's test modules."""

import pytest

from inventory.tests.factories import FactoryFactory


@pytest.fixture
def plant():
    return FactoryFactory(name="Plant Berlin")
