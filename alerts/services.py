"""Every write of alerts: evaluating rules (opening and resolving alerts, each with its webhook
delivery written and queued in the same transaction), and the deliveries' attempts."""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from alerts.evaluation import OPEN, RESOLVE, Reading, attainment, verdict, window_of
from alerts.models import (
    Alert,
    AlertRule,
    AlertState,
    DeliveryState,
    RuleKind,
    WebhookDelivery,
    WorkerBeat,
)
from alerts.queue import webhook_delivery_enqueue
from core.events.publish import events_add_on_commit
from core.times import time_format
from inventory.hours import WorkingHours
from inventory.models import Factory
from production.events import STREAM
from production.selectors.windows import (
    production_factories_writing_since,
    production_window_totals,
)

OPENED, RESOLVED = "alert.opened", "alert.resolved"

logger = logging.getLogger(__name__)


@dataclass
class Evaluated:
    opened: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)


def alerts_evaluate(
    *, now: datetime | None = None, factory_ids: list[int] | None = None
) -> Evaluated:
    """Evaluate every active rule at every factory it covers (only `factory_ids`, when given:
    those a committed write changed) over its window ending now; open and resolve alerts.
    Without `factory_ids` (the tick), alerts of paused rules and archived factories resolve.

    One evaluation at a time (a lock held until it commits): readings taken while another
    evaluation changes the same alerts could reopen one it had just resolved."""
    now = now or timezone.now()
    with transaction.atomic():
        _evaluation_lock()
        done = Evaluated()
        if factory_ids is None:
            done.resolved += _alerts_of_the_unwatched_resolve(now)
        return _evaluated(done, now, factory_ids)


def _evaluation_lock() -> None:
    # SQLite's transactions are IMMEDIATE here (settings): writers take turns already.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('alerts_evaluate'))")


def _alerts_of_the_unwatched_resolve(now: datetime) -> list[Alert]:
    unwatched = Alert.objects.filter(state=AlertState.OPEN).filter(
        Q(rule__is_active=False) | Q(factory__is_active=False)
    )
    no_reading = Reading(actual=0, goal=0, wrote=False)
    return [alert for alert in unwatched if _alert_resolve(alert, no_reading, now)]


def _evaluated(done: Evaluated, now: datetime, factory_ids: list[int] | None) -> Evaluated:
    rules = AlertRule.objects.filter(is_active=True)
    factories = Factory.objects.filter(is_active=True)
    if factory_ids is not None:
        rules = rules.filter(Q(factory__isnull=True) | Q(factory_id__in=factory_ids))
        factories = factories.filter(pk__in=factory_ids)
    # The active factories (of the write) with their working hours: one query for both.
    hours = {factory.pk: WorkingHours.of(factory) for factory in factories}
    covered = {
        rule: [rule.factory_id] if rule.factory_id else list(hours)
        for rule in rules
        if rule.factory_id is None or rule.factory_id in hours
    }
    readings = _readings(covered, hours, now)
    open_alerts = {
        (alert.rule_id, alert.factory_id): alert
        for alert in Alert.objects.filter(state=AlertState.OPEN, rule__in=list(covered))
    }
    cooling = _cooling_down(covered, now)
    for rule, factory_ids_of_rule in covered.items():
        for factory_id in factory_ids_of_rule:
            reading = readings[(rule.kind, rule.window_minutes)].get(factory_id)
            alert = open_alerts.get((rule.pk, factory_id))
            change = verdict(rule, reading, alert_open=alert is not None)
            if change == OPEN and (rule.pk, factory_id) not in cooling:
                opened = _alert_open(rule, factory_id, reading, now)
                if opened is not None:
                    done.opened.append(opened)
            elif change == RESOLVE and _alert_resolve(alert, reading, now):
                done.resolved.append(alert)
    return done


def _readings(
    covered: dict[AlertRule, list[int]], hours: dict[int, WorkingHours], now: datetime
) -> dict:
    """Per (kind, window) the reading of every factory a rule of that kind and window covers:
    one query of sums (rollups and raw edges) or of writers per distinct window; for
    `no_production`, whether the whole window was the factory's working time."""
    factories_by_window: dict[tuple[str, int], set[int]] = defaultdict(set)
    for rule, factory_ids in covered.items():
        factories_by_window[(rule.kind, rule.window_minutes)].update(factory_ids)
    readings: dict[tuple[str, int], dict[int, Reading]] = {}
    for (kind, minutes), factory_ids in factories_by_window.items():
        start, end = window_of(minutes, now)
        if kind == RuleKind.NO_PRODUCTION:
            wrote = production_factories_writing_since(factory_ids=sorted(factory_ids), since=start)
            readings[(kind, minutes)] = {
                factory_id: Reading(
                    actual=0,
                    goal=0,
                    wrote=factory_id in wrote,
                    working=hours[factory_id].covers(start, end),
                )
                for factory_id in factory_ids
            }
            continue
        totals = production_window_totals(factory_ids=sorted(factory_ids), after=start, before=end)
        readings[(kind, minutes)] = {
            factory_id: Reading(actual=t.actual, goal=t.goal, wrote=True)
            for factory_id, t in totals.items()
        } | {
            factory_id: Reading(actual=0, goal=0, wrote=False)
            for factory_id in factory_ids - totals.keys()
        }
    return readings


