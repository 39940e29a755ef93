"""The web fixtures both tests/web and tests/security use: a real archive (SQLite) in a temporary home,
an app over it, a client, and logging in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from archive_fixtures import PASSWORD, build_archive
from flask import Flask
from flask.testing import FlaskClient

from archive.bootstrap import Archive


@pytest.fixture
def web_archive(tmp_path: Path) -> Iterator[Archive]:
    """A migrated archive with reference data, departments YX and KF and one user per role (SQLite)."""
    archive = build_archive(tmp_path / "home")
    yield archive
    archive.close()


@pytest.fixture
def make_app(web_archive: Archive) -> Callable[[dict], Flask]:
    """make_app(overrides) builds another app over the same archive (e.g. with CSRF enabled)."""
    from web import create_app

    return lambda overrides: create_app(overrides, archive=web_archive)


@pytest.fixture
def app(make_app: Callable[[dict], Flask]) -> Flask:
    return make_app({"TESTING": True, "WTF_CSRF_ENABLED": False})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def log_in(client: FlaskClient, username: str, password: str = PASSWORD) -> None:
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def login_as() -> Callable[..., None]:
    """login_as(client, username) logs the client in with the test password."""
    return log_in
