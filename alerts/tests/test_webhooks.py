"""Webhook deliveries (issue 15): signed with the rule's secret (GitHub's X-Signature-256
scheme), an Idempotency-Key per delivery, retried with exponential backoff on errors and
timeouts up to WEBHOOK_MAX_ATTEMPTS then failed, retryable from the admin; targets that
resolve to internal addresses refused unless WEBHOOK_ALLOWED_HOSTS lists them; deliveries
and evaluations queued in the transaction of the write that causes them."""

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_q.models import OrmQ

from alerts.models import Alert, DeliveryState, WebhookDelivery
from alerts.services import webhook_delivery_claim
from alerts.tasks import alerts_tick, webhook_deliver
from alerts.tests.factories import AlertRuleFactory, no_production_rule
from alerts.tests.receiver import Receiver
from alerts.webhooks import webhook_target
from core.errors import InvalidInput
from inventory.tests.factories import FactoryFactory
from production.services import production_record_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_TIMEOUT_SECONDS = 1.0
    settings.WEBHOOK_RETRY_SECONDS = 30.0
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    running = Receiver()
    running.start()
    yield running
    running.stop()


@pytest.fixture
def delivery(receiver) -> WebhookDelivery:
    rule = AlertRuleFactory(webhook_url=receiver.url, secret="t0ps3cret")
    alert = Alert.objects.create(rule=rule, factory=FactoryFactory(), opened_at=timezone.now())
    return WebhookDelivery.objects.create(
        alert=alert,
        event="alert.opened",
        body={"event": "alert.opened", "alert": {"id": alert.pk}},
        next_attempt_at=timezone.now(),
    )


def test_a_delivery_is_signed_with_the_rules_secret_and_carries_its_key(receiver, delivery):
    webhook_deliver(delivery.pk)

    (call,) = receiver.received
    expected = "sha256=" + hmac.new(b"t0ps3cret", call.body, hashlib.sha256).hexdigest()
    assert call.headers["X-Signature-256"] == expected
    assert call.headers["Idempotency-Key"] == str(delivery.idempotency_key)
    assert call.headers["Content-Type"] == "application/json"
    assert json.loads(call.body) == delivery.body
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)


def test_an_error_answer_is_retried_with_exponential_backoff_then_failed(receiver, delivery):
    receiver.answers = [500, 503, 502]
    waits = []
    for _ in range(3):
        before = timezone.now()
        webhook_deliver(delivery.pk)
        delivery.refresh_from_db()
        waits.append(round((delivery.next_attempt_at - before).total_seconds()))
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())

    delivery.refresh_from_db()
    assert waits[:2] == [30, 60]
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("failed", 3, 502)
    keys = {call.headers["Idempotency-Key"] for call in receiver.received}
    assert keys == {str(delivery.idempotency_key)}  # the same delivery each time


def test_a_timeout_is_an_attempt_that_fails_and_is_retried(receiver, delivery):
    receiver.delay = 2.0  # longer than WEBHOOK_TIMEOUT_SECONDS

    webhook_deliver(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING
    assert delivery.attempts == 1
    assert "timed out" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now()


def test_a_delivery_not_due_or_held_by_another_run_is_not_posted(receiver, delivery):
    assert webhook_delivery_claim(delivery_id=delivery.pk) is not None  # another run holds it

    webhook_deliver(delivery.pk)

    assert receiver.received == []


def test_the_tick_queues_the_deliveries_due_again(receiver, delivery):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    queued = OrmQ.objects.count()
    alerts_tick()
    assert OrmQ.objects.count() == queued  # not due

    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    alerts_tick()
    assert OrmQ.objects.count() == queued + 1


def test_failed_deliveries_are_queued_again_from_the_admin(receiver, delivery, staff_client):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED, attempts=3)

    response = staff_client.post(
        "/admin/alerts/webhookdelivery/",
        {"action": "retry", "_selected_action": [delivery.pk]},
        follow=True,
    )

    assert response.status_code == 200
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("pending", 0)
    webhook_deliver(delivery.pk)
    assert len(receiver.received) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://0.0.0.0/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[64:ff9b::7f00:1]/hook",
        "http://[2002:a00:1::1]/hook",
        "http://100.64.0.1/hook",
        "ftp://hooks.example.com/hook",
        "file:///etc/passwd",
    ],
)
def test_internal_and_non_http_targets_are_refused(settings, url):
    settings.WEBHOOK_ALLOWED_HOSTS = []

    with pytest.raises(InvalidInput):
        webhook_target(url)