def _cooling_down(covered: dict[AlertRule, list[int]], now: datetime) -> set[tuple[int, int]]:
    """(rule, factory) pairs whose last alert resolved within the rule's cool-down."""
    cooling = set()
    rules = [rule for rule in covered if rule.cooldown_minutes]
    if not rules:
        return cooling
    earliest = now - timedelta(minutes=max(rule.cooldown_minutes for rule in rules))
    recent = Alert.objects.filter(rule__in=rules, resolved_at__gt=earliest).values_list(
        "rule_id", "factory_id", "resolved_at"
    )
    minutes = {rule.pk: rule.cooldown_minutes for rule in rules}
    for rule_id, factory_id, resolved_at in recent:
        if resolved_at > now - timedelta(minutes=minutes[rule_id]):
            cooling.add((rule_id, factory_id))
    return cooling


def _alert_open(rule: AlertRule, factory_id: int, reading: Reading, now: datetime) -> Alert | None:
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=rule, factory_id=factory_id, opened_at=now, opened_value=attainment(reading)
            )
            _delivery_add(alert, OPENED, now)
    except IntegrityError:  # another evaluation opened it meanwhile
        return None
    return alert


def _alert_resolve(alert: Alert, reading: Reading, now: datetime) -> bool:
    with transaction.atomic():
        changed = Alert.objects.filter(pk=alert.pk, state=AlertState.OPEN).update(
            state=AlertState.RESOLVED, resolved_at=now, resolved_value=attainment(reading)
        )
        if not changed:  # another evaluation resolved it meanwhile
            return False
        alert.refresh_from_db()
        _delivery_add(alert, RESOLVED, now)
    return True


def alert_document(alert: Alert) -> dict:
    """An alert as the API, the webhooks and the live stream show it."""
    rule = alert.rule
    return {
        "id": alert.pk,
        "rule_id": rule.pk,
        "rule_name": rule.name,
        "kind": rule.kind,
        "factory_id": alert.factory_id,
        "state": alert.state,
        "opened_at": time_format(alert.opened_at),
        "resolved_at": time_format(alert.resolved_at) if alert.resolved_at else None,
        "opened_value": None if alert.opened_value is None else str(alert.opened_value),
        "resolved_value": None if alert.resolved_value is None else str(alert.resolved_value),
        "window_minutes": rule.window_minutes,
        "threshold": None if rule.threshold is None else str(rule.threshold),
    }


def _delivery_add(alert: Alert, event: str, now: datetime) -> WebhookDelivery:
    document = alert_document(alert)
    delivery = WebhookDelivery.objects.create(
        alert=alert, event=event, body={"event": event, "alert": document}, next_attempt_at=now
    )
    webhook_delivery_enqueue(delivery)
    events_add_on_commit(
        STREAM, key=("alert", alert.pk, event), kind="alert", data={"event": event, **document}
    )
    return delivery


def webhook_deliveries_due(*, now: datetime) -> list[WebhookDelivery]:
    return list(
        WebhookDelivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
    )


def webhook_delivery_claim(*, delivery_id: int) -> WebhookDelivery | None:
    """The delivery, if it is pending and due and no other run holds it; its next attempt
    moves a lease ahead (twice the timeout and 5 s) so no other run takes it meanwhile. The
    lease it holds is `claimed_until`: the attempt is recorded only if it still holds it."""
    now = timezone.now()
    claimed_until = now + timedelta(seconds=2 * settings.WEBHOOK_TIMEOUT_SECONDS + 5)
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, state=DeliveryState.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=claimed_until)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("alert__rule").get(pk=delivery_id)
    delivery.claimed_until = claimed_until
    return delivery


def webhook_delivery_attempt_record(
    *, delivery: WebhookDelivery, status: int | None, error: str
) -> bool:
    """A 2xx answer delivers; anything else (another status, a timeout, a refused target)
    retries after WEBHOOK_RETRY_SECONDS doubled for each attempt made, until
    WEBHOOK_MAX_ATTEMPTS, then fails. Recorded only while the attempt's lease holds: an
    attempt that outlived it (another run has the delivery now) changes nothing."""
    now = timezone.now()
    attempts = delivery.attempts + 1
    changes = {
        "attempts": attempts,
        "last_status_code": status,
        "last_error": (error or f"answered {status}")[:2000],
    }
    if status is not None and 200 <= status < 300:
        changes |= {"state": DeliveryState.DELIVERED, "delivered_at": now, "last_error": ""}
    elif attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        changes["state"] = DeliveryState.FAILED
    else:
        backoff = settings.WEBHOOK_RETRY_SECONDS * 2 ** (attempts - 1)
        changes["next_attempt_at"] = now + timedelta(seconds=backoff)
    recorded = WebhookDelivery.objects.filter(
        pk=delivery.pk, state=DeliveryState.PENDING, next_attempt_at=delivery.claimed_until
    ).update(**changes)
    logger.info(
        "webhook delivery %s, attempt %s: %s%s",
        delivery.pk,
        attempts,
        status or error,
        "" if recorded else " (not recorded: the lease ran out)",
    )
    return bool(recorded)


def webhook_deliveries_retry(*, deliveries: QuerySet[WebhookDelivery]) -> int:
    """Failed deliveries start again from a first attempt (the admin's action)."""
    with transaction.atomic():
        failed = list(deliveries.select_for_update().filter(state=DeliveryState.FAILED))
        for delivery in failed:
            delivery.state, delivery.attempts = DeliveryState.PENDING, 0
            delivery.next_attempt_at = timezone.now()
            delivery.save(update_fields=["state", "attempts", "next_attempt_at"])
            webhook_delivery_enqueue(delivery)
    return len(failed)


def worker_beat_record(*, name: str, at: datetime) -> None:
    WorkerBeat.objects.update_or_create(name=name, defaults={"at": at})
