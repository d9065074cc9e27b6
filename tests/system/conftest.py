"""The real thing, on loopback: nginx with the repository's config in front of gunicorn with
its production config, and private PostgreSQL and Redis servers on spare ports that tests may
stop, restart or break (never the shared ones on 5432 and 6379).

Tests reach the service through nginx, as clients do; `direct=True` reaches gunicorn itself,
for tests about a worker (which one serves a connection) or about gunicorn without nginx.
"""

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
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
NGINX_TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
NGINX = shutil.which("nginx") or next(
    (path for path in ["/usr/sbin/nginx"] if os.access(path, os.X_OK)), None
)


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "last: runs after every other test (it reads what they left behind)"
    )


def pytest_collection_modifyitems(config, items) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.system)
            if PG_BIN is None or REDIS_SERVER is None or NGINX is None:
                item.add_marker(
                    pytest.mark.skip(reason="needs PostgreSQL, Redis and nginx binaries")
                )
    # The security leak check reads the answers every other security test kept, so tests
    # marked `last` go to the end; the sort is stable, so the rest keep their order.
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)


def nginx_config(*, listen: str, upstream: str, events_upstream: str, static_root: Path) -> str:
    """deploy/nginx.conf.template rendered as the official nginx image renders it."""
    text = NGINX_TEMPLATE.read_text()
    for name, value in {
        "SPROCKET_LISTEN": listen,
        "SPROCKET_UPSTREAM": upstream,
        "SPROCKET_EVENTS_UPSTREAM": events_upstream,
        "SPROCKET_STATIC_ROOT": str(static_root),
    }.items():
        text = text.replace(f"${{{name}}}", value)
    assert "${" not in text, "the template has a variable the tests do not set"
    return text


# A main nginx.conf like the official image's, which includes the repository's config in
# http{}; every path is in the test's folder, so no root is needed.
NGINX_MAIN = """
daemon off;
worker_processes 2;
worker_rlimit_nofile 8192;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
{user}
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {directory}/access.log;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    include {directory}/sprocket-factory.conf;
}}
"""


def _listening(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), 1):
        return True
    return False


@dataclass
class FrontProxy:
    """nginx from the machine's package, with the repository's config, in front of gunicorn."""

    directory: Path
    upstream: str
    events_upstream: str
    static_root: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "sprocket-factory.conf").write_text(
            nginx_config(
                listen=f"127.0.0.1:{self.port}",
                upstream=self.upstream,
                events_upstream=self.events_upstream,
                static_root=self.static_root,
            )
        )
        # As root, nginx would run its workers as nobody, who cannot read our folders.
        user = "user root;" if os.geteuid() == 0 else ""
        main = self.directory / "nginx.conf"
        main.write_text(NGINX_MAIN.format(directory=self.directory, user=user))
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.directory), "-c", str(main), "-e", str(self.log_path)],
            stdout=subprocess.DEVNULL,
            stderr=(self.directory / "stderr.log").open("ab"),
            start_new_session=True,
        )
        wait_until(self._listening, timeout=10, what="nginx did not listen")

    @property
    def log_path(self) -> Path:
        return self.directory / "error.log"

    def _listening(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"nginx exited: {self.log()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 1):
            return True
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def log(self) -> str:
        stderr = self.directory / "stderr.log"
        return "".join(
            path.read_text(errors="replace") for path in (stderr, self.log_path) if path.exists()
        )


@dataclass
class Service:
    """gunicorn serving the app with the repository's config, in production mode, behind
    nginx with the repository's config."""

    env: dict[str, str]
    front: FrontProxy
    process: subprocess.Popen | None = None
    events_process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def direct_url(self) -> str:
        return "http://" + self.env["GUNICORN_BIND"]

    @property
    def base_url(self) -> str:
        return self.front.url

    def url(self, path: str, *, direct: bool = False) -> str:
        return (self.direct_url if direct else self.base_url) + path

    def address(self, *, direct: bool = False) -> tuple[str, int]:
        host, port = self.url("", direct=direct).removeprefix("http://").rsplit(":", 1)
        return host, int(port)

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

    def healthy(self, *, direct: bool = False) -> bool:
        try:
            with urllib.request.urlopen(self.url("/healthz", direct=direct), timeout=1) as response:
                return response.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def _gunicorn(self, config: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", f"sprocket_factory/{config}"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_web(self) -> None:
        """gunicorn alone, answering on its own address (one more web node)."""
        self.log_path = Path(self.env["PROMETHEUS_MULTIPROC_DIR"]).parent / "gunicorn.log"
        self.process = self._gunicorn("gunicorn.conf.py")
        wait_until(
            lambda: self.healthy(direct=True), timeout=30, what="gunicorn did not answer /healthz"
        )

    def start(self) -> None:
        self.start_web()
        self.events_process = self._gunicorn("gunicorn_events.conf.py")
        events_host, events_port = self.env["EVENTS_BIND"].rsplit(":", 1)
        wait_until(
            lambda: _listening(events_host, int(events_port)),
            timeout=30,
            what="the events server did not listen",
        )
        self.front.start()
        wait_until(self.healthy, timeout=10, what="nginx did not answer /healthz")

    def worker_pids(self) -> list[int]:
        out = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout
        return [int(pid) for pid in out.split()]

    def stop(self) -> None:
        if self.front is not None:  # a node started with start_web has none
            self.front.stop()
        for process in (self.process, self.events_process):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""


def service_env(database_url: str, redis_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "DJANGO_", "DATABASE_", "REDIS_", "COV_"))
    }
    for folder in ("metrics", "static"):
        (workdir / folder).mkdir(parents=True, exist_ok=True)
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
        EVENTS_BIND=f"127.0.0.1:{free_port()}",
        EVENTS_HEARTBEAT_SECONDS="1",
        WEB_CONCURRENCY="2",
        # Behind nginx, as in docker-compose.yml.
        NUM_PROXIES="1",
        TRUST_X_FORWARDED_PROTO="true",
        STATIC_ROOT=str(workdir / "static"),
        PROMETHEUS_MULTIPROC_DIR=str(workdir / "metrics"),
        LOG_LEVEL="INFO",
        LOG_FORMAT="json",
    )
    env.update(extra)
    return env


@contextlib.contextmanager
def serving(
    database_url: str, redis_url: str, *, setup: tuple[str, ...] = (), **extra: str
) -> Iterator[Service]:
    """gunicorn serving `database_url` (migrated first) behind nginx; `setup` names management
    commands run after `migrate` (e.g. "load_original_data")."""
    workdir = Path(tempfile.mkdtemp(prefix="sprocket-system-"))
    env = service_env(database_url, redis_url, workdir, **extra)
    front = FrontProxy(
        directory=workdir / "nginx",
        upstream=env["GUNICORN_BIND"],
        events_upstream=env["EVENTS_BIND"],
        static_root=Path(env["STATIC_ROOT"]),
    )
    service = Service(env=env, front=front)
    for command in ("migrate", *setup):
        service.manage(command, "-v0", *(["--noinput"] if command == "migrate" else []))
    service.start()
    try:
        yield service
    finally:
        service.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def running_service(
    postgres: PrivatePostgres, redis: PrivateRedis, **extra: str
) -> Iterator[Service]:
    """A fresh database in `postgres`, migrated, and gunicorn serving it behind nginx."""
    database_url = postgres.create_database(f"system_{secrets.token_hex(4)}")
    with serving(database_url, redis.url, **extra) as service:
        yield service


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
