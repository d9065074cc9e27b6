"""The deployment files run only commands that the test suite runs too."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from tests.system.conftest import NGINX, NGINX_TEMPLATE, nginx_config, service_env

ROOT = Path(settings.BASE_DIR)
GUNICORN = "gunicorn -c sprocket_factory/gunicorn.conf.py"


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_starts_the_web_service_after_a_healthy_pooler_and_redis_and_setup():
    services = compose()["services"]

    assert services["web"]["depends_on"] == {
        "pgbouncer": {"condition": "service_healthy"},
        # Reads fall back to the primary until the replica answers: it need not be ready.
        "postgres-replica": {"condition": "service_started"},
        "redis": {"condition": "service_healthy"},
        "setup": {"condition": "service_completed_successfully"},
    }
    assert services["pgbouncer"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("postgres", "postgres-replica", "pgbouncer", "redis", "web"):
        assert "healthcheck" in services[name], name


def test_compose_keeps_postgresql_data_in_a_named_volume():
    document = compose()

    assert "pgdata:/var/lib/postgresql/data" in document["services"]["postgres"]["volumes"]
    assert "pgdata" in document["volumes"]


def test_compose_redis_keeps_nothing_on_disk():
    command = compose()["services"]["redis"]["command"]

    assert command == ["redis-server", "--save", "", "--appendonly", "no"]


def test_compose_setup_migrates_and_loads_the_original_data_once_then_web_runs_gunicorn():
    services = compose()["services"]
    setup = services["setup"]["command"]

    assert setup.index("manage.py migrate --noinput") < setup.index("load_original_data")
    assert services["setup"]["restart"] == "no"
    assert " ".join(services["web"]["command"]) == GUNICORN


def test_compose_web_can_be_scaled_to_many_nodes():
    """`docker compose up --scale web=N`: no fixed name or host port, nothing run once."""
    web = compose()["services"]["web"]

    assert "container_name" not in web
    assert "ports" not in web
    assert "migrate" not in " ".join(web["command"])
    assert all(volume.endswith(":ro") for volume in web["volumes"])


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


# --- nginx in front (deploy/nginx.conf.template) ---------------------------------------------


def test_compose_publishes_nginx_only():
    started_by_up = {
        name: service
        for name, service in compose()["services"].items()
        if "profiles" not in service
    }

    assert [name for name, service in started_by_up.items() if "ports" in service] == ["nginx"]
    assert started_by_up["nginx"]["ports"] == ["8000:80"]
    assert started_by_up["web"]["expose"] == ["8000"]


def test_compose_nginx_renders_the_template_the_system_tests_render():
    nginx = compose()["services"]["nginx"]
    mount = f"./{NGINX_TEMPLATE.relative_to(ROOT)}:/etc/nginx/templates/default.conf.template:ro"
    variables = set(re.findall(r"\$\{(\w+)\}", NGINX_TEMPLATE.read_text()))

    assert nginx["image"].startswith("nginx:")
    assert mount in nginx["volumes"]
    assert NGINX_TEMPLATE.is_file()
    # The image substitutes only these, leaving nginx's own $variables alone.
    assert nginx["environment"]["NGINX_ENVSUBST_FILTER"] == "^SPROCKET_"
    assert variables == {name for name in nginx["environment"] if name.startswith("SPROCKET_")}
    rendered = nginx_config(
        **{
            name.removeprefix("SPROCKET_").lower(): value
            for name, value in nginx["environment"].items()
            if name.startswith("SPROCKET_")
        }
    )
    assert "server web:8000;" in rendered
    assert "server events:8001;" in rendered


def test_compose_nginx_starts_once_web_is_healthy_and_passes_to_it():
    services = compose()["services"]

    assert services["nginx"]["depends_on"] == {
        "web": {"condition": "service_healthy"},
        "events": {"condition": "service_healthy"},
    }
    assert services["nginx"]["environment"]["SPROCKET_UPSTREAM"] == "web:8000"
    assert services["nginx"]["environment"]["SPROCKET_EVENTS_UPSTREAM"] == "events:8001"
    assert services["nginx"]["restart"] == "unless-stopped"


def test_compose_web_trusts_one_proxy_as_the_system_tests_do(tmp_path):
    web = compose()["services"]["web"]["environment"]
    web_dev = compose()["services"]["web-dev"]["environment"]
    tested = service_env("postgres://", "redis://", tmp_path)

    for name in ("NUM_PROXIES", "TRUST_X_FORWARDED_PROTO"):
        assert web[name] == tested[name]
        assert name not in web_dev  # runserver is reached directly


def test_compose_nginx_serves_the_static_files_web_collects():
    services = compose()["services"]
    static_root = services["web"]["environment"]["STATIC_ROOT"]

    assert services["nginx"]["environment"]["SPROCKET_STATIC_ROOT"] == static_root
    assert services["setup"]["environment"]["STATIC_ROOT"] == static_root
    assert f"static:{static_root}" in services["setup"]["volumes"]
    assert f"static:{static_root}:ro" in services["nginx"]["volumes"]
    assert "static" in compose()["volumes"]
    assert "collectstatic --noinput" in services["setup"]["command"]


def test_compose_postgres_is_healthy_only_when_it_answers_over_tcp():
    # While a fresh volume is initialised, PostgreSQL listens on its Unix socket only.
    test = compose()["services"]["postgres"]["healthcheck"]["test"]

    assert "pg_isready -h 127.0.0.1" in " ".join(test)


def test_compose_web_restarts_and_has_time_to_migrate_before_it_counts_as_unhealthy():
    web = compose()["services"]["web"]

    assert web["restart"] == "unless-stopped"
    assert "start_period" in web["healthcheck"]


def test_the_dockerfile_collects_static_files_where_compose_serves_them():
    dockerfile = (ROOT / "Dockerfile").read_text()
    static_root = compose()["services"]["web"]["environment"]["STATIC_ROOT"]

    assert f"STATIC_ROOT={static_root}" in dockerfile
    # Owned by the user the service runs as, so the volume made from it can be refreshed.
    assert f"install -d -o app -g app {static_root}" in dockerfile
    assert dockerfile.index("USER app") < dockerfile.index("collectstatic --noinput")


def test_the_docker_build_context_leaves_out_test_and_tool_output():
    ignored = (ROOT / ".dockerignore").read_text().split()

    for path in (
        ".hypothesis/",
        ".coverage",
        ".pytest_cache",
        ".ruff_cache",
        "htmlcov",
        "node_modules",
        "test-artifacts",
    ):
        assert path in ignored


def test_compose_serves_plain_http_whatever_a_dot_env_file_copied_from_the_example_says():
    raw = (ROOT / "docker-compose.yml").read_text()
    web = compose()["services"]["web"]["environment"]

    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        assert web[name] == "false"
        assert f"${{{name}" not in raw
    assert web["SECURE_HSTS_SECONDS"] == "0"
    assert ".env" not in web["SECRET_KEY"]


def test_compose_runs_the_events_server_with_its_config_after_web_has_migrated():
    events = compose()["services"]["events"]

    assert events["command"] == ["gunicorn", "-c", "sprocket_factory/gunicorn_events.conf.py"]
    assert events["depends_on"]["web"] == {"condition": "service_healthy"}
    assert events["depends_on"]["redis"] == {"condition": "service_healthy"}
    port = events["environment"]["EVENTS_BIND"].rsplit(":", 1)[1]
    assert events["expose"] == [port]
    assert f"127.0.0.1:{port}/healthz" in " ".join(events["healthcheck"]["test"])
    assert "ports" not in events
    assert events["environment"]["NUM_PROXIES"] == "1"


def test_the_events_config_serves_the_asgi_application_with_an_installed_worker():
    import importlib
    import runpy

    config = runpy.run_path(str(ROOT / "sprocket_factory" / "gunicorn_events.conf.py"))
    module_name, _, class_name = config["worker_class"].rpartition(".")

    assert config["wsgi_app"] == "sprocket_factory.asgi:application"
    assert getattr(importlib.import_module(module_name), class_name)
    assert importlib.import_module("sprocket_factory.asgi").application


def test_compose_nginx_runs_a_main_config_with_room_for_the_event_streams(tmp_path):
    nginx = compose()["services"]["nginx"]
    main = ROOT / "deploy" / "nginx.main.conf"
    text = main.read_text()
    worker_connections = int(re.search(r"worker_connections (\d+);", text).group(1))

    assert "./deploy/nginx.main.conf:/etc/nginx/nginx.conf:ro" in nginx["volumes"]
    assert "include /etc/nginx/conf.d/*.conf;" in text
    # Each stream holds two connections; the system tests' nginx allows 4,096.
    assert worker_connections >= 4096


@pytest.mark.skipif(not Path(NGINX).exists(), reason="needs nginx (apt-get install nginx)")
def test_the_compose_main_config_and_the_template_pass_nginx_t(tmp_path):
    site = tmp_path / "site.conf"
    site.write_text(
        nginx_config(
            listen="127.0.0.1:8080",
            upstream="127.0.0.1:8000",
            events_upstream="127.0.0.1:8001",
            static_root=str(tmp_path),
        )
    )
    # The image's paths and user, made this machine's.
    main = (ROOT / "deploy" / "nginx.main.conf").read_text()
    main = main.replace("user nginx;", "").replace("/etc/nginx/conf.d/*.conf", str(site))
    main = main.replace("/var/log/nginx", str(tmp_path)).replace(
        "/run/nginx.pid", str(tmp_path / "pid")
    )
    (tmp_path / "nginx.conf").write_text(main)

    checked = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )

    assert checked.returncode == 0, checked.stderr


def _database_host(url: str) -> str:
    return re.match(r"postgres://[^@]+@([^:/]+):(\d+)/", url).group(1)


def test_compose_web_goes_through_the_pooler_and_setup_straight_to_the_primary():
    services = compose()["services"]
    web, setup = services["web"]["environment"], services["setup"]["environment"]

    assert _database_host(web["DATABASE_URL"]) == "pgbouncer"
    assert web["DATABASE_TRANSACTION_POOLER"] == "true"
    assert _database_host(web["DATABASE_REPLICA_URLS"]) == "postgres-replica"
    assert services["events"]["environment"]["DATABASE_URL"] == web["DATABASE_URL"]
    # migrate sets the role's statement timeout, so it runs with the pooler setting on.
    assert _database_host(setup["DATABASE_URL"]) == "postgres"
    assert setup["DATABASE_TRANSACTION_POOLER"] == "true"
    assert "pgbouncer" not in services["setup"]["depends_on"]
    assert services["web-dev"]["environment"]["DATABASE_REPLICA_URLS"] == ""


def _script_variables(script: Path) -> set[str]:
    """Variables a deploy script reads without a default of its own."""
    text = script.read_text()
    used = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)\b(?!:-)", text))
    return used - set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):-", text))


# What the postgres image sets itself for its entrypoint and init scripts.
POSTGRES_IMAGE_ENV = {"PGDATA", "POSTGRES_USER", "POSTGRES_DB"}


@pytest.mark.parametrize(
    ("service", "script", "mounted_at"),
    [
        ("postgres", "postgres/primary-init.sh", "/docker-entrypoint-initdb.d/10-replication.sh"),
        (
            "postgres-replica",
            "postgres/replica-entrypoint.sh",
            "/usr/local/bin/replica-entrypoint.sh",
        ),
    ],
)
def test_compose_mounts_the_tested_postgres_scripts_with_what_they_read(
    service, script, mounted_at
):
    definition = compose()["services"][service]
    path = ROOT / "deploy" / script

    assert f"./deploy/{script}:{mounted_at}:ro" in definition["volumes"]
    # The image runs an executable init script, but sources one that is not (with set -u).
    assert os.access(path, os.X_OK)
    missing = _script_variables(path) - POSTGRES_IMAGE_ENV - set(definition["environment"])
    assert missing == set()


def test_compose_replica_runs_its_entrypoint_as_postgres_on_its_own_volume():
    replica = compose()["services"]["postgres-replica"]

    assert replica["user"] == "postgres"
    assert replica["entrypoint"] == ["sh", "/usr/local/bin/replica-entrypoint.sh"]
    assert replica["command"] == ["postgres"]
    assert "pgdata-replica:/var/lib/postgresql/data" in replica["volumes"]
    assert replica["environment"]["PRIMARY_HOST"] == "postgres"
    assert (
        replica["environment"]["REPLICATION_PASSWORD"]
        == compose()["services"]["postgres"]["environment"]["REPLICATION_PASSWORD"]
    )


def test_compose_pgbouncer_is_built_from_the_tested_entrypoint_with_what_it_reads():
    pgbouncer = compose()["services"]["pgbouncer"]
    dockerfile = (ROOT / "deploy" / "pgbouncer" / "Dockerfile").read_text()
    script = ROOT / "deploy" / "pgbouncer" / "entrypoint.sh"

    assert pgbouncer["build"] == "./deploy/pgbouncer"
    assert "COPY entrypoint.sh /usr/local/bin/pgbouncer-entrypoint" in dockerfile
    assert 'ENTRYPOINT ["sh", "/usr/local/bin/pgbouncer-entrypoint"]' in dockerfile
    assert "USER postgres" in dockerfile  # PgBouncer refuses to run as root
    assert re.search(r"pgbouncer=\d", dockerfile), "the package version is pinned"
    assert _script_variables(script) - set(pgbouncer["environment"]) == set()
    assert (
        pgbouncer["environment"]["POSTGRES_PASSWORD"]
        == (compose()["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"])
    )


def test_compose_runs_the_worker_on_the_primary_with_a_health_check_and_a_graceful_stop():
    worker = compose()["services"]["worker"]

    assert worker["command"] == ["python", "manage.py", "worker"]
    assert "@postgres:5432/" in worker["environment"]["DATABASE_URL"]  # not through PgBouncer
    assert worker["environment"]["DATABASE_REPLICA_URLS"] == ""
    assert worker["depends_on"]["setup"] == {"condition": "service_completed_successfully"}
    assert worker["healthcheck"]["test"] == ["CMD", "python", "manage.py", "worker", "--check"]
    assert worker["stop_signal"] == "SIGTERM"


def test_make_run_starts_the_worker_beside_the_development_server():
    recipe = (ROOT / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]

    assert "manage.py worker &" in recipe
    assert recipe.index("manage.py worker") < recipe.index("manage.py runserver")


def test_every_app_of_the_project_is_tested_covered_and_layered():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    apps = sorted(path.parent.name for path in ROOT.glob("*/apps.py"))

    assert set(apps) <= set(config["tool"]["pytest"]["ini_options"]["testpaths"])
    assert set(apps) <= set(config["tool"]["coverage"]["run"]["source"])
    assert set(apps) <= set(config["tool"]["importlinter"]["root_packages"])
