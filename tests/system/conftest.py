"""The real thing, on loopback: gunicorn with its production config, and private PostgreSQL
and Redis servers on spare ports that tests may stop, restart or break (never the shared
ones on 5432 and 6379).
"""

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import (
    PG_BIN,
    REDIS_SERVER,
    PrivatePostgres,
    PrivateRedis,
    free_port,
    wait_until,
)

# Before the import below, so that the helpers' asserts explain themselves too.
pytest.register_assert_rewrite("tests.system.security_helpers", "tests.system.fault_helpers")

from tests.system.security_helpers import (  # noqa: E402
    FORBIDDEN,
    Caller,
    World,
    factory_body,
    record_body,
    session_login,
    sprocket_body,
    user_with_password,
)

ROOT = Path(__file__).resolve().parents[2]


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "last: runs after every other test (it reads what they left behind)"
    )


def pytest_collection_modifyitems(config, items) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.system)
            if PG_BIN is None or REDIS_SERVER is None:
                item.add_marker(pytest.mark.skip(reason="needs PostgreSQL and Redis binaries"))
    # The security leak check reads the answers every other security test kept, so tests
    # marked `last` go to the end; the sort is stable, so the rest keep their order.
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)


@dataclass
class Service:
    """gunicorn serving the app with the repository's config, in production mode."""

    env: dict[str, str]
    base_url: str
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    def url(self, path: str) -> str:
        return self.base_url + path

    def manage(self, *args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        ).stdout.strip()

    def token(self, role: str, username: str | None = None) -> str:
        return self.manage("issue_token", username or f"system-{role}", "--group", role)

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url("/healthz"), timeout=1) as response:
                return response.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def start(self) -> None:
        self.log_path = Path(self.env["PROMETHEUS_MULTIPROC_DIR"]).parent / "gunicorn.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "sprocket_factory/gunicorn.conf.py"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(self.healthy, timeout=30, what="gunicorn did not answer /healthz")

    def worker_pids(self) -> list[int]:
        out = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout
        return [int(pid) for pid in out.split()]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""


def service_env(database_url: str, redis_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "DJANGO_", "DATABASE_", "REDIS_", "COV_"))
    }
    (workdir / "metrics").mkdir(parents=True, exist_ok=True)
    env.update(
        DJANGO_SETTINGS_MODULE="sprocket_factory.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        GUNICORN_BIND=f"127.0.0.1:{free_port()}",
        WEB_CONCURRENCY="2",
        PROMETHEUS_MULTIPROC_DIR=str(workdir / "metrics"),
        LOG_LEVEL="INFO",
        LOG_FORMAT="json",
    )
    env.update(extra)
    return env


@contextlib.contextmanager
def running_service(
    postgres: PrivatePostgres, redis: PrivateRedis, **extra: str
) -> Iterator[Service]:
    """A fresh database in `postgres`, migrated, and gunicorn serving it."""
    workdir = Path(tempfile.mkdtemp(prefix="sprocket-system-"))
    database_url = postgres.create_database(f"system_{secrets.token_hex(4)}")
    env = service_env(database_url, redis.url, workdir, **extra)
    service = Service(env=env, base_url="http://" + env["GUNICORN_BIND"])
    service.manage("migrate", "--noinput", "-v0")
    service.start()
    try:
        yield service
    finally:
        service.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    postgres = PrivatePostgres(Path(tempfile.mkdtemp(prefix="sprocket-pg-")))
    postgres.init()
    postgres.start()
    yield postgres
    with contextlib.suppress(subprocess.SubprocessError):
        postgres.stop("immediate")
    shutil.rmtree(postgres.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis()
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture(scope="session")
def service(private_postgres, private_redis) -> Iterator[Service]:
    """One gunicorn for the tests that do not break anything."""
    with running_service(private_postgres, private_redis) as running:
        yield running


@pytest.fixture
def own_postgres() -> Iterator[PrivatePostgres]:
    """A cluster for one test that stops or restarts it."""
    postgres = PrivatePostgres(Path(tempfile.mkdtemp(prefix="sprocket-pg-")))
    postgres.init()
    postgres.start()
    yield postgres
    with contextlib.suppress(subprocess.SubprocessError):
        postgres.stop("immediate")
    shutil.rmtree(postgres.directory, ignore_errors=True)


@pytest.fixture
def own_redis() -> Iterator[PrivateRedis]:
    """A redis-server for one test that stops or restarts it."""
    redis = PrivateRedis()
    redis.start()
    yield redis
    redis.stop()


# --- the security tests' callers (test_security_*.py) -------------------------------------------
# Session-scoped: every security module shares one set of callers and objects, and the
# session user can be created only once in the service's database.


@pytest.fixture(scope="session")
def session_password(service: Service) -> str:
    return user_with_password(service, "security-session", "manager")


@pytest.fixture(scope="session")
def callers(service: Service, session_password: str) -> dict[str, Caller]:
    """anonymous, a token per role, and a session of a manager who logged in with a password."""
    session, login = session_login(service, "security-session", session_password)
    assert login.status_code == 302, login.text[:500]
    tokens = {
        role: Caller(service, token=service.token(role, username=f"security-{role}"))
        for role in ("viewer", "operator", "manager")
    }
    return {"anonymous": Caller(service), **tokens, "session": Caller(service, session=session)}


@pytest.fixture(scope="session")
def world(callers: dict[str, Caller]) -> World:
    """A few objects of our own that reads and refused writes point at."""
    manager = callers["manager"]
    factory_id = manager.create("/factories", factory_body())["id"]
    return World(
        manager=manager,
        factory_id=factory_id,
        other_factory_id=manager.create("/factories", factory_body())["id"],
        sprocket_id=manager.create("/sprockets", sprocket_body())["id"],
        record_id=manager.create("/production", record_body(factory_id))["id"],
    )


@pytest.fixture(scope="session")
def strict_service(private_postgres) -> Iterator[Service]:
    """A service with low limits and a Redis of its own (so its throttle counts are its own)."""
    redis = PrivateRedis()
    redis.start()
    try:
        with running_service(
            private_postgres,
            redis,
            BULK_MAX_ROWS="10",
            BULK_MAX_BYTES="2048",
            LOGIN_THROTTLE_RATE="3/min",
        ) as running:
            FORBIDDEN.update(running.env[name] for name in ("SECRET_KEY", "DATABASE_URL"))
            yield running
    finally:
        redis.stop()
