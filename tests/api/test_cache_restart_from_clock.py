"""After an outage (or a Sentinel failover) every generation restarts from the clock, past any
value it had: a new primary that lacks the old one's last bumps never serves an entry stored
under a generation it had before them (core/cache.py)."""

import time

import pytest
from django.conf import settings
from django.core.cache import cache

from core import cache as sprocket_cache
from core.cache import cache_generations_get, cache_resources

pytestmark = pytest.mark.skipif(
    not settings.CACHES["default"]["BACKEND"].startswith("django_redis"),
    reason="needs the Redis cache (set REDIS_URL)",
)


@pytest.fixture
def outage_then_recovery():
    sprocket_cache._cache_outage.clear()

    def recover() -> None:
        sprocket_cache.cache_outage_begins("test")
        assert sprocket_cache._outage_ends()

    yield recover
    sprocket_cache._cache_outage.clear()


def test_a_counter_that_lost_its_last_bumps_restarts_above_the_clock(outage_then_recovery):
    (resource, *_) = cache_resources()
    # As on a replica promoted before the old primary's last bumps reached it.
    cache.set(f"generation:{resource}", 12, timeout=None)
    before = time.time_ns() // 1000

    outage_then_recovery()

    (restarted,) = cache_generations_get([resource])
    assert restarted >= before


def test_a_counter_ahead_of_the_clock_still_moves_on(outage_then_recovery):
    (resource, *_) = cache_resources()
    ahead = time.time_ns() // 1000 + 10**12
    cache.set(f"generation:{resource}", ahead, timeout=None)

    outage_then_recovery()

    assert cache_generations_get([resource]) == (ahead + 1,)
