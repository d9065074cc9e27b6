"""The README's API examples run in order, as written, against `make run` with the original data
(tests/readme_examples.py reads and runs them)."""

import pytest

from tests.readme_examples import mismatches_running, readme_examples
from tests.servers import embedded_service

pytestmark = pytest.mark.system


@pytest.fixture
def make_run_server(tmp_path):
    """What `make run` serves: the embedded default with the original data, one process."""
    with embedded_service(tmp_path) as service:
        yield service.base, service.env


def test_the_readme_has_api_examples_with_documented_outputs():
    examples = readme_examples()

    assert len(examples) > 30
    assert sum(1 for example in examples if example.expected) > 15


def test_the_api_examples_of_the_readme_run_in_order_and_print_what_it_says(make_run_server):
    base, env = make_run_server

    mismatches = mismatches_running(base, env)

    assert not mismatches, "\n\n".join(mismatches)
