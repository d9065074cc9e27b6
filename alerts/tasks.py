"""The background work, run by `manage.py worker` (django-q2; alerts/queue.py queues it).

- After every production write, `alerts_evaluate_task` for the factories it changed.
- Every ALERT_TICK_MINUTES, `alerts_tick`: every rule at every factory (windows slide with
  the clock; `no_production` fires on a silence no write announces), the deliveries due
  again, and the worker's heartbeat.
- `webhook_deliver`: one attempt at one delivery. It first claims the delivery (its next
  attempt moves a lease ahead), so two runs never post it at once; a worker killed
  mid-delivery leaves the claim to run out, and the tick queues the delivery again: at least
  once, never lost.
"""

import json
from http.client import HTTPException

from django.utils import timezone

from alerts.queue import webhook_delivery_enqueue
from alerts.services import (
    alerts_evaluate,
    webhook_deliveries_due,
    webhook_delivery_attempt_record,
    webhook_delivery_claim,
    worker_beat_record,
)
from alerts.webhooks import SIGNATURE_HEADER, webhook_post, webhook_signature
from core.errors import InvalidInput

TICK = "alerts tick"


def alerts_evaluate_task(factory_ids: list[int]) -> None:
    alerts_evaluate(factory_ids=factory_ids)


def alerts_tick() -> None:
    """Deliveries due first, so that retries go on whatever the evaluation meets; the
    heartbeat last, so that a tick that fails shows in the health check."""
    now = timezone.now()
    for delivery in webhook_deliveries_due(now=now):
        webhook_delivery_enqueue(delivery)
    alerts_evaluate(now=now)
    worker_beat_record(name=TICK, at=now)


def webhook_deliver(delivery_id: int) -> None:
    """One attempt: POST the body signed with the rule's secret (GitHub's scheme), with the
    delivery's Idempotency-Key."""
    delivery = webhook_delivery_claim(delivery_id=delivery_id)
    if delivery is None:
        return
    rule = delivery.alert.rule
    body = json.dumps(delivery.body, separators=(",", ":")).encode()
    headers = {
        SIGNATURE_HEADER: webhook_signature(body, rule.secret),
        "Idempotency-Key": str(delivery.idempotency_key),
        "X-Sprocket-Event": delivery.event,
    }
    status, error = None, ""
    try:
        status = webhook_post(rule.webhook_url, body, headers)
    except InvalidInput as refused:
        error = json.dumps(refused.detail)
    except (OSError, HTTPException) as failed:  # timeouts, refusals, TLS, not HTTP
        error = f"{type(failed).__name__}: {failed}"
    webhook_delivery_attempt_record(delivery=delivery, status=status, error=error)
