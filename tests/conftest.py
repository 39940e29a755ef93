"""Shared fixtures for the whole suite."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

try:
    from tests.servers import STALE_PREFIX, Mailbox, PostgresServer, running_smtp, start_postgres
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from servers import STALE_PREFIX, Mailbox, PostgresServer, running_smtp, start_postgres

# --- Real servers started by the suite (tests/servers.py) -------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Start one PostgreSQL cluster per test session (per xdist worker); `.url` is `archive_test`."""
    # Not tmp_path_factory: pytest's base temp dir is 0700 root, which the postgres user cannot enter.
    base_dir = Path(tempfile.mkdtemp(prefix=STALE_PREFIX))
    server = start_postgres(base_dir)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base_dir, ignore_errors=True)


@pytest.fixture
def smtp() -> Iterator[tuple[int, Mailbox]]:
    """A real SMTP server (aiosmtpd) for one test: its port and what it received."""
    with running_smtp() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """Give a fresh, empty database for one test and drop it afterwards."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = postgres_server.create_database(name)
    yield url
    postgres_server.drop_database(name)




# --- The archive itself (tests/archive_fixtures.py) ----------------------------------------------------

from archive_fixtures import archive, people  # noqa: E402,F401
from argon2 import PasswordHasher  # noqa: E402
from web_fixtures import app, client, login_as, make_app, web_archive  # noqa: E402,F401 - tests/web, tests/security

from archive.services import users  # noqa: E402


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at production cost takes most of a second here; tests need the behaviour, not the cost."""
    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
