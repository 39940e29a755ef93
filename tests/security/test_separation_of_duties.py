"""三员分立 (issue 11, item 1): three administrators, none of whom reads documents, no account holding
two of them, and what the two administrators do visible to the auditor."""

from __future__ import annotations

import pytest
from archive_fixtures import PASSWORD, downgrade
from security_support import audit_events, user_id

from archive import access, registry
from archive.actors import OPERATOR
from archive.errors import AccessDenied
from archive.permissions import READING
from archive.roles import AUDITOR, SECURITY_ADMIN, SEPARATED_ROLES, SYSTEM_ADMIN
from archive.services import accounts, audit_log, users


def test_none_of_the_three_reads_documents_and_no_role_holds_two_duties() -> None:
    held = registry.role_permissions()
    for role in SEPARATED_ROLES:
        assert not held[role] & READING, role
    access.check_separation(held)  # what bootstrap runs at start-up
    with pytest.raises(RuntimeError, match="三员分立"):
        access.check_separation({**held, SYSTEM_ADMIN: held[SYSTEM_ADMIN] | held[AUDITOR]})
    with pytest.raises(RuntimeError, match="read documents"):
        access.check_separation({**held, AUDITOR: held[AUDITOR] | {"document.view"}})


@pytest.mark.parametrize(("first", "second"), [(SYSTEM_ADMIN, AUDITOR), (SECURITY_ADMIN, SYSTEM_ADMIN),
                                               (AUDITOR, SECURITY_ADMIN)])
def test_an_account_that_held_one_of_the_three_never_takes_another(web_archive, first, second) -> None:
    users.create_user(web_archive.uow(), actor=OPERATOR, username="duty", password=PASSWORD, role=first,
                      clearance="public")
    admin = users.resolve_actor(web_archive.uow(), username="admin")
    with pytest.raises(AccessDenied, match="三员分立"):
        accounts.request_account_change(web_archive.uow(), actor=admin, user_id=user_id(web_archive, "duty"),
                                        role=second, clearance="public")
    # Not by a detour through staff either: the account remembers its first duty.
    accounts.request_account_change(web_archive.uow(), actor=admin, user_id=user_id(web_archive, "duty"),
                                    role="staff", clearance="public")
    assert users.resolve_actor(web_archive.uow(), username="duty").role == "staff"
    with pytest.raises(AccessDenied, match="三员分立"):
        accounts.request_account_change(web_archive.uow(), actor=admin, user_id=user_id(web_archive, "duty"),
                                        role=second, clearance="public")
    refusals = audit_events(web_archive, event_type="access.denied", actor_name="admin")
    assert len(refusals) == 2 and all(e.detail["permission"] == "role.assign" for e in refusals)


def test_what_the_two_administrators_do_is_visible_to_the_auditor(web_archive) -> None:
    admin = users.resolve_actor(web_archive.uow(), username="admin")
    users.create_user(web_archive.uow(), actor=OPERATOR, username="secadmin", password=PASSWORD,
                      role=SECURITY_ADMIN, clearance="public")
    request_id = accounts.request_account_change(web_archive.uow(), actor=admin,
                                                 user_id=user_id(web_archive, "staff"), role="clerk",
                                                 clearance="internal")
    secadmin = users.resolve_actor(web_archive.uow(), username="secadmin")
    accounts.decide_change_request(web_archive.uow(), actor=secadmin, request_id=request_id, approve=True)
    auditor = users.resolve_actor(web_archive.uow(), username="auditor")
    seen = {(e.actor, e.event_type) for e in audit_log.list_audit_events(web_archive.uow(), actor=auditor)}
    assert ("admin", "user.change_requested") in seen and ("secadmin", "user.change_approved") in seen
    assert audit_events(web_archive, event_type="user.change_approved", actor_name="secadmin")


def test_migration_0008_renames_the_roles_down_and_up(archive) -> None:  # noqa: ANN001 - SQLite and PostgreSQL
    from sqlalchemy import text

    roles = "SELECT username, role FROM user_account WHERE username IN ('admin', 'auditor') ORDER BY username"
    downgrade(archive, "0007")
    with archive.engine.connect() as connection:
        assert connection.execute(text(roles)).all() == [("admin", "admin"), ("auditor", "compliance")]
    archive.migrate()
    with archive.engine.connect() as connection:
        assert connection.execute(text(roles)).all() == [("admin", "sysadmin"), ("auditor", "auditor")]
        duty = "SELECT duty_role FROM user_account WHERE username = 'admin'"
        assert connection.execute(text(duty)).scalar() == "sysadmin"
