"""Alerts in the embedded default, as `make run` runs them (issue 15): runserver and
`manage.py worker` beside it on one SQLite file; a rule created through the API fires a
signed webhook within 5 s of the production write that breaks it."""

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime

import pytest
import requests

from alerts.tests.receiver import Receiver
from tests.readme_examples import ROOT
from tests.servers import free_port, wait_until

pytestmark = pytest.mark.system

API = "/sprocketFactory/v1"


@pytest.fixture
def embedded(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SECURE_SSL_REDIRECT"}
    }
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DEBUG": "true",
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
    }
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput", "-v0"], ["load_original_data", "-v0"]):
        subprocess.run([*manage, *command], cwd=ROOT, env=env, check=True)
    port = free_port()
    log = (tmp_path / "processes.log").open("ab")
    worker = subprocess.Popen(
        [*manage, "worker"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return urllib.request.urlopen(f"{base}/healthz", timeout=1).status == 200
        except OSError:
            return False

    try:
        wait_until(answers, timeout=30, what="runserver answered")
        token = subprocess.run(
            [*manage, "issue_token", "embedded-manager", "--group", "manager"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        yield base, token, worker
    finally:
        for process in (server, worker):
            process.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        worker.wait(timeout=60)


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
