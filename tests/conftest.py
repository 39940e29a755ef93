"""Shared fixtures for the whole suite."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

try:
    from tests.servers import STALE_PREFIX, PostgresServer, start_postgres
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from servers import STALE_PREFIX, PostgresServer, start_postgres

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
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """Give a fresh, empty database for one test and drop it afterwards."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = postgres_server.create_database(name)
    yield url
    postgres_server.drop_database(name)


from archive_fixtures import archive, people  # noqa: E402,F401
