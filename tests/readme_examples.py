"""The README's API examples: every ```sh block under "## The API", run top to bottom in one
shell, as a newcomer would paste it. A command followed by a `# → ...` comment must print that
(continued on `#   ` lines; `...` stands for anything; whitespace is ignored, so JSON may be
spaced for reading). tests/test_readme_examples.py runs them against `make run`;
tests/system/test_topology.py through the scaled-out topology.
"""

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

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


def mismatches_running(base: str, env: dict[str, str]) -> list[str]:
    """Runs every example against the service at `base`, in one shell with `env`; what each
    printed that differs from what the README says it prints."""
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
    return [
        f"{example.command}\n  expected: {expected}\n  printed:  {output.strip()[:600]}"
        for example, output in zip(examples, outputs, strict=True)
        for expected in example.expected
        if not matches(expected.replace(DOCUMENTED_BASE, base), output)
    ]
