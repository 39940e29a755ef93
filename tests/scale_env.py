"""The scale-out deployment as real processes on one machine: Redis, the web app under gunicorn, workers.

PostgreSQL and the S3 server come from tests/servers.py; this module adds Redis (Debian's
`redis-server`), web processes (gunicorn, several processes each, `web:create_app()`) and `archive
worker` processes. Every web instance and every worker has a scratch ARCHIVE_HOME of its own, so they
share nothing but the services and the configuration (one environment, the key file and the audit
signing key in one configuration folder). Search: the Tantivy index is embedded, so it lives in one
folder every process names (ARCHIVE_INDEX_PATH): workers write it (its directory lock lets one writer
in at a time), web processes only read it and reload on every search; or Elasticsearch where
ARCHIVE_TEST_ELASTICSEARCH_URL is given.

Used by tests/integration/test_scale_out.py, benchmarks/scale_ingest_bench.py,
benchmarks/fault_soak.py and `make scale-demo` (`python tests/scale_env.py`).
"""

from __future__ import annotations

import contextlib
import html
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from archive_fixtures import PASSWORD, build_archive  # noqa: E402
from servers import STALE_PREFIX, ServerStartError, _free_port, running_s3_server, start_postgres  # noqa: E402

from archive.compliance.services import signer_for  # noqa: E402

BIN = Path(sys.executable).parent


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 60.0, poll: float = 0.1) -> Any:
    """Poll condition until it returns something true; raise TimeoutError naming what did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except Exception:  # a service still starting; keep polling until the deadline
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(poll)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


# --- Redis --------------------------------------------------------------------------------------------


@dataclass
class RedisServer:
    """redis-server on 127.0.0.1 with an append-only file fsynced on every write: a restart keeps the
    queue (as compose's `--appendonly yes` does)."""

    directory: Path
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            raise ServerStartError("redis-server not found; run `make system-deps` (Debian package redis-server)")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "no"],
            stdout=(self.directory / "redis.log").open("ab"), stderr=subprocess.STDOUT)
        wait_until(lambda: self.process.poll() is None and _listening(self.port), "redis-server listening", 20)

    def stop(self, *, kill: bool = False) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            self.process.wait(timeout=20)
        self.process = None


# --- a service that becomes unreachable -----------------------------------------------------------------


class TcpGate:
    """A TCP forwarder in front of a service: `close()` refuses new connections and cuts open ones (the
    service is unreachable, as when its host or the network is down), `open()` lets them through again."""

    def __init__(self, target: str) -> None:
        host, _, port = target.rpartition(":")
        self.target = (host, int(port))
        self.port = _free_port()
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.open()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def open(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):  # wakes the thread blocked in accept(); close() alone does not
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self._connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._connections.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)


# --- the processes of the archive ---------------------------------------------------------------------


