"""The real thing, on loopback: gunicorn with its production config, and private PostgreSQL
and Redis servers on spare ports that tests may stop, restart or break (never the shared
ones on 5432 and 6379).
"""

import contextlib
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin"))), None)
REDIS_SERVER = shutil.which("redis-server")


def pytest_collection_modifyitems(config, items) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.system)
            if PG_BIN is None or REDIS_SERVER is None:
                item.add_marker(pytest.mark.skip(reason="needs PostgreSQL and Redis binaries"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll `condition` until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} within {timeout} s")
        time.sleep(0.05)


def _as_postgres_user(args: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of our own in a temporary folder."""

    directory: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        subprocess.run(
            _as_postgres_user(
                [
                    f"{PG_BIN}/initdb",
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres_user([f"{PG_BIN}/pg_ctl", "-D", str(self.data), *args]),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._ctl("-o", options, "-l", str(self.directory / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_database(self, name: str) -> str:
        subprocess.run(
            [f"{PG_BIN}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name],
            check=True,
            capture_output=True,
        )
        return self.url(name)


@dataclass
class PrivateRedis:
    """A redis-server of our own that keeps nothing on disk."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, timeout=10, what="redis-server did not answer")

    def answers(self) -> bool:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock,
        ):
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def command(self, *args: str) -> str:
        return subprocess.run(
            ["redis-cli", "-p", str(self.port), *args], check=True, capture_output=True, text=True
        ).stdout


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
