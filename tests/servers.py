"""Start real servers as child processes for the test suite."""

from __future__ import annotations

import atexit
import email
import email.policy
import glob
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

POSTGRES_USER = "postgres"
TEST_DATABASE = "archive_test"
# Temp directories with this prefix and an OWNER_FILE naming a dead process are reaped on start.
STALE_PREFIX = "archive-pg-"
OWNER_FILE = "owner.pid"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# A unix socket path must fit in sun_path (108 bytes) including the file name postgres adds.
_MAX_SOCKET_DIR = 80


class ServerStartError(RuntimeError):
    """A test server could not be started."""


@dataclass
class PostgresServer:
    """A throwaway PostgreSQL cluster listening on 127.0.0.1 with trust authentication."""

    bindir: Path
    data_dir: Path
    socket_dir: Path
    log_file: Path
    port: int
    run_as: str | None
    host: str = "127.0.0.1"
    database: str = TEST_DATABASE
    _owned_dirs: list[Path] = field(default_factory=list)
    _running: bool = False

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the `archive_test` database."""
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        """SQLAlchemy URL of a database on this server."""
        return f"postgresql+psycopg://{POSTGRES_USER}@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        """Open an autocommit psycopg connection as the superuser."""
        return psycopg.connect(
            host=self.host, port=self.port, user=POSTGRES_USER, dbname=database, autocommit=True
        )

    def create_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        _check_identifier(name)
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting its sessions."""
        _check_identifier(name)
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def pause(self) -> None:
        """Stop the server (fast shutdown: sessions are cut) and keep its data, to start it again."""
        result = _run([str(self.bindir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "30"],
                      self.run_as, cwd=self.data_dir.parent)
        if result.returncode != 0:
            raise ServerStartError(f"pg_ctl stop failed: {result.stdout}\n{result.stderr}")

    def resume(self) -> None:
        """Start a paused server again on the same port."""
        result = _run([str(self.bindir / "pg_ctl"), "start", "-D", str(self.data_dir), "-l", str(self.log_file),
                       "-w", "-t", "60"], self.run_as, cwd=self.data_dir.parent)
        if result.returncode != 0:
            raise ServerStartError(f"PostgreSQL did not start again:\n{result.stdout}\n{_tail(self.log_file)}")

    def stop(self) -> None:
        """Stop the server and remove directories it created itself; safe to call twice."""
        if self._running:
            self._running = False
            for mode in ("fast", "immediate"):
                result = _run(
                    [
                        str(self.bindir / "pg_ctl"),
                        "stop",
                        "-D",
                        str(self.data_dir),
                        "-m",
                        mode,
                        "-w",
                        "-t",
                        "30",
                    ],
                    self.run_as,
                    cwd=self.data_dir.parent,
                )
                if result.returncode == 0:
                    break
        for directory in self._owned_dirs:
            shutil.rmtree(directory, ignore_errors=True)
        self._owned_dirs.clear()


def start_postgres(base_dir: Path) -> PostgresServer:
    """Initialise a fresh cluster under `base_dir`, start it and create `archive_test`.

    Runs the server as the `postgres` system user when we are root (postgres refuses root).
    Raises ServerStartError with initdb's or the server's output when something fails.
    """
    bindir = find_postgres_bindir()
    reap_stale_postgres(bindir)
    run_as = POSTGRES_USER if os.geteuid() == 0 else None
    owned: list[Path] = []
    base_dir = Path(base_dir).resolve()
    base_dir.mkdir(parents=True, exist_ok=True)
    if run_as is not None:
        _chown(base_dir, run_as)
        if not _reachable_by(run_as, base_dir):
            # e.g. pytest's /tmp/pytest-of-root is 0700: use a directory postgres can reach.
            base_dir = Path(tempfile.mkdtemp(prefix=STALE_PREFIX))
            owned.append(base_dir)
            _chown(base_dir, run_as)
    (base_dir / OWNER_FILE).write_text(str(os.getpid()))

    data_dir = base_dir / "data"
    socket_dir = base_dir / "sock"
    if len(str(socket_dir)) > _MAX_SOCKET_DIR:
        socket_dir = Path(tempfile.mkdtemp(prefix="pgsock-"))
        owned.append(socket_dir)
    socket_dir.mkdir(exist_ok=True)
    log_file = base_dir / "postgres.log"
    if run_as is not None:
        _chown(socket_dir, run_as)

    initdb = _run(
        [
            str(bindir / "initdb"),
            "-D",
            str(data_dir),
            "-U",
            POSTGRES_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ],
        run_as,
        cwd=base_dir,
    )
    if initdb.returncode != 0:
        for directory in owned:
            shutil.rmtree(directory, ignore_errors=True)
        message = f"initdb failed (exit {initdb.returncode}):\n{initdb.stdout}\n{initdb.stderr}"
        print(message)
        raise ServerStartError(message)

    last_error = ""
    for _attempt in range(3):
        port = _free_port()
        _write_settings(data_dir, port, socket_dir, run_as)
        server = PostgresServer(
            bindir=bindir,
            data_dir=data_dir,
            socket_dir=socket_dir,
            log_file=log_file,
            port=port,
            run_as=run_as,
            _owned_dirs=owned,
        )
        started = _run(
            [str(bindir / "pg_ctl"), "start", "-D", str(data_dir), "-l", str(log_file), "-w", "-t", "60"],
            run_as,
            cwd=base_dir,
        )
        if started.returncode == 0:
            server._running = True
            atexit.register(server.stop)
            try:
                server.create_database(TEST_DATABASE)
            except Exception:
                server.stop()
                raise
            return server
        # Most likely another process took the port between probing and binding; try another.
        last_error = f"{started.stdout}\n{started.stderr}\n{_tail(log_file)}"
    for directory in owned:
        shutil.rmtree(directory, ignore_errors=True)
    message = f"PostgreSQL did not start:\n{last_error}"
    print(message)
    raise ServerStartError(message)


def reap_stale_postgres(bindir: Path) -> None:
    """Stop clusters left in the temp dir by test runs that were killed before cleaning up."""
    run_as = POSTGRES_USER if os.geteuid() == 0 else None
    for base in Path(tempfile.gettempdir()).glob(f"{STALE_PREFIX}*"):
        try:
            owner = int((base / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if _alive(owner):
            continue
        if (base / "data" / "postmaster.pid").exists():
            _run(
                [str(bindir / "pg_ctl"), "stop", "-D", str(base / "data"), "-m", "immediate"],
                run_as,
                cwd=base,
            )
        shutil.rmtree(base, ignore_errors=True)


def find_postgres_bindir() -> Path:
    """Locate the directory holding initdb and pg_ctl."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if result.returncode == 0:
            candidates.append(Path(result.stdout.strip()))
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(re.sub(r"\D", "", Path(p).parent.name) or 0),
        reverse=True,
    )
    candidates.extend(Path(p) for p in versions)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise ServerStartError("PostgreSQL server binaries (initdb, pg_ctl) not found; run `make system-deps`")


def _write_settings(data_dir: Path, port: int, socket_dir: Path, run_as: str | None) -> None:
    # Durability is pointless for a throwaway cluster; turning it off makes the suite faster.
    settings = f"""
port = {port}
listen_addresses = '127.0.0.1'
unix_socket_directories = '{socket_dir}'
max_connections = 100
shared_buffers = 32MB
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
"""
    (data_dir / "postgresql.auto.conf").write_text(settings)
    if run_as is not None:
        _chown(data_dir / "postgresql.auto.conf", run_as)


def _run(args: list[str], run_as: str | None, *, cwd: Path) -> subprocess.CompletedProcess[str]:
    if run_as is not None:
        args = ["runuser", "-u", run_as, "--", *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.setdefault("LC_ALL", "C.UTF-8")
    return subprocess.run(
        args, capture_output=True, text=True, check=False, cwd=cwd, env=env, stdin=subprocess.DEVNULL
    )


def _chown(path: Path, user: str) -> None:
    try:
        entry = pwd.getpwnam(user)
    except KeyError as exc:
        raise ServerStartError(f"system user {user!r} does not exist; install postgresql") from exc
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _reachable_by(user: str, path: Path) -> bool:
    result = subprocess.run(
        ["runuser", "-u", user, "--", "test", "-w", str(path), "-a", "-x", str(path)],
        capture_output=True,
        check=False,
        cwd="/",
    )
    return result.returncode == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _check_identifier(name: str) -> None:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain lower-case database name: {name!r}")


@contextmanager
def running_s3_server() -> Iterator[tuple[dict[str, str], subprocess.Popen[bytes]]]:
    """Start moto's S3 server with authentication on; yield (endpoint and real credentials, process).

    moto checks credentials only after INITIAL_NO_AUTH_ACTION_COUNT requests: the first three
    create an IAM user, its S3 policy and its access key, so wrong credentials are then refused.
    """
    import boto3

    port = _free_port()
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3")
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise ServerStartError(f"moto server exited with code {process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise ServerStartError(f"moto server did not listen on port {port} within 30 s") from None
                time.sleep(0.1)
        iam = boto3.client("iam", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id="bootstrap",
                           aws_secret_access_key="bootstrap", region_name="us-east-1")
        iam.create_user(UserName="archive")
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        iam.put_user_policy(UserName="archive", PolicyName="archive-s3", PolicyDocument=json.dumps(policy))
        access_key = iam.create_access_key(UserName="archive")["AccessKey"]
        yield ({"endpoint": f"127.0.0.1:{port}", "access_key": access_key["AccessKeyId"],
                "secret_key": access_key["SecretAccessKey"]}, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Mailbox:
    """What a real SMTP server (aiosmtpd) the suite starts has received: (recipients, subject, body)."""

    messages: list[tuple[list[str], str, str]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, str(message["Subject"]), message.get_content()))
        return "250 OK"


@contextmanager
def running_smtp() -> Iterator[tuple[int, Mailbox]]:
    """An SMTP server on 127.0.0.1 (a free port) for the duration; its port and mailbox."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()
