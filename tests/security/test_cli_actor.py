"""Item 7 (ASVS 2.1, 4.1.1): `--as USER` proves the person; a deactivated account does nothing anywhere."""

from __future__ import annotations

from archive_fixtures import PASSWORD
from click.testing import CliRunner
from security_support import audit_events, user_id

from archive.actors import OPERATOR
from archive.cli import cli
from archive.services import users


def run(archive, *args: str, env: dict[str, str] | None = None, password: str | None = None):
    return CliRunner().invoke(cli, list(args), obj={"archive": archive}, env=env or {},
                              input=f"{password}\n" if password is not None else None)


def test_acting_as_a_user_without_a_credential_is_refused(web_archive) -> None:
    result = run(web_archive, "search", "合同", "--as", "clerk")
    assert result.exit_code != 0 and "personal token" in result.output
    assert not audit_events(web_archive, event_type="documents.searched", actor_name="clerk")


def test_the_users_personal_token_lets_them_act(web_archive) -> None:
    clerk = users.resolve_actor(web_archive.uow(), username="clerk")
    token = users.issue_cli_token(web_archive.uow(), actor=clerk)
    result = run(web_archive, "search", "合同", "--as", "clerk", env={"ARCHIVE_TOKEN": token})
    assert result.exit_code == 0, result.output
    assert audit_events(web_archive, event_type="documents.searched", actor_name="clerk")
    assert audit_events(web_archive, event_type="user.token_issued", actor_name="clerk")


def test_someone_elses_token_or_a_forged_one_is_refused_and_audited(web_archive) -> None:
    staff = users.resolve_actor(web_archive.uow(), username="staff")
    token = users.issue_cli_token(web_archive.uow(), actor=staff)
    for wrong in (token, "arch_forged"):
        result = run(web_archive, "search", "合同", "--as", "clerk", env={"ARCHIVE_TOKEN": wrong})
        assert result.exit_code != 0 and "not valid" in result.output
    assert len(audit_events(web_archive, event_type="user.login_failed", actor_name="clerk")) == 2
    assert not audit_events(web_archive, event_type="documents.searched")


def test_the_password_on_a_terminal_lets_the_user_act(web_archive, monkeypatch) -> None:
    from archive.cli import support

    monkeypatch.setattr(support, "_interactive", lambda: True)
    ok = run(web_archive, "search", "合同", "--as", "clerk", password=PASSWORD)
    assert ok.exit_code == 0, ok.output
    wrong = run(web_archive, "search", "合同", "--as", "clerk", password="not the password")
    assert wrong.exit_code != 0 and "wrong username or password" in wrong.output


def test_a_deactivated_account_can_do_nothing_even_on_a_trusted_host(web_archive) -> None:
    clerk = users.resolve_actor(web_archive.uow(), username="clerk")
    token = users.issue_cli_token(web_archive.uow(), actor=clerk)
    admin = users.resolve_actor(web_archive.uow(), username="admin")
    users.set_user_active(web_archive.uow(), actor=admin, user_id=user_id(web_archive, "clerk"), active=False)
    web_archive.settings = web_archive.settings.with_overrides(cli_trusted=True)
    assert run(web_archive, "search", "合同", "--as", "clerk").exit_code != 0
    assert run(web_archive, "search", "合同", "--as", "clerk", env={"ARCHIVE_TOKEN": token}).exit_code != 0
    assert not audit_events(web_archive, event_type="documents.searched")


def test_a_trusted_host_names_the_person_without_a_credential(web_archive) -> None:
    web_archive.settings = web_archive.settings.with_overrides(cli_trusted=True)
    assert run(web_archive, "search", "合同", "--as", "clerk").exit_code == 0
    users.create_user(web_archive.uow(), actor=OPERATOR, username="x_user", password=PASSWORD, role="staff",
                      department="YX")


def test_the_operator_creates_the_first_security_administrator(web_archive) -> None:
    result = run(web_archive, "user", "add", "sec1", "--role", "security_admin", "--clearance", "public",
                 env={"ARCHIVE_NEW_PASSWORD": "a long enough passphrase"})
    assert result.exit_code == 0, result.output
    assert users.resolve_actor(web_archive.uow(), username="sec1").role == "security_admin"
