"""Self-service unlock by e-mail (issue 10, item 5), against a real SMTP server the test starts (aiosmtpd):
the link unlocks a throttled account at once, works once, and the request tells nobody whether the
account exists."""

from __future__ import annotations

import re

import pytest
from security_support import audit_events, login

from archive.actors import OPERATOR
from archive.services import users


@pytest.fixture
def mail_app(web_archive, make_app, smtp):  # noqa: ANN001, ANN201
    port, _ = smtp
    web_archive.settings = web_archive.settings.with_overrides(smtp_host="127.0.0.1", smtp_port=port,
                                                               public_url="https://archive.example")
    users.create_user(web_archive.uow(), actor=OPERATOR, username="mailed", password="mailed-user-password-1",
                      role="staff", department="YX", email="mailed@example.com")
    return make_app({"TESTING": True, "WTF_CSRF_ENABLED": False})


def test_a_throttled_user_unlocks_their_account_with_the_emailed_link_once(mail_app, smtp, web_archive):
    _, inbox = smtp
    client = mail_app.test_client()
    for _ in range(7):
        login(client, "mailed", "wrong password", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert login(client, "mailed", "mailed-user-password-1").status_code == 401  # delayed
    assert "/login/unlock" in client.get("/login").get_data(as_text=True)
    assert client.post("/login/unlock", data={"username": "mailed"}).status_code == 302
    (recipients, _subject, message), = inbox.messages
    assert recipients == ["mailed@example.com"]
    link = re.search(r"https://archive\.example(/login/unlock/\S+)", message).group(1)
    assert client.get(link).status_code == 302
    assert login(client, "mailed", "mailed-user-password-1").status_code == 302  # at once
    assert client.get(link).status_code == 302 and "unlock" in client.get(link).location  # used: refused
    assert [e.detail["by"] for e in audit_events(web_archive, event_type="user.unlocked")] == ["e-mail link"]


def test_asking_for_an_unknown_or_addressless_account_looks_the_same_and_sends_nothing(mail_app, smtp, web_archive):
    _, inbox = smtp
    client = mail_app.test_client()
    answers = [client.post("/login/unlock", data={"username": name}) for name in ("nobody", "staff")]
    assert {(a.status_code, a.location) for a in answers} == {(302, "/login")}
    assert inbox.messages == []
    assert [e.detail["sent"] for e in audit_events(web_archive, event_type="user.unlock_requested")] == [False, False]


def test_without_smtp_the_login_page_offers_no_email_unlock(client):
    assert "/login/unlock" not in client.get("/login").get_data(as_text=True)


def test_migration_0007_goes_down_and_up(archive):  # noqa: ANN001 - SQLite and PostgreSQL
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    from archive.bootstrap import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with archive.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
    with archive.engine.connect() as connection:
        assert "email" not in {c["name"] for c in inspect(connection).get_columns("user_account")}
        assert "unlock_token" not in inspect(connection).get_table_names()
    archive.migrate()
    users.create_user(archive.uow(), actor=OPERATOR, username="again", password="again-user-password-1",
                      role="staff", department="YX", email="again@example.com")
