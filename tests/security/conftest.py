"""Fixtures for the security tests: the web fixtures' archive, app and client, plus audit helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from archive_fixtures import PASSWORD, build_archive
from flask import Flask
from flask.testing import FlaskClient
from security_support import login

from archive.bootstrap import Archive


@pytest.fixture
def web_archive(tmp_path: Path) -> Iterator[Archive]:
    archive = build_archive(tmp_path / "home")
    yield archive
    archive.close()


@pytest.fixture
def make_app(web_archive: Archive) -> Callable[[dict], Flask]:
    from web import create_app

    return lambda overrides: create_app(overrides, archive=web_archive)


@pytest.fixture
def app(make_app: Callable[[dict], Flask]) -> Flask:
    return make_app({"TESTING": True, "WTF_CSRF_ENABLED": False})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def login_as() -> Callable[..., None]:
    def go(client: FlaskClient, username: str, password: str = PASSWORD) -> None:
        response = login(client, username, password)
        assert response.status_code == 302, response.get_data(as_text=True)

    return go
