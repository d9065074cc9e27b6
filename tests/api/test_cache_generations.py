"""Cache generations (DESIGN §6): one counter per resource, bumped once per committed transaction
that wrote it, restarted from the clock when lost.

Runs on the configured cache: local memory on the embedded default, Redis when REDIS_URL is set.
The tests commit for real (`transaction=True`): generations are bumped on commit.
"""

import time

import pytest
from django.core.cache import cache
from django.db import transaction

from core.cache import cache_generations_bump, cache_generations_get
from inventory.models import FACTORIES, SPROCKETS
from inventory.tests.factories import SprocketFactory
from production.models import PRODUCTION

pytestmark = pytest.mark.django_db(transaction=True)


def test_each_bump_increments_the_generation_by_one():
    (before,) = cache_generations_get([SPROCKETS])

    for _ in range(3):
        cache_generations_bump([SPROCKETS])

    assert cache_generations_get([SPROCKETS]) == (before + 3,)


def test_a_bump_leaves_the_other_resources_alone():
    before = cache_generations_get([FACTORIES, PRODUCTION])

    cache_generations_bump([SPROCKETS])

    assert cache_generations_get([FACTORIES, PRODUCTION]) == before


def test_a_missing_generation_is_recreated_from_the_clock():
    cache.delete("generation:sprockets")
    now = time.time_ns() // 1000

    (generation,) = cache_generations_get([SPROCKETS])

    assert generation >= now


def test_bumping_a_missing_generation_restarts_it_from_the_clock():
    cache.delete("generation:sprockets")
    now = time.time_ns() // 1000

    cache_generations_bump([SPROCKETS])

    assert cache_generations_get([SPROCKETS])[0] >= now


def test_a_transaction_of_many_writes_bumps_once():
    (before,) = cache_generations_get([SPROCKETS])

    with transaction.atomic():
        SprocketFactory.create_batch(3)

    assert cache_generations_get([SPROCKETS]) == (before + 1,)


def test_a_write_bumps_only_after_it_commits():
    (before,) = cache_generations_get([SPROCKETS])

    with transaction.atomic():
        SprocketFactory()
        during = cache_generations_get([SPROCKETS])

    assert during == (before,)
    assert cache_generations_get([SPROCKETS]) == (before + 1,)


def test_a_rolled_back_write_does_not_bump():
    (before,) = cache_generations_get([SPROCKETS])

    def create_then_fail() -> None:
        with transaction.atomic():
            SprocketFactory()
            raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError):
        create_then_fail()

    assert cache_generations_get([SPROCKETS]) == (before,)
