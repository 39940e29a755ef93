"""Item 5 (ASVS V2, V3): sessions that end when they should, throttled logins that lock nobody out for
good and tell known from unknown names by nothing, local-only redirects, the password policy."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from archive_fixtures import PASSWORD
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from security_support import audit_events, login, user_id
from sqlalchemy import select, update

from archive.models import utcnow
from archive.security.models import SecurityCounter, WebSession
from archive.services import users

NEW_PASSWORD = "a brand new passphrase 42"


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


# --- sessions -----------------------------------------------------------------------------------------


def test_a_saved_session_cookie_no_longer_works_after_logout(client: FlaskClient, login_as, web_archive) -> None:
    login_as(client, "clerk")
    saved = session_cookie(client)
    assert client.get("/customers/").status_code == 200
    client.post("/logout")
    client.set_cookie("session", saved)  # the attacker replays the cookie saved before logout
    assert client.get("/customers/").status_code == 302
    assert audit_events(web_archive, event_type="user.logged_out", actor_name="clerk")


def test_the_cookie_holds_a_token_whose_hash_alone_is_stored(client: FlaskClient, login_as, web_archive) -> None:
    login_as(client, "clerk")
    token = session_cookie(client)
    with web_archive.uow() as uow:
        ids = set(uow.session.scalars(select(WebSession.id)))
    assert token not in ids and len(ids) >= 1


def test_login_issues_a_new_session_token(client: FlaskClient) -> None:
    client.get("/login")
    before = client.get_cookie("session")
    login(client, "clerk")
    assert before is None or session_cookie(client) != before.value


def test_changing_the_password_ends_the_users_other_sessions(make_app, login_as, web_archive) -> None:
    app = make_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
    laptop, phone = app.test_client(), app.test_client()
    login_as(laptop, "staff")
    login_as(phone, "staff")
    response = laptop.post("/account/password", data={"current": PASSWORD, "new": NEW_PASSWORD,
                                                      "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert laptop.get("/customers/").status_code == 200
    assert phone.get("/customers/").status_code == 302
    [event] = audit_events(web_archive, event_type="user.password_changed", actor_name="staff")
    assert event.outcome == "ok" and event.detail["sessions_ended"] == 1
    assert login(phone, "staff", NEW_PASSWORD).status_code == 302


def test_a_wrong_current_password_changes_nothing_and_is_audited(client, login_as, web_archive) -> None:
    login_as(client, "staff")
    response = client.post("/account/password", data={"current": "not my password", "new": NEW_PASSWORD,
                                                      "confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert login(client.application.test_client(), "staff", PASSWORD).status_code == 302
    [event] = audit_events(web_archive, event_type="user.password_changed", actor_name="staff")
    assert event.outcome == "failed"


def test_deactivating_an_account_ends_its_sessions_at_once(make_app, login_as, web_archive) -> None:
    app = make_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
    staff, admin = app.test_client(), app.test_client()
    login_as(staff, "staff")
    login_as(admin, "admin")
    assert admin.post(f"/admin/users/{user_id(web_archive, 'staff')}/deactivate").status_code == 302
    assert staff.get("/customers/").status_code == 302
    with web_archive.uow() as uow:
        assert not uow.session.scalars(select(WebSession).where(
            WebSession.user_id == user_id(web_archive, "admin") + 10_000)).all()
    [event] = audit_events(web_archive, event_type="user.deactivated", actor_name="admin")
    assert event.detail["sessions_ended"] == 1
    assert login(staff, "staff").status_code == 401


def test_staff_cannot_deactivate_anyone(client, login_as, web_archive) -> None:
    login_as(client, "staff")
    assert client.post(f"/admin/users/{user_id(web_archive, 'clerk')}/deactivate").status_code == 403
    assert login(client.application.test_client(), "clerk").status_code == 302
    assert not audit_events(web_archive, event_type="user.deactivated")
    assert audit_events(web_archive, event_type="access.denied", actor_name="staff")


@pytest.mark.parametrize(("column", "age"), [("last_seen_at", timedelta(minutes=31)),
                                             ("created_at", timedelta(hours=13))])
def test_an_idle_or_too_old_session_ends(client, login_as, web_archive, column, age) -> None:
    login_as(client, "clerk")
    with web_archive.uow() as uow:
        uow.session.execute(update(WebSession).values({column: utcnow() - age}))
        uow.commit()
    assert client.get("/customers/").status_code == 302


# --- throttling instead of lockout; no enumeration --------------------------------------------------------


def _fail(client: FlaskClient, username: str, times: int, addr: str = "10.0.0.1") -> list:
    return [login(client, username, "wrong password", environ_base={"REMOTE_ADDR": addr})
            for _ in range(times)]


def test_anonymous_failures_delay_but_do_not_lock_the_account(client, web_archive, monkeypatch) -> None:
    _fail(client, "staff", 5)
    assert login(client, "staff").status_code == 401  # within the delay: even the right password waits
    later = utcnow() + timedelta(seconds=2)
    monkeypatch.setattr(users, "utcnow", lambda: later)
    assert login(client, "staff").status_code == 302  # the delay is over: the owner gets in


def test_delays_grow_with_each_failure_up_to_the_cap(web_archive) -> None:
    from archive.security.throttle import login_delay

    assert [login_delay(n, 5, 900) for n in (0, 4, 5, 6, 7, 14, 15, 40)] == [0, 0, 1, 2, 4, 512, 900, 900]


def test_an_attack_script_cannot_tell_known_from_unknown_names(client, web_archive) -> None:
    """Try a known and an unknown name alike: every answer, throttled or not, is the same."""
    def answer(response) -> tuple[int, str]:
        body = re.sub(r'content="[^"]*"|value="[^"]*"', "", response.get_data(as_text=True))
        return response.status_code, body

    known = [answer(r) for r in _fail(client, "staff", 7, "10.0.0.2")]
    unknown = [answer(r) for r in _fail(client, "nobody", 7, "10.0.0.3")]
    assert known == unknown
    assert "尝试次数过多" in known[-1][1]


def test_an_unknown_name_costs_the_same_password_check_as_a_known_one(client, monkeypatch) -> None:
    calls: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            calls.append(str(hash).split("$")[3])  # the Argon2 parameters m, t, p
            return super().verify(hash, password)

    hasher = users._hasher
    monkeypatch.setattr(users, "_hasher", Counting(hasher.time_cost, hasher.memory_cost, hasher.parallelism))
    login(client, "staff", "wrong password")
    login(client, "nobody-at-all", "wrong password")
    assert len(calls) == 2 and calls[0] == calls[1]  # the same Argon2 parameters for both


def test_one_address_trying_many_names_is_slowed_down(client) -> None:
    for n in range(20):
        login(client, f"name{n}", "wrong password", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    response = login(client, "staff", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert response.status_code == 401 and "尝试次数过多" in response.get_data(as_text=True)
    assert login(client, "staff", environ_base={"REMOTE_ADDR": "10.9.9.10"}).status_code == 302


def test_an_administrator_unlocks_a_throttled_account(make_app, login_as, web_archive) -> None:
    app = make_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
    victim, admin = app.test_client(), app.test_client()
    _fail(victim, "staff", 9)
    assert login(victim, "staff").status_code == 401
    login_as(admin, "admin")
    assert admin.post(f"/admin/users/{user_id(web_archive, 'staff')}/unlock").status_code == 302
    assert login(victim, "staff", environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 302
    assert audit_events(web_archive, event_type="user.unlocked", actor_name="admin")


def test_staff_cannot_unlock_an_account(client, login_as, web_archive) -> None:
    _fail(client.application.test_client(), "clerk", 9)
    login_as(client, "staff")
    assert client.post(f"/admin/users/{user_id(web_archive, 'clerk')}/unlock").status_code == 403
    with web_archive.uow() as uow:
        assert uow.session.get(SecurityCounter, "login:user:clerk").count == 5  # waits are not counted
    assert not audit_events(web_archive, event_type="user.unlocked")


# --- redirects -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/%09/evil.example", "//evil.example", "/\\evil.example", "https://evil.example",
                                    "/%0d%0aSet-Cookie:x=1", "/ /evil.example", "%2F%2Fevil.example"])
def test_login_never_redirects_off_site_nor_fails(client: FlaskClient, target: str) -> None:
    response = client.post(f"/login?next={target}", data={"username": "clerk", "password": PASSWORD})
    assert response.status_code == 302
    assert response.location == "/"


def test_login_follows_a_local_next(client: FlaskClient) -> None:
    response = client.post("/login?next=/search/%3Fq%3Dx", data={"username": "clerk", "password": PASSWORD})
    assert response.location == "/search/?q=x"


# --- password policy -------------------------------------------------------------------------------------


@pytest.mark.parametrize("weak", ["12345678", "short-pw", "password1234", "qwertyuiop123", "aaaaaaaaaaaaaa"])
def test_weak_passwords_are_refused(client, login_as, weak) -> None:
    login_as(client, "staff")
    response = client.post("/account/password", data={"current": PASSWORD, "new": weak, "confirm": weak})
    assert response.status_code == 400
    assert login(client.application.test_client(), "staff", PASSWORD).status_code == 302


# --- one-time passwords ------------------------------------------------------------------------------------


def test_a_one_time_password_opens_only_the_password_change(make_app, login_as, web_archive) -> None:
    app = make_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
    admin, user = app.test_client(), app.test_client()
    login_as(admin, "admin")
    page = admin.post(f"/admin/users/{user_id(web_archive, 'clerk')}/reset-password").get_data(as_text=True)
    one_time = page.split('class="one-time-password">')[1].split("<")[0]
    assert audit_events(web_archive, event_type="user.password_reset", actor_name="admin")
    assert login(user, "clerk", PASSWORD).status_code == 401  # the old password is gone
    response = login(user, "clerk", one_time)
    assert response.location == "/account/password"
    assert user.get("/customers/").location == "/account/password"
    assert user.get("/api/v1/search?q=x").status_code == 403
    actor = users.resolve_actor(web_archive.uow(), username="clerk")
    assert actor.permissions == frozenset()  # every service refuses, whichever entry point
    user.post("/account/password", data={"current": one_time, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert user.get("/customers/").status_code == 200


# --- headers and ids -----------------------------------------------------------------------------------------


def test_secure_cookies_and_hsts_when_configured(tmp_path) -> None:
    from archive_fixtures import build_archive

    from archive.config import load_settings
    from web import create_app

    archive = build_archive(tmp_path / "home")
    archive.settings = load_settings({"ARCHIVE_HOME": str(tmp_path / "home"), "ARCHIVE_SECURE_COOKIES": "true"})
    client = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, archive=archive).test_client()
    response = login(client, "clerk", base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=") and "Secure" in cookie and "HttpOnly" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    archive.close()


def test_pages_and_json_are_never_cached(client, login_as) -> None:
    login_as(client, "clerk")
    for path in ("/customers/", "/api/v1/search?q=x", "/search/?q=x"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path


@pytest.mark.parametrize("path", ["/documents/9223372036854775808", "/api/v1/documents/99999999999999999999",
                                  "/customers/9223372036854775808"])
def test_ids_beyond_the_database_range_are_not_found(client, login_as, path) -> None:
    login_as(client, "clerk")
    assert client.get(path).status_code == 404


def test_a_one_time_password_expires_after_72_hours(client, web_archive, monkeypatch) -> None:
    from archive.services import accounts

    admin = users.resolve_actor(web_archive.uow(), username="admin")
    one_time = accounts.reset_password(web_archive.uow(), actor=admin, user_id=user_id(web_archive, "staff"))
    later = utcnow() + timedelta(hours=73)
    monkeypatch.setattr(users, "utcnow", lambda: later)
    assert login(client, "staff", one_time).status_code == 401
    [event] = audit_events(web_archive, event_type="user.login_failed", actor_name="staff")
    assert event.detail["reason"] == "one-time password expired"


# --- the optional TOTP second factor ----------------------------------------------------------------------


def test_with_totp_on_the_password_alone_no_longer_logs_in(make_app, login_as, web_archive) -> None:
    import pyotp

    app = make_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
    admin = app.test_client()
    login_as(admin, "admin")
    page = admin.get("/account/totp").get_data(as_text=True)
    secret = page.split('class="totp-secret">')[1].split("<")[0]
    assert admin.post("/account/totp", data={"code": "000000"}).status_code in (400, 302)
    assert admin.post("/account/totp", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert audit_events(web_archive, event_type="user.totp_enabled", actor_name="admin")
    fresh = app.test_client()
    assert login(fresh, "admin").status_code == 401  # the password alone
    [event] = audit_events(web_archive, event_type="user.login_failed", actor_name="admin")
    assert event.detail["reason"] == "wrong second factor"
    response = fresh.post("/login", data={"username": "admin", "password": PASSWORD,
                                          "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302


def test_a_role_that_needs_totp_can_do_nothing_before_enrolling(client, login_as, web_archive) -> None:
    import pyotp

    web_archive.settings = web_archive.settings.with_overrides(totp_required_roles=("sysadmin", "auditor"))
    login_as(client, "admin")
    assert client.get("/admin/users").location == "/account/totp"
    assert client.get("/api/v1/search?q=x").status_code == 403
    assert users.resolve_actor(web_archive.uow(), username="admin").permissions == frozenset()
    secret = client.get("/account/totp").get_data(as_text=True).split('class="totp-secret">')[1].split("<")[0]
    client.post("/account/totp", data={"code": pyotp.TOTP(secret).now()})
    assert client.get("/admin/users").status_code == 200
    assert users.resolve_actor(web_archive.uow(), username="staff").permissions  # other roles unaffected
