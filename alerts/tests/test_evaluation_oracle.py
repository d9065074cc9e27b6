"""Rule evaluation against an oracle (issue 15): for any minute series, window, threshold,
hysteresis and starting state, `alerts_evaluate` opens and resolves exactly what a direct sum
over the series says; a value hovering at the threshold does not flap; `no_production` opens
on an empty window and resolves with the first record. On PostgreSQL the window's sums come
from the rollups and raw edges; on SQLite from the records."""

from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from alerts.models import Alert, AlertRule, AlertState, RuleKind, WebhookDelivery
from alerts.services import alerts_evaluate
from alerts.tests.factories import AlertRuleFactory
from inventory.models import Factory
from inventory.tests.factories import FactoryFactory
from production.models import ProductionRecord
from production.tests.summary_helpers import store

pytestmark = pytest.mark.django_db

START = datetime(2024, 3, 30, 22, 0, tzinfo=UTC)  # a day and a month end within reach
MINUTE = timedelta(minutes=1)


def oracle_attainment(records, factory_id, now, window_minutes) -> Decimal | None:
    end = now.replace(second=0, microsecond=0) + MINUTE
    start = end - window_minutes * MINUTE
    inside = [(a, g) for f, t, a, g in records if f == factory_id and start <= t < end]
    goal = sum(g for _, g in inside)
    if goal == 0:
        return None
    return (Decimal(sum(a for a, _ in inside)) / goal).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)


AT_THRESHOLD = {"now": 30, "window": 1, "threshold": Decimal("0.95"), "hysteresis": 0, "open": True}


@st.composite
def cases(draw) -> dict:
    minutes = draw(st.lists(st.integers(0, 300), max_size=120, unique=True))
    return {
        "records": [
            (m, draw(st.integers(0, 40)), draw(st.sampled_from([0, 30, 32, 40]))) for m in minutes
        ],
        "now": draw(st.integers(0, 330)) * 60 + draw(st.integers(0, 59)),
        "window": draw(st.sampled_from([1, 7, 59, 60, 61, 120, 180, 300])),
        "threshold": Decimal(draw(st.integers(50, 120))) / 100,
        "hysteresis": Decimal(draw(st.sampled_from([0, 2, 5]))) / 100,
        "open": draw(st.booleans()),
    }


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=cases())
# At the boundaries: attainment exactly the threshold does not open; exactly threshold +
# hysteresis resolves.
@example(case={**AT_THRESHOLD, "records": [(0, 38, 40)], "open": False})
@example(case={**AT_THRESHOLD, "records": [(0, 40, 40)], "hysteresis": Decimal("0.05")})
def test_attainment_rules_open_and_resolve_exactly_as_the_oracle_says(case):
    Alert.objects.all().delete()
    AlertRule.objects.all().delete()
    ProductionRecord.objects.all().delete()
    Factory.objects.all().delete()
    factory = FactoryFactory()
    records = store(
        (factory.pk, START + m * MINUTE, actual, goal) for m, actual, goal in case["records"]
    )
    rule = AlertRuleFactory(
        window_minutes=case["window"], threshold=case["threshold"], hysteresis=case["hysteresis"]
    )
    now = START + timedelta(seconds=case["now"])
    if case["open"]:
        Alert.objects.create(rule=rule, factory=factory, opened_at=now - MINUTE)

    done = alerts_evaluate(now=now)

    value = oracle_attainment(records, factory.pk, now, case["window"])
    should_open = not case["open"] and value is not None and value < case["threshold"]
    should_resolve = (
        case["open"] and value is not None and value >= case["threshold"] + case["hysteresis"]
    )
    assert [a.factory_id for a in done.opened] == ([factory.pk] if should_open else [])
    assert [a.factory_id for a in done.resolved] == ([factory.pk] if should_resolve else [])
    states = list(Alert.objects.filter(rule=rule).values_list("state", flat=True))
    if should_open or (case["open"] and not should_resolve):
        assert states == [AlertState.OPEN]
    elif should_resolve:
        assert states == [AlertState.RESOLVED]
    else:
        assert states == []
    assert WebhookDelivery.objects.count() == int(should_open) + int(should_resolve)
    if should_open:
        assert Alert.objects.get(rule=rule).opened_value == value


def minute_records(factory, minutes: range, actual: int, goal: int = 100) -> None:
    store((factory.pk, START + m * MINUTE, actual, goal) for m in minutes)


def test_a_value_hovering_at_the_threshold_opens_once_and_does_not_flap():
    factory = FactoryFactory()
    AlertRuleFactory(window_minutes=10, threshold=Decimal("0.95"), hysteresis=Decimal("0.03"))
    # Each minute's attainment walks 0.94, 0.96, 0.94, 0.96, ...: the 10-minute window hovers
    # around 0.95, sometimes just under, never at 0.98.
    opened = resolved = 0
    for minute in range(120):
        minute_records(factory, range(minute, minute + 1), 94 if minute % 2 == 0 else 96)
        done = alerts_evaluate(now=START + minute * MINUTE)
        opened += len(done.opened)
        resolved += len(done.resolved)

    assert (opened, resolved) == (1, 0)
    minute_records(factory, range(120, 130), 100)
    done = alerts_evaluate(now=START + 129 * MINUTE)
    assert len(done.resolved) == 1


