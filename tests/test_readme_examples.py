"""The README's API examples run in order, as written, against `make run` with the original data.

Every ```sh block under "## The API" is run top to bottom in one shell, as a newcomer would
paste it. A command followed by a `# → ...` comment must print that (continued on `#   `
lines; `...` stands for anything; whitespace is ignored, so JSON may be spaced for reading).
"""

import os
import re
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.servers import free_port, wait_until

pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCUMENTED_BASE = "http://127.0.0.1:8000"
SEPARATOR = "@@@ readme example"


@dataclass
class Example:
    command: str
    expected: list[str] = field(default_factory=list)


def api_section(text: str) -> str:
    start = text.index("\n## The API\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def shell_blocks(section: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)


def _expectation(text: str) -> str:
    """What a `# →` line expects: its text up to a `(...)` remark for the reader, if any."""
    return re.sub(r"\s{2,}\(.*\)$", "", text)


def examples_of(block: str) -> list[Example]:
    examples: list[Example] = []
    pending = ""
    for line in block.splitlines():
        if line.startswith("# → "):
            examples[-1].expected.append(_expectation(line.removeprefix("# → ")))
        elif line.startswith("#   ") and examples and examples[-1].expected:
            examples[-1].expected[-1] += _expectation(line.removeprefix("#   "))
        elif line.startswith("#") or not line.strip():
            continue
        elif line.endswith("\\"):
            pending += line[:-1] + " "
        else:
            examples.append(Example(command=pending + line))
            pending = ""
    return examples


def readme_examples() -> list[Example]:
    section = api_section(README.read_text())
    return [example for block in shell_blocks(section) for example in examples_of(block)]


def without_whitespace(text: str) -> str:
    return re.sub(r"\s+", "", text)


def matches(expected: str, output: str) -> bool:
    parts = [re.escape(part) for part in without_whitespace(expected).split("...")]
    return re.search(".*?".join(parts), without_whitespace(output), flags=re.DOTALL) is not None


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
    examples = readme_examples()
    script = "\n".join(
        f"echo '{SEPARATOR} {index}'\n"
        + example.command.replace(DOCUMENTED_BASE, base).replace(".venv/bin/python", sys.executable)
        + "\necho"
        for index, example in enumerate(examples)
    )

    run = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )

    outputs = re.split(rf"^{SEPARATOR} \d+\n", run.stdout, flags=re.MULTILINE)[1:]
    assert len(outputs) == len(examples), run.stderr
    mismatches = [
        f"{example.command}\n  expected: {expected}\n  printed:  {output.strip()[:600]}"
        for example, output in zip(examples, outputs, strict=True)
        for expected in example.expected
        if not matches(expected.replace(DOCUMENTED_BASE, base), output)
    ]
    assert not mismatches, "\n\n".join(mismatches)