@dataclass
class Proc:
    """A child process in its own process group (a kill takes its tesseract children too)."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(self.args, env=self.env, cwd=ROOT, start_new_session=True,
                                        stdin=subprocess.DEVNULL, stdout=self.log.open("ab"),
                                        stderr=subprocess.STDOUT)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: no handler runs, nothing is cleaned up."""
        if self.alive:
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)

    def stop(self, timeout: float = 20.0) -> None:
        if not self.alive:
            return
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class ScaleEnv:
    """One archive deployed as separate processes over shared services (see the module docstring)."""

    base: Path
    env: dict[str, str]
    redis: RedisServer
    web: list[Proc] = field(default_factory=list)
    workers: list[Proc] = field(default_factory=list)
    web_ports: list[int] = field(default_factory=list)
    s3_gate: TcpGate | None = None  # between every process and the S3 server: close() makes S3 unreachable
    postgres: Any = None  # the PostgresServer when this module started it (standalone)

    # --- processes

    def add_web(self, processes: int = 2) -> str:
        """Start one gunicorn instance (its own scratch home) with `processes` processes; its URL."""
        number = len(self.web)
        port = _free_port()
        env = dict(self.env, ARCHIVE_HOME=str(self.base / f"web-{number}"))
        proc = Proc(f"web-{number}", [str(BIN / "gunicorn"), "--workers", str(processes), "--threads", "4",
                                      "--bind", f"127.0.0.1:{port}", "--timeout", "300", "--graceful-timeout", "5", "--no-control-socket",
                                      "web:create_app()"], env, self.base / "logs" / f"web-{number}.log")
        proc.start()
        self.web.append(proc)
        self.web_ports.append(port)
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: proc.alive and requests.get(f"{url}/login", timeout=5).status_code == 200,
                   f"gunicorn {proc.name} answering", 60)
        return url

    def add_worker(self, threads: int = 1) -> Proc:
        """Start one `archive worker` with a scratch home of its own."""
        number = len(self.workers)
        env = dict(self.env, ARCHIVE_HOME=str(self.base / f"worker-{number}"), OMP_THREAD_LIMIT="1")
        proc = Proc(f"worker-{number}", [str(BIN / "archive"), "worker", "--workers", str(threads)], env,
                    self.base / "logs" / f"worker-{number}.log")
        proc.start()
        self.workers.append(proc)
        return proc

    def restart(self, proc: Proc) -> None:
        """Start a stopped or killed process again, as a supervisor (compose's restart policy) would."""
        proc.kill()
        proc.start()

    def url(self, number: int = 0) -> str:
        return f"http://127.0.0.1:{self.web_ports[number]}"

    def archive(self) -> Any:
        """An Archive in this process over the same services (for assertions), with a home of its own."""
        from archive.bootstrap import Archive
        from archive.config import load_settings

        return Archive(load_settings(dict(self.env, ARCHIVE_HOME=str(self.base / f"probe-{uuid.uuid4().hex[:6]}"))))

    def cli(self, *args: str, timeout: float = 300, **extra_env: str) -> subprocess.CompletedProcess[str]:
        """Run an `archive` command as the operator does (a scratch home of its own)."""
        env = dict(self.env, ARCHIVE_HOME=str(self.base / "cli"), **extra_env)
        return subprocess.run([str(BIN / "archive"), *args], env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def stop(self) -> None:
        for proc in [*self.web, *self.workers]:
            proc.stop()
        self.redis.stop()


def shared_configuration(base: Path, *, database_url: str, redis_url: str, s3: dict[str, str] | None,
                         storage_path: Path | None = None) -> dict[str, str]:
    """The one configuration every process of the deployment reads."""
    config = base / "config"
    config.mkdir(parents=True, exist_ok=True, mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env.update({
        "ARCHIVE_DATABASE_URL": database_url,
        "ARCHIVE_QUEUE": "redis",
        "ARCHIVE_REDIS_URL": redis_url,
        "ARCHIVE_KEY_FILE": str(config / "master.json"),
        "ARCHIVE_AUDIT_SIGNING_KEY_FILE": str(config / "audit-signing.json"),
        "ARCHIVE_SECRET_KEY": uuid.uuid4().hex * 2,
        "ARCHIVE_CLI_TRUSTED": "1",
        "ARCHIVE_UPLOAD_RATE_PER_HOUR": "100000",
        "PYTHONPATH": str(ROOT),
    })
    if s3 is not None:
        env.update({"ARCHIVE_STORAGE": "s3", "ARCHIVE_S3_ENDPOINT": s3["endpoint"],
                    "ARCHIVE_S3_ACCESS_KEY": s3["access_key"], "ARCHIVE_S3_SECRET_KEY": s3["secret_key"],
                    "ARCHIVE_S3_BUCKET": s3.get("bucket") or f"archive-{uuid.uuid4().hex[:8]}"})
    else:
        env.update({"ARCHIVE_STORAGE": "filesystem", "ARCHIVE_STORAGE_PATH": str(storage_path or base / "objects")})
    if os.environ.get("ARCHIVE_TEST_ELASTICSEARCH_URL"):
        env.update({"ARCHIVE_SEARCH": "elasticsearch",
                    "ARCHIVE_ELASTICSEARCH_URL": os.environ["ARCHIVE_TEST_ELASTICSEARCH_URL"]})
    else:
        env.update({"ARCHIVE_SEARCH": "tantivy", "ARCHIVE_INDEX_PATH": str(base / "index")})
    return env


@contextmanager
def scale_env(base: Path, *, database_url: str, s3: dict[str, str] | None, storage_path: Path | None = None,
              web: int = 2, web_processes: int = 2, workers: int = 2, worker_threads: int = 1) -> Iterator[ScaleEnv]:
    """Initialise an archive on the given database and store, then start Redis, web and workers."""
    redis = RedisServer(base / "redis")
    redis.start()
    gate = TcpGate(s3["endpoint"]) if s3 is not None else None
    env = shared_configuration(base, database_url=database_url, redis_url=redis.url,
                               s3=dict(s3, endpoint=gate.endpoint) if s3 is not None and gate else None,
                               storage_path=storage_path)
    deployment = ScaleEnv(base, env, redis, s3_gate=gate)
    try:
        # `archive init` as compose's db-init does: schema, reference data, the key file, the audit signing
        # key (so no two processes race to create them), and the test users.
        init = build_archive(base / "init", extra_env={k: v for k, v in env.items() if k.startswith("ARCHIVE_")})
        init.keyring  # noqa: B018 - creates the shared key file
        signer_for(init.settings)
        init.close()
        for _ in range(web):
            deployment.add_web(web_processes)
        for _ in range(workers):
            deployment.add_worker(worker_threads)
        yield deployment
    finally:
        deployment.stop()
        if gate is not None:
            gate.close()


@contextmanager
def standalone(base: Path | None = None, **options: Any) -> Iterator[ScaleEnv]:
    """The whole environment with its own PostgreSQL and S3 (moto, or MinIO at ARCHIVE_TEST_S3_URL)."""
    with ExitStack() as stack:
        if base is None:
            base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="archive-scale-")))
        pg_dir = Path(tempfile.mkdtemp(prefix=STALE_PREFIX))
        postgres = start_postgres(pg_dir)
        stack.callback(shutil.rmtree, pg_dir, ignore_errors=True)
        stack.callback(postgres.stop)
        s3 = minio_from_environment() or stack.enter_context(running_s3_server())[0]
        deployment = stack.enter_context(scale_env(base, database_url=postgres.url, s3=s3, **options))
        deployment.postgres = postgres
        yield deployment


