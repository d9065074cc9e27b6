"""Private PostgreSQL and Redis servers on spare ports, for tests that stop, restart or
break them (never the shared ones on 5432 and 6379)."""

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PG_BIN = next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin"))), None)
REDIS_SERVER = shutil.which("redis-server")


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

    def base_backup_of(self, primary: "PrivatePostgres") -> None:
        """This cluster as a streaming replica of `primary` (pg_basebackup -R), not started."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        subprocess.run(
            _as_postgres_user(
                [
                    f"{PG_BIN}/pg_basebackup",
                    *("-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"),
                    *("-D", str(self.data), "-R", "-X", "stream", "--no-sync"),
                ]
            ),
            check=True,
            capture_output=True,
            timeout=120,
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
    replica_of: int | None = None  # the port of the primary this one replicates

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        replication = ["--replicaof", "127.0.0.1", str(self.replica_of)] if self.replica_of else []
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
                *replication,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._up, timeout=10, what="redis-server did not answer")

    def _up(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"redis-server on port {self.port} exited")
        return self.answers()

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


PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


@dataclass
class PrivatePgBouncer:
    """PgBouncer of our own in transaction pooling mode, in front of one PostgreSQL."""

    directory: Path
    postgres_port: int
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "userlist.txt").write_text('"postgres" ""\n')
        (self.directory / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={self.postgres_port}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.directory / 'userlist.txt'}\n"
            "pool_mode = transaction\ndefault_pool_size = 4\nmax_client_conn = 200\n"
            "admin_users = postgres\nignore_startup_parameters = extra_float_digits\n"
            f"logfile = {self.directory / 'pgbouncer.log'}\n"
        )
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
            for path in self.directory.iterdir():
                shutil.chown(path, "postgres", "postgres")
        # PgBouncer refuses to run as root.
        self.process = subprocess.Popen(
            _as_postgres_user([PGBOUNCER, str(self.directory / "pgbouncer.ini")]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._up, timeout=10, what="pgbouncer did not listen")

    def _up(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"pgbouncer exited: {self.log()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
            return True
        return False

    def log(self) -> str:
        path = self.directory / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@dataclass
class PrivateSentinel:
    """A Redis Sentinel of our own watching one primary (`redis-server --sentinel`)."""

    directory: Path
    primary_port: int
    name: str = "sprocket-primary"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / f"sentinel-{self.port}.conf"  # Sentinel rewrites it
        config.write_text(
            f"port {self.port}\nbind 127.0.0.1\n"
            f"sentinel monitor {self.name} 127.0.0.1 {self.primary_port} 2\n"
            f"sentinel down-after-milliseconds {self.name} 1000\n"
            f"sentinel failover-timeout {self.name} 5000\n"
        )
        self.process = subprocess.Popen(
            [REDIS_SERVER, str(config), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._up, timeout=10, what="redis-sentinel did not answer")

    def _up(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"redis-sentinel on port {self.port} exited")
        return PrivateRedis(port=self.port).answers()

    def primary(self) -> int:
        """The port of the primary this sentinel names now."""
        out = subprocess.run(
            ["redis-cli", "-p", str(self.port), "SENTINEL", "get-master-addr-by-name", self.name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        return int(out[1])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@dataclass
class Embedded:
    """What `make run` runs: runserver (and, if asked, the worker) on a SQLite file of its
    own holding the original data."""

    base: str
    env: dict[str, str]
    worker: subprocess.Popen | None


@contextlib.contextmanager
def embedded_service(directory: Path, *, worker: bool = False, **extra: str):
    root = Path(__file__).resolve().parent.parent
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SECURE_SSL_REDIRECT"}
    }
    # A database file of its own; DEBUG as the embedded default has it.
    env |= {"DATABASE_URL": f"sqlite:///{directory / 'db.sqlite3'}", "DEBUG": "true", **extra}
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput", "-v0"], ["load_original_data", "-v0"]):
        subprocess.run([*manage, *command], cwd=root, env=env, check=True)
    log = (directory / "processes.log").open("ab")
    started = []
    if worker:
        started.append(
            subprocess.Popen([*manage, "worker"], cwd=root, env=env, stdout=log, stderr=log)
        )
    port = free_port()
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=root,
        env=env,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return urllib.request.urlopen(f"{base}/healthz", timeout=1).status == 200
        except OSError:
            return False

    try:
        wait_until(answers, timeout=30, what="runserver answered")
        yield Embedded(base, env, started[0] if started else None)
    finally:
        for process in (server, *started):  # SIGTERM: the worker finishes its tasks
            process.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        for process in started:
            process.wait(timeout=60)
        log.close()