def test_no_production_opens_on_an_empty_window_and_resolves_with_the_first_record():
    factory, idle = FactoryFactory(), FactoryFactory()
    AlertRuleFactory(kind=RuleKind.NO_PRODUCTION, threshold=None, window_minutes=15)
    minute_records(factory, range(0, 30), 90)

    done = alerts_evaluate(now=START + 40 * MINUTE)  # factory: last record 11 minutes ago

    assert [a.factory_id for a in done.opened] == [idle.pk]
    done = alerts_evaluate(now=START + 45 * MINUTE)  # 16 minutes: the window is empty
    assert [a.factory_id for a in done.opened] == [factory.pk]
    minute_records(factory, range(46, 47), 90)
    done = alerts_evaluate(now=START + 46 * MINUTE)
    assert [a.factory_id for a in done.resolved] == [factory.pk]
    assert Alert.objects.filter(state=AlertState.OPEN).count() == 1  # the idle factory's


def test_a_rule_for_one_factory_watches_only_that_factory():
    watched, other = FactoryFactory(), FactoryFactory()
    AlertRuleFactory(factory=watched, window_minutes=5)
    for factory in (watched, other):
        minute_records(factory, range(0, 5), 50)

    done = alerts_evaluate(now=START + 4 * MINUTE)

    assert [a.factory_id for a in done.opened] == [watched.pk]


def test_an_inactive_rule_and_an_archived_factory_raise_nothing():
    archived = FactoryFactory(is_active=False)
    minute_records(archived, range(0, 5), 10)
    AlertRuleFactory(window_minutes=5)
    AlertRuleFactory(window_minutes=5, is_active=False, factory=FactoryFactory())

    assert alerts_evaluate(now=START + 4 * MINUTE).opened == []


def test_after_resolving_no_alert_opens_again_within_the_cool_down():
    factory = FactoryFactory()
    AlertRuleFactory(window_minutes=5, cooldown_minutes=30, hysteresis=Decimal(0))
    minute_records(factory, range(0, 5), 50)
    assert len(alerts_evaluate(now=START + 4 * MINUTE).opened) == 1
    minute_records(factory, range(5, 10), 100)
    assert len(alerts_evaluate(now=START + 9 * MINUTE).resolved) == 1
    minute_records(factory, range(10, 15), 50)

    assert alerts_evaluate(now=START + 14 * MINUTE).opened == []  # resolved 5 minutes ago
    minute_records(factory, range(15, 45), 50)
    assert len(alerts_evaluate(now=START + 40 * MINUTE).opened) == 1  # 31 minutes after


def test_only_the_factories_a_write_changed_are_evaluated_when_named():
    written, untouched = FactoryFactory(), FactoryFactory()
    AlertRuleFactory(window_minutes=5)
    for factory in (written, untouched):
        minute_records(factory, range(0, 5), 50)

    done = alerts_evaluate(now=START + 4 * MINUTE, factory_ids=[written.pk])

    assert [a.factory_id for a in done.opened] == [written.pk]


def test_each_opening_and_resolution_is_one_delivery_with_the_alert_document():
    factory = FactoryFactory()
    rule = AlertRuleFactory(window_minutes=5, hysteresis=Decimal(0))
    minute_records(factory, range(0, 5), 50)
    alerts_evaluate(now=START + 4 * MINUTE)
    minute_records(factory, range(5, 10), 100)
    alerts_evaluate(now=START + 9 * MINUTE)

    bodies = [d.body for d in WebhookDelivery.objects.order_by("id")]
    assert [b["event"] for b in bodies] == ["alert.opened", "alert.resolved"]
    assert bodies[0]["alert"] | {"resolved_at": None} == {
        "id": bodies[0]["alert"]["id"],
        "rule_id": rule.pk,
        "rule_name": rule.name,
        "kind": "attainment_below",
        "factory_id": factory.pk,
        "state": "open",
        "opened_at": "2024-03-30T22:04:00Z",
        "resolved_at": None,
        "opened_value": "0.5000",
        "resolved_value": None,
        "window_minutes": 5,
        "threshold": "0.9500",
    }
    assert bodies[1]["alert"]["state"] == "resolved"
    assert bodies[1]["alert"]["resolved_value"] == "1.0000"
    keys = set(WebhookDelivery.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == 2


def test_no_production_fires_only_for_a_window_wholly_within_working_hours():
    # START is 22:00 UTC; the shift ends at 22:00 and begins again at 06:00.
    factory = FactoryFactory(working_hours_start=time(6), working_hours_end=time(22))
    AlertRuleFactory(kind=RuleKind.NO_PRODUCTION, threshold=None, window_minutes=30)

    assert alerts_evaluate(now=START + 60 * MINUTE).opened == []  # 23:00, off shift
    assert alerts_evaluate(now=START + 8 * 60 * MINUTE + 15 * MINUTE).opened == []  # 06:15
    done = alerts_evaluate(now=START + 8 * 60 * MINUTE + 40 * MINUTE)  # 06:40: 06:11-06:40

    assert [a.factory_id for a in done.opened] == [factory.pk]


def test_the_tick_resolves_the_alerts_of_a_paused_rule_and_an_archived_factory():
    paused_rule, archived = AlertRuleFactory(is_active=False), FactoryFactory(is_active=False)
    kept_rule, watched = AlertRuleFactory(), FactoryFactory()
    for rule, factory in ((paused_rule, watched), (kept_rule, archived), (kept_rule, watched)):
        Alert.objects.create(rule=rule, factory=factory, opened_at=START)

    done = alerts_evaluate(now=START + MINUTE)

    assert sorted((a.rule_id, a.factory_id) for a in done.resolved) == sorted(
        [(paused_rule.pk, watched.pk), (kept_rule.pk, archived.pk)]
    )
    assert WebhookDelivery.objects.filter(event="alert.resolved").count() == 2
    assert Alert.objects.get(rule=kept_rule, factory=watched).state == AlertState.OPEN
