"""Alerts in the embedded default, as `make run` runs them (issue 15): runserver and
`manage.py worker` beside it on one SQLite file; a rule created through the API fires a
signed webhook within 5 s of the production write that breaks it."""

import hashlib
import hmac
import json
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
import requests

from alerts.tests.receiver import Receiver
from tests.readme_examples import ROOT
from tests.servers import embedded_service, wait_until

pytestmark = pytest.mark.system

API = "/sprocketFactory/v1"


@pytest.fixture
def embedded(tmp_path):
    with embedded_service(tmp_path, worker=True, WEBHOOK_ALLOWED_HOSTS="127.0.0.1") as service:
        token = subprocess.run(
            [sys.executable, "manage.py", "issue_token", "embedded-manager", "--group", "manager"],
            cwd=ROOT,
            env=service.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        yield service.base, token, service.worker


def test_a_rule_fires_a_signed_webhook_within_5_s_in_the_embedded_default(embedded):
    base, token, worker = embedded
    receiver = Receiver()
    receiver.start()
    headers = {"Authorization": f"Token {token}"}
    try:
        rule = {
            "name": "Factory 1 under 95%",
            "kind": "attainment_below",
            "factory_id": 1,
            "window_minutes": 5,
            "threshold": 0.95,
            "webhook_url": receiver.url,
            "secret": "embedded-secret",
        }
        assert requests.post(f"{base}{API}/alerts/rules", json=rule, headers=headers, timeout=10).ok
        time.sleep(2)  # the worker is up and polling
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        record = {
            "factory_id": 1,
            "time": now.isoformat(),
            "sprocket_production_actual": 10,
            "sprocket_production_goal": 100,
        }

        written = time.monotonic()
        response = requests.post(
            f"{base}{API}/production", json=record, headers=headers, timeout=10
        )
        assert response.status_code == 201, response.text

        wait_until(lambda: receiver.received, timeout=5, what="no webhook")
        call = receiver.received[0]
        assert call.at - written < 5
        digest = hmac.new(b"embedded-secret", call.body, hashlib.sha256).hexdigest()
        assert call.headers["X-Signature-256"] == f"sha256={digest}"
        assert json.loads(call.body)["alert"]["factory_id"] == 1
        assert worker.poll() is None
    finally:
        receiver.stop()
