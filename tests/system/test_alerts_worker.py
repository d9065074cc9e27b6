"""Alerts end to end in the PostgreSQL + Redis deployment (issue 15): gunicorn behind nginx,
`manage.py worker` beside it, a webhook receiver on loopback. A rule created through the API
fires a signed webhook within 5 s of the production write that breaks it; a delivery answered
500 arrives again; a worker killed mid-delivery and started again delivers it; no_production
fires on the tick; the worker stops cleanly on SIGTERM and its health check says when it
runs."""

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
import requests

from alerts.tests.receiver import Receiver
from tests.servers import wait_until
from tests.system.conftest import ROOT, running_service

pytestmark = pytest.mark.system

API = "/sprocketFactory/v1"
SECRET = "receiver-secret"


class Worker:
    def __init__(self, env: dict[str, str], log_path) -> None:
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "worker"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def check(self) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", "worker", "--check"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )


@pytest.fixture
def deployment(private_postgres, private_redis, tmp_path):
    receiver = Receiver()
    receiver.start()
    extra = {
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "WEBHOOK_TIMEOUT_SECONDS": "2",
        "WEBHOOK_RETRY_SECONDS": "1",
    }
    with running_service(private_postgres, private_redis, **extra) as service:
        worker = Worker(service.env, tmp_path / "worker.log")
        worker.start()
        try:
            yield service, worker, receiver
        finally:
            if worker.process.poll() is None:
                worker.kill()
            receiver.stop()


def rule_create(service, token: str, url: str, **fields) -> dict:
    body = {
        "name": "Line under 95%",
        "kind": "attainment_below",
        "window_minutes": 5,
        "threshold": 0.95,
        "webhook_url": url,
        "secret": SECRET,
        **fields,
    }
    response = requests.post(
        service.url(f"{API}/alerts/rules"),
        json=body,
        headers={"Authorization": f"Token {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def record_post(service, token: str, factory_id: int, actual: int, goal: int = 100) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    response = requests.post(
        service.url(f"{API}/production/bulk?on_conflict=update"),
        json=[
            {
                "factory_id": factory_id,
                "time": now.isoformat(),
                "sprocket_production_actual": actual,
                "sprocket_production_goal": goal,
            }
        ],
        headers={"Authorization": f"Token {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text


def factory_create(service, token: str, name: str) -> int:
    response = requests.post(
        service.url(f"{API}/factories"),
        json={"name": name, "timezone": "UTC", "is_active": True},
        headers={"Authorization": f"Token {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def signed(call) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), call.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(call.headers.get("X-Signature-256", ""), expected)


def test_a_rule_fires_a_signed_webhook_within_5_s_and_a_500_is_delivered_again(deployment):
    service, worker, receiver = deployment
    token = service.token("manager")
    factory_id = factory_create(service, token, "Plant Alert")
    receiver.answers = [500]
    rule_create(service, token, receiver.url, factory_id=factory_id)
    time.sleep(2)  # the worker is up and polling

    written = time.monotonic()
    record_post(service, token, factory_id, actual=10)

    wait_until(lambda: len(receiver.received) >= 1, timeout=5, what="no webhook")
    first = receiver.received[0]
    assert first.at - written < 5
    assert signed(first)
    body = json.loads(first.body)
    assert body["event"] == "alert.opened"
    assert body["alert"]["factory_id"] == factory_id
    # Answered 500: the same delivery again, by the tick once its backoff has passed.
    wait_until(lambda: len(receiver.received) >= 2, timeout=150, what="no second delivery")
    again = receiver.received[1]
    assert again.headers["Idempotency-Key"] == first.headers["Idempotency-Key"]
    assert signed(again)
    assert worker.check().returncode == 0
    assert worker.stop() == 0  # SIGTERM: a clean stop


def test_a_worker_killed_mid_delivery_delivers_it_after_a_restart(deployment):
    service, worker, receiver = deployment
    token = service.token("manager")
    receiver.delay = 1.5  # the worker is killed while the receiver holds the request
    factory_id = factory_create(service, token, "Plant Killed")
    rule_create(service, token, receiver.url, factory_id=factory_id)
    time.sleep(2)
    record_post(service, token, factory_id, actual=10)
    wait_until(lambda: len(receiver.received) >= 1, timeout=5, what="no webhook")

    worker.kill()
    receiver.delay = 0
    worker.start()

    wait_until(lambda: len(receiver.received) >= 2, timeout=150, what="not delivered again")
    keys = {call.headers["Idempotency-Key"] for call in receiver.received}
    assert len(keys) == 1


def test_no_production_fires_on_the_tick(deployment):
    service, worker, receiver = deployment
    token = service.token("manager")
    factory_id = factory_create(service, token, "Plant Silent")
    rule_create(
        service,
        token,
        receiver.url,
        factory_id=factory_id,
        kind="no_production",
        threshold=None,
        window_minutes=1,
    )

    wait_until(lambda: len(receiver.received) >= 1, timeout=150, what="no_production silent")
    body = json.loads(receiver.received[0].body)
    assert (body["event"], body["alert"]["kind"]) == ("alert.opened", "no_production")
    assert worker.check().returncode == 0
