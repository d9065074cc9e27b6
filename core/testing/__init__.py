"""Test helpers every app's tests share; imported by tests only."""

import pytest

# Before `api` is imported, so its asserts report their values as a test module's do.
pytest.register_assert_rewrite("core.testing.api")
