"""Logging in and out, lockout, CSRF, and what an anonymous visitor gets."""

from __future__ import annotations

from flask.testing import FlaskClient

from archive.bootstrap import Archive
from archive.services import audit_log, users

PASSWORD = "correct horse battery"  # as in conftest.py


def audit_events(archive: Archive, **filters: str) -> list:
    auditor = users.resolve_actor(archive.uow(), username="auditor")
    return audit_log.list_audit_events(archive.uow(), actor=auditor, **filters)


def test_an_anonymous_visitor_is_sent_to_the_login_page(client: FlaskClient) -> None:
    response = client.get("/customers/")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_the_api_answers_an_anonymous_client_with_401_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/search?q=x&lang=en")
    assert response.status_code == 401
    assert response.get_json() == {"error": {"code": "login_required", "field": None,
                                             "message": "Log in, or send a personal API token (Authorization: Bearer)."}}


def test_a_user_logs_in_and_the_login_is_audited_with_the_address(client: FlaskClient, web_archive: Archive) -> None:
    response = client.post("/login", data={"username": "clerk", "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 302
    assert client.get("/customers/").status_code == 200
    [event] = audit_events(web_archive, event_type="user.logged_in", actor_name="clerk")
    assert event.outcome == "ok"
    assert event.remote_addr == "10.1.2.3"


def test_a_wrong_password_shows_an_error_and_is_audited(client: FlaskClient, web_archive: Archive) -> None:
    response = client.post("/login", data={"username": "clerk", "password": "wrong password"})
    assert response.status_code == 401
    assert "wrong username or password" in response.get_data(as_text=True)
    assert client.get("/customers/").status_code == 302
    [event] = audit_events(web_archive, event_type="user.login_failed", actor_name="clerk")
    assert event.outcome == "failed"


def test_after_five_failures_even_the_right_password_must_wait(
    client: FlaskClient, web_archive: Archive
) -> None:
    for _ in range(5):
        client.post("/login", data={"username": "staff", "password": "wrong password"})
    response = client.post("/login", data={"username": "staff", "password": PASSWORD})
    assert response.status_code == 401
    assert "too many attempts" in response.get_data(as_text=True)
    assert client.get("/customers/").status_code == 302
    assert audit_events(web_archive, event_type="user.throttled", actor_name="staff")


def test_logging_out_ends_the_session_and_is_audited(client: FlaskClient, login_as, web_archive: Archive) -> None:
    login_as(client, "clerk")
    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/customers/").status_code == 302
    assert audit_events(web_archive, event_type="user.logged_out", actor_name="clerk")


def test_login_does_not_redirect_to_another_site(client: FlaskClient) -> None:
    response = client.post("/login?next=//evil.example/x", data={"username": "clerk", "password": PASSWORD})
    assert response.location == "/"


def test_a_post_without_csrf_token_is_refused_when_csrf_is_enabled(make_app) -> None:
    client = make_app({"TESTING": True}).test_client()
    refused = client.post("/login", data={"username": "clerk", "password": PASSWORD})
    assert refused.status_code == 400
    assert client.get("/customers/").status_code == 302

    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    accepted = client.post("/login", data={"username": "clerk", "password": PASSWORD, "csrf_token": token})
    assert accepted.status_code == 302


def test_a_json_post_needs_the_csrf_header_when_csrf_is_enabled(make_app) -> None:
    client = make_app({"TESTING": True}).test_client()
    token = client.get("/login").get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
    client.post("/login", data={"username": "clerk", "password": PASSWORD, "csrf_token": token})
    without = client.post("/api/v1/documents", data={})
    assert without.status_code == 400
    assert "error" in without.get_json()
    token = client.get("/capture/").get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
    with_header = client.post("/api/v1/documents", data={}, headers={"X-CSRFToken": token})
    assert with_header.status_code == 400
    assert "choose at least one file" in with_header.get_json()["error"]["message"]


def test_pages_carry_security_headers_and_a_strict_session_cookie(client: FlaskClient) -> None:
    response = client.post("/login", data={"username": "clerk", "password": PASSWORD})
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