def minio_from_environment() -> dict[str, str] | None:
    """MinIO (or any S3 server) named by ARCHIVE_TEST_S3_URL=http://KEY:SECRET@host:port, else None."""
    url = os.environ.get("ARCHIVE_TEST_S3_URL")
    if not url:
        return None
    match = re.match(r"https?://([^:]+):([^@]+)@(.+?)/?$", url)
    if not match:
        raise ValueError("ARCHIVE_TEST_S3_URL must be http://ACCESS_KEY:SECRET_KEY@host:port")
    return {"access_key": match[1], "secret_key": match[2], "endpoint": match[3]}


# A key rotation killed with SIGKILL after its first batch of re-wrapped data keys (`keys rewrap` finishes it).
ROTATE_THEN_DIE = """
import os, signal
from archive.actors import OPERATOR
from archive.bootstrap import Archive
from archive.services import keys

keys.BATCH = 1  # one document a batch, so the kill falls between them
original = keys._commit_batch


def commit_then_die(*args, **kwargs):
    original(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)  # after the first batch of re-wrapped keys


keys._commit_batch = commit_then_die
keys.rotate_master_key(Archive().uow(), actor=OPERATOR)
"""


# --- a client of the web API ---------------------------------------------------------------------------


class ApiClient:
    """A logged-in user of one web instance: capture, search, progress, through the JSON API."""

    def __init__(self, url: str, username: str, password: str = PASSWORD) -> None:
        self.url = url
        self.http = requests.Session()
        page = self.http.get(f"{url}/login", timeout=30)
        token = _csrf(page.text)
        answer = self.http.post(f"{url}/login", data={"username": username, "password": password,
                                                      "csrf_token": token}, timeout=30, allow_redirects=False)
        if answer.status_code not in (302, 303):
            raise RuntimeError(f"login as {username} failed: {answer.status_code}")
        self.token = _csrf(self.http.get(f"{url}/", timeout=30).text)

    def capture(self, files: list[tuple[str, bytes]], **fields: str) -> requests.Response:
        form = {"document_type": "supply_contract", "classification": "internal", **fields}
        return self.http.post(f"{self.url}/api/v1/documents", data=form, headers={"X-CSRFToken": self.token},
                              files=[("files", (name, io.BytesIO(data))) for name, data in files], timeout=300)

    def search(self, query: str) -> requests.Response:
        return self.http.get(f"{self.url}/api/v1/search", params={"q": query, "limit": 100}, timeout=60,
                             headers={"Accept": "application/json"})

    def progress(self, ids: list[int]) -> requests.Response:
        return self.http.get(f"{self.url}/api/v1/documents/progress",
                             params={"ids": ",".join(map(str, ids))}, timeout=60)

    def get(self, path: str, **options: Any) -> requests.Response:
        return self.http.get(f"{self.url}{path}", timeout=60, **options)


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf[-_]token"[^>]*(?:content|value)="([^"]+)"', page)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return html.unescape(match[1])


# --- documents to capture ------------------------------------------------------------------------------


def text_pdf(lines: list[str], pages: int = 1) -> bytes:
    """A PDF with a real text layer (capture takes its text, no OCR)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for number in range(1, pages + 1):
        y = 780
        for line in [*lines, f"page {number}"]:
            pdf.drawString(72, y, line)
            y -= 18
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def scan_png(lines: list[str], seed: int = 1) -> bytes:
    """A scanned page as PNG (capture queues OCR for it)."""
    from archive.demo.samples import render_scan

    buffer = io.BytesIO()
    render_scan(lines, seed=seed).convert("L").save(buffer, format="PNG", dpi=(300, 300))
    return buffer.getvalue()


def resident_id(serial: int) -> str:
    """A valid resident ID number, different for each serial."""
    from datetime import date, timedelta

    from archive.identity import resident_id_check_digit

    born = date(1950, 1, 1) + timedelta(days=serial % 20000)
    body = f"110105{born:%Y%m%d}{serial % 1000:03d}"
    return body + resident_id_check_digit(body)


def main() -> None:
    """`make scale-demo`: start the environment, capture a few documents, search, then wait for Ctrl-C."""
    with standalone() as deployment:
        clerk = ApiClient(deployment.url(0), "clerk")
        answer = clerk.capture([("demo.pdf", text_pdf(["Supply contract HT-2024-0001", "electricity tariff"]))],
                               customer=resident_id(1), customer_name="张伟")
        print("captured:", answer.status_code, answer.json())
        staff = ApiClient(deployment.url(1), "staff")
        wait_until(lambda: staff.search("tariff").json()["total"], "the document found by search", 60)
        print("search from the other web instance:", staff.search("tariff").json()["total"], "hit(s)")
        for number, _ in enumerate(deployment.web):
            print(f"web {number}: {deployment.url(number)}  (log {deployment.web[number].log})")
        for worker in deployment.workers:
            print(f"{worker.name}: pid {worker.process.pid if worker.process else '-'}  (log {worker.log})")
        print(f"redis: {deployment.redis.url}; users: clerk, staff, ... password {PASSWORD!r}; Ctrl-C stops")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