def test_a_listed_host_is_allowed_and_the_call_goes_to_the_address_checked(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["localhost"]

    target = webhook_target("http://localhost:8123/a?b=c")

    assert set(target.addresses) <= {"127.0.0.1", "::1"}
    assert (target.host, target.port, target.path) == ("localhost", 8123, "/a?b=c")


def test_a_refused_target_is_a_failed_attempt_and_nothing_is_posted(receiver, delivery, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []

    webhook_deliver(delivery.pk)

    delivery.refresh_from_db()
    assert receiver.received == []
    assert "internal address" in delivery.last_error


def test_a_rule_refuses_an_internal_webhook_url_with_a_400(api_client_as, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    body = no_production_rule(webhook_url="http://127.0.0.1:8000/admin")

    response = api_client_as("manager").post(
        "/sprocketFactory/v1/alerts/rules", body, format="json"
    )

    assert response.status_code == 400
    assert "internal address" in str(response.json()["webhook_url"])


T0 = datetime(2024, 3, 1, 8, tzinfo=UTC)


def test_a_production_write_queues_its_evaluation_in_its_own_transaction():
    factory = FactoryFactory()
    AlertRuleFactory()
    queued = OrmQ.objects.count()

    inside = []

    def write_then_fail() -> None:
        with transaction.atomic():
            production_record_create(
                factory_id=factory.pk,
                time=T0,
                sprocket_production_actual=1,
                sprocket_production_goal=2,
            )
            inside.append(OrmQ.objects.count())
            raise RuntimeError("the write rolls back")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert inside == [queued + 1]  # queued with the write
    assert OrmQ.objects.count() == queued  # and gone with it

    with transaction.atomic():
        for minute in range(5):  # one evaluation per factory and transaction
            production_record_create(
                factory_id=factory.pk,
                time=T0 + timedelta(minutes=minute),
                sprocket_production_actual=1,
                sprocket_production_goal=2,
            )
    assert OrmQ.objects.count() == queued + 1


def test_without_an_active_rule_a_write_queues_nothing():
    AlertRuleFactory(is_active=False)
    queued = OrmQ.objects.count()

    production_record_create(
        factory_id=FactoryFactory().pk,
        time=T0,
        sprocket_production_actual=1,
        sprocket_production_goal=2,
    )

    assert OrmQ.objects.count() == queued


def test_an_answer_that_is_not_http_is_a_failed_attempt(receiver, delivery):
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def garbage() -> None:
        connection, _ = server.accept()
        connection.recv(65536)
        connection.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
        connection.close()

    threading.Thread(target=garbage, daemon=True).start()
    rule = delivery.alert.rule
    rule.webhook_url = f"http://127.0.0.1:{server.getsockname()[1]}/"
    rule.save()

    webhook_deliver(delivery.pk)

    delivery.refresh_from_db()
    server.close()
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert "BadStatusLine" in delivery.last_error


def test_an_attempt_that_outlived_its_lease_is_not_recorded(receiver, delivery):
    from alerts.services import webhook_delivery_attempt_record

    first = webhook_delivery_claim(delivery_id=delivery.pk)
    # The lease ran out; another run claims the delivery and delivers it.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    second = webhook_delivery_claim(delivery_id=delivery.pk)
    assert webhook_delivery_attempt_record(delivery=second, status=200, error="")

    assert not webhook_delivery_attempt_record(delivery=first, status=None, error="timed out")
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("delivered", 1)


def test_a_rule_with_an_impossible_port_is_a_400(api_client_as):
    body = no_production_rule(webhook_url="http://hooks.example.com:99999/x")

    response = api_client_as("manager").post(
        "/sprocketFactory/v1/alerts/rules", body, format="json"
    )

    assert response.status_code == 400
    assert "webhook_url" in response.json()
