"""A database or object store that is unavailable answers 503 (page or JSON), not a bare 500.

The real outages (PostgreSQL restarted, S3 unreachable, a full disk) are in
tests/integration/test_scale_out.py; here the driver's error is raised where the outage would raise it.
"""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from archive.security import sessions
from archive.services import searching

DOWN = OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused"))


def test_a_session_the_database_cannot_load_answers_503_json_for_the_api(client, login_as, monkeypatch):
    login_as(client, "staff")
    monkeypatch.setattr(sessions, "load_session", lambda *args, **kwargs: (_ for _ in ()).throw(DOWN))

    answer = client.get("/api/v1/search?q=x")

    assert answer.status_code == 503
    assert answer.get_json()["service"] == "database"
    assert answer.headers["Retry-After"] == "5"


def test_a_page_whose_query_loses_the_database_answers_a_503_page(client, login_as, monkeypatch):
    login_as(client, "staff")
    monkeypatch.setattr(searching, "search_documents", lambda *args, **kwargs: (_ for _ in ()).throw(DOWN))

    answer = client.get("/search/?q=x", headers={"Accept": "text/html"})

    assert answer.status_code == 503
    assert "503" in answer.get_data(as_text=True)


def test_other_database_errors_stay_500s(app, client, login_as, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    login_as(client, "staff")
    bug = IntegrityError("INSERT", {}, psycopg.IntegrityError("duplicate key"))
    monkeypatch.setattr(searching, "search_documents", lambda *args, **kwargs: (_ for _ in ()).throw(bug))

    assert client.get("/api/v1/search?q=x").status_code == 500


@pytest.fixture(autouse=True)
def _no_propagation(app):  # noqa: ANN001, PT004 - TESTING propagates exceptions; the handlers are the subject
    app.config["PROPAGATE_EXCEPTIONS"] = False
