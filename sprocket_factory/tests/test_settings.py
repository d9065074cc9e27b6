"""The settings module, imported in a fresh interpreter with a chosen environment."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

# Variables that decide the mode; each test starts without them and sets only its own.
MODE_VARIABLES = ("DATABASE_URL", "DEBUG", "SECRET_KEY", "REDIS_URL")

PRINT_SETTINGS = """
import json
import django
django.setup()
from django.conf import settings
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ENGINE": settings.DATABASES["default"]["ENGINE"],
    "CONN_HEALTH_CHECKS": settings.DATABASES["default"]["CONN_HEALTH_CHECKS"],
    "CACHE_BACKEND": settings.CACHES["default"]["BACKEND"],
    "CACHE_LOCATION": settings.CACHES["default"].get("LOCATION"),
}))
"""


def environment(**variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in MODE_VARIABLES}
    env["DJANGO_SETTINGS_MODULE"] = "sprocket_factory.settings"
    return {**env, **variables}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def settings_seen_with(env: dict[str, str]) -> dict:
    result = run(["-c", PRINT_SETTINGS], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def embedded_settings() -> dict:
    """The settings with no DATABASE_URL, DEBUG, SECRET_KEY or REDIS_URL at all."""
    return settings_seen_with(environment())


@pytest.fixture(scope="module")
def redis_settings() -> dict:
    return settings_seen_with(environment(REDIS_URL="redis://127.0.0.1:6379/0"))


def test_check_fails_in_production_mode_without_a_secret_key(tmp_path):
    env = environment(DEBUG="false", DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}")

    result = run(["manage.py", "check"], env)

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_check_passes_in_production_mode_with_a_secret_key(tmp_path):
    env = environment(
        DEBUG="false",
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
        SECRET_KEY="a-test-secret-key-that-is-long-enough-0123456789abcdefghijklmnop",
    )

    result = run(["manage.py", "check"], env)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_embedded_default_has_debug_on(embedded_settings):
    assert embedded_settings["DEBUG"] is True


def test_the_embedded_default_uses_sqlite(embedded_settings):
    assert embedded_settings["ENGINE"] == "django.db.backends.sqlite3"


def test_the_embedded_default_uses_the_local_memory_cache(embedded_settings):
    assert embedded_settings["CACHE_BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_database_connections_are_health_checked(embedded_settings):
    assert embedded_settings["CONN_HEALTH_CHECKS"] is True


def test_a_redis_url_selects_the_redis_cache(redis_settings):
    assert redis_settings["CACHE_BACKEND"] == "django_redis.cache.RedisCache"
    assert redis_settings["CACHE_LOCATION"] == "redis://127.0.0.1:6379/0"


def test_a_database_url_without_debug_means_production_mode(tmp_path):
    seen = settings_seen_with(
        environment(
            DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
            SECRET_KEY="a-test-secret-key-that-is-long-enough-0123456789abcdefghijklmnop",
        )
    )

    assert seen["DEBUG"] is False


def test_manage_py_commands_run_without_the_request_statement_timeout():
    env = {**os.environ, "DATABASE_STATEMENT_TIMEOUT": "30000"}
    env.pop("DATABASE_URL", None)
    env.update(DATABASE_URL="postgres://postgres@127.0.0.1:5432/unused", SECRET_KEY="x" * 50)

    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.conf import settings; print(settings.DATABASE_STATEMENT_TIMEOUT)",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.stdout.strip().splitlines()[-1] == "0", result.stderr


def test_manage_py_commands_keep_the_requests_statement_timeout_known():
    env = environment(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/unused",
        SECRET_KEY="x" * 50,
        DATABASE_STATEMENT_TIMEOUT="1234",
    )
    code = "from django.conf import settings; print(settings.REQUEST_STATEMENT_TIMEOUT)"

    result = run(["manage.py", "shell", "-v", "0", "-c", code], env)

    assert result.stdout.strip() == "1234", result.stderr


@pytest.mark.parametrize("pooler", ["false", "true"])
def test_behind_a_transaction_pooler_no_startup_options_and_no_server_side_cursors(pooler):
    env = environment(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/unused",
        SECRET_KEY="x" * 50,
        DATABASE_TRANSACTION_POOLER=pooler,
        DATABASE_STATEMENT_TIMEOUT="1234",
    )
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "d = settings.DATABASES['default']; "
        "print(json.dumps([d['OPTIONS'].get('options'), d.get('DISABLE_SERVER_SIDE_CURSORS')]))"
    )

    options, no_cursors = json.loads(run(["-c", code], env).stdout)

    if pooler == "true":
        assert (options, no_cursors) == (None, True)
    else:
        assert (options, no_cursors) == ("-c statement_timeout=1234", None)


def test_with_sentinels_the_cache_asks_them_for_the_primary():
    env = environment(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/unused",
        SECRET_KEY="x" * 50,
        REDIS_URL="redis://127.0.0.1:6379/2",
        REDIS_SENTINELS="127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381",
        REDIS_SENTINEL_MASTER="sprockets",
    )
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "c = settings.CACHES['default']; "
        "print(json.dumps([c['LOCATION'], c['OPTIONS']['CLIENT_CLASS'], c['OPTIONS']['SENTINELS']]))"
    )

    location, client, sentinels = json.loads(run(["-c", code], env).stdout)

    assert location == ["redis://sprockets/2?is_master=1"]
    assert client == "django_redis.client.SentinelClient"
    assert sentinels == [["127.0.0.1", 26379], ["127.0.0.1", 26380], ["127.0.0.1", 26381]]


def test_each_replica_url_is_a_database_read_through_the_router():
    env = environment(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/main",
        SECRET_KEY="x" * 50,
        DATABASE_REPLICA_URLS="postgres://ro@10.0.0.2:5432/main,postgres://ro@10.0.0.3:5433/main",
        DATABASE_STATEMENT_TIMEOUT="1234",
    )
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "d = settings.DATABASES; "
        "print(json.dumps([sorted(d), d['replica_1']['HOST'], d['replica_1']['PORT'], "
        "d['replica_1']['OPTIONS'], d['replica_1']['TEST'], settings.DATABASE_ROUTERS]))"
    )

    aliases, host, port, options, test, routers = json.loads(run(["-c", code], env).stdout)

    assert aliases == ["default", "replica_0", "replica_1"]
    assert (host, port) == ("10.0.0.3", 5433)
    assert options == {"options": "-c statement_timeout=1234"}
    assert test["MIRROR"] == "default"
    assert routers == ["core.replicas.ReplicaRouter"]


def test_a_partition_interval_other_than_day_week_or_month_is_refused_at_start():
    result = run(["manage.py", "check"], environment(PRODUCTION_PARTITION_INTERVAL="fortnight"))

    assert result.returncode != 0
    assert "PRODUCTION_PARTITION_INTERVAL must be day, week or month." in result.stderr


@pytest.mark.parametrize("retention", ["24", "two years", "0 months", "3 fortnights"])
def test_a_retention_not_like_24_months_is_refused_at_start(retention):
    result = run(["manage.py", "check"], environment(PRODUCTION_RAW_RETENTION=retention))

    assert result.returncode != 0
    assert 'PRODUCTION_RAW_RETENTION must be like "24 months" or empty.' in result.stderr
