"""The service's settings plus the plain-DRF reference views the benchmarks compare against."""

from sprocket_factory.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
