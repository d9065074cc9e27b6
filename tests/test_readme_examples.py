"""The README's API examples run in order, as written, against `make run` with the original data
(tests/readme_examples.py reads and runs them)."""

import os
import subprocess
import sys
import urllib.request

import pytest

from tests.readme_examples import ROOT, mismatches_running, readme_examples
from tests.servers import free_port, wait_until

pytestmark = pytest.mark.system


@pytest.fixture
def make_run_server(tmp_path):
    """What `make run` serves: the embedded default with the original data, one process."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SECURE_SSL_REDIRECT"}
    }
    # A database file of the test's own; DEBUG as the embedded default has it.
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "DEBUG": "true"}
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput", "-v0"], ["load_original_data", "-v0"]):
        subprocess.run([*manage, *command], cwd=ROOT, env=env, check=True)
    port = free_port()
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return urllib.request.urlopen(f"{base}/healthz", timeout=1).status == 200
        except OSError:
            return False

    try:
        wait_until(answers, timeout=30, what="runserver answered")
        yield base, env
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_readme_has_api_examples_with_documented_outputs():
    examples = readme_examples()

    assert len(examples) > 30
    assert sum(1 for example in examples if example.expected) > 15


def test_the_api_examples_of_the_readme_run_in_order_and_print_what_it_says(make_run_server):
    base, env = make_run_server

    mismatches = mismatches_running(base, env)

    assert not mismatches, "\n\n".join(mismatches)
