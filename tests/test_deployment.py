"""The deployment files run only commands that the test suite runs too."""

import os
import subprocess
import sys
from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
GUNICORN = "gunicorn -c sprocket_factory/gunicorn.conf.py"


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_starts_the_web_service_after_healthy_postgres_and_redis():
    services = compose()["services"]

    assert services["web"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert "healthcheck" in services["postgres"]
    assert "healthcheck" in services["redis"]
    assert "healthcheck" in services["web"]


def test_compose_keeps_postgresql_data_in_a_named_volume():
    document = compose()

    assert "pgdata:/var/lib/postgresql/data" in document["services"]["postgres"]["volumes"]
    assert "pgdata" in document["volumes"]


def test_compose_redis_keeps_nothing_on_disk():
    command = compose()["services"]["redis"]["command"]

    assert command == ["redis-server", "--save", "", "--appendonly", "no"]


def test_compose_web_migrates_loads_the_original_data_then_runs_gunicorn_with_its_config():
    command = compose()["services"]["web"]["command"]

    assert command.index("manage.py migrate --noinput") < command.index("load_original_data")
    assert command.index("load_original_data") < command.index(GUNICORN)


def test_compose_has_a_development_profile_that_mounts_the_code():
    web_dev = compose()["services"]["web-dev"]

    assert web_dev["profiles"] == ["dev"]
    assert ".:/app" in web_dev["volumes"]
    assert "runserver" in web_dev["command"]


def test_the_dockerfile_builds_in_two_stages_and_runs_gunicorn_with_its_config():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert dockerfile.count("\nFROM ") + dockerfile.startswith("FROM ") >= 2
    assert "COPY --from=build" in dockerfile
    assert "collectstatic --noinput" in dockerfile
    assert 'CMD ["gunicorn", "-c", "sprocket_factory/gunicorn.conf.py"]' in dockerfile


def test_collectstatic_in_production_mode_gathers_the_dashboard_and_api_docs(tmp_path):
    # What the Dockerfile runs: production mode, a throwaway secret, no database.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "REDIS_URL"))
    }
    env.update(DEBUG="false", SECRET_KEY="collectstatic-only", STATIC_ROOT=str(tmp_path))

    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )

    assert (tmp_path / "production" / "dashboard.js").exists()
    assert (tmp_path / "production" / "vendor" / "chart.umd.min.js").exists()
    assert (
        tmp_path / "drf_spectacular_sidecar" / "swagger-ui-dist" / "swagger-ui-bundle.js"
    ).exists()
