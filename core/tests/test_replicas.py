"""The replica router's choices that need no replica (tests/system/test_topology.py runs
a real one): writes, migrations and transactions stay on the primary; a read goes to a replica
only with the replica past the highest mark."""

import pytest
from django.db import DEFAULT_DB_ALIAS, transaction

from core import replicas
from core.replicas import WAL_ALIGNMENT, ReplicaRouter, replica_for, replica_routed_read


@pytest.fixture
def one_replica(settings, monkeypatch):
    monkeypatch.setattr(replicas, "replica_aliases", lambda: ["replica_0"])
    settings.REPLICA_MAX_LAG_SECONDS = 5.0
    state = replicas._ReplicaState(checked=1e18, replayed=1000, lag=0.0)
    monkeypatch.setattr(replicas, "_state", lambda alias: state)
    return state


def _marks(monkeypatch, marks):
    monkeypatch.setattr(replicas, "cache_marks_get", lambda resources: marks)


def test_writes_and_migrations_stay_on_the_primary():
    router = ReplicaRouter()
    token = replicas._read_alias.set("replica_0")
    try:
        assert router.db_for_write(object) == DEFAULT_DB_ALIAS
        assert router.allow_migrate("replica_0", "production") is False
        assert router.allow_migrate(DEFAULT_DB_ALIAS, "production") is True
        assert router.db_for_read(object) == "replica_0"
    finally:
        replicas._read_alias.reset(token)


@pytest.mark.django_db
def test_a_read_inside_a_transaction_stays_on_the_primary():
    token = replicas._read_alias.set("replica_0")
    try:
        with transaction.atomic():
            assert ReplicaRouter().db_for_read(object) == DEFAULT_DB_ALIAS
    finally:
        replicas._read_alias.reset(token)


@pytest.mark.parametrize(
    ("marks", "chosen"),
    [
        ([900, 1000], "replica_0"),  # replayed past every mark
        ([1000 + WAL_ALIGNMENT - 1], "replica_0"),  # the marked record's rounded-up end
        ([1000 + WAL_ALIGNMENT], DEFAULT_DB_ALIAS),  # a later record it has not replayed
        (None, DEFAULT_DB_ALIAS),  # Redis cannot say
    ],
)
def test_a_replica_is_chosen_only_past_every_known_mark(one_replica, monkeypatch, marks, chosen):
    _marks(monkeypatch, marks)

    assert replica_for(["production", "factories"]) == chosen


def test_a_lagging_replica_is_not_chosen(one_replica, monkeypatch, settings):
    _marks(monkeypatch, [10])
    one_replica.lag = settings.REPLICA_MAX_LAG_SECONDS + 1

    assert replica_for(["production"]) == DEFAULT_DB_ALIAS


def test_a_read_the_replica_fails_runs_again_on_the_primary(one_replica, monkeypatch):
    from django.db import OperationalError

    _marks(monkeypatch, [10])
    down = []
    monkeypatch.setattr(replicas, "_replica_down", down.append)
    aliases = []

    def produce():
        aliases.append(replicas._read_alias.get())
        if len(aliases) == 1:
            raise OperationalError("the replica went away")
        return "answer"

    assert replica_routed_read(["production"], produce) == "answer"
    assert aliases == ["replica_0", DEFAULT_DB_ALIAS]
    assert down == ["replica_0"]


def test_without_replicas_nothing_is_routed(monkeypatch):
    monkeypatch.setattr(replicas, "replica_for", lambda resources: pytest.fail("routed"))

    assert replica_routed_read(["production"], lambda: "answer") == "answer"
