"""What the worker is asked to do, queued in the current transaction (django-q2's ORM broker
writes the task as a row of our own database): it runs only if the transaction commits, and
is never lost after it does."""

from django.db import connection, transaction
from django_q.tasks import async_task

from alerts.models import AlertRule, WebhookDelivery


class _Queued:
    """The factories whose evaluation this transaction has queued: an on-commit callback, so
    a transaction or savepoint that rolls back drops it with the tasks it queued."""

    def __init__(self) -> None:
        self.factory_ids: set[int] = set()

    def __call__(self) -> None:
        """Nothing to do at commit: the queued tasks commit with the transaction."""


def alerts_evaluation_enqueue(*, factory_ids: list[int]) -> None:
    """Queue the evaluation of these factories' rules, once per factory and transaction, and
    only while some rule is active."""
    queued = next(
        (callback for _, callback, _ in connection.run_on_commit if isinstance(callback, _Queued)),
        None,
    )
    if queued is None:
        queued = _Queued()
        if connection.in_atomic_block:
            transaction.on_commit(queued)
    new = sorted(set(factory_ids) - queued.factory_ids)
    if not new or not AlertRule.objects.filter(is_active=True).exists():
        return
    queued.factory_ids.update(new)
    async_task("alerts.tasks.alerts_evaluate_task", new, task_name="alerts evaluate")


def webhook_delivery_enqueue(delivery: WebhookDelivery) -> None:
    """Queue a delivery's next attempt."""
    async_task("alerts.tasks.webhook_deliver", delivery.pk, task_name="webhook deliver")
