"""Moving an account to another department: at once within staff/internal; above that, only once a
security administrator approves (三员分立: the system administrator alone cannot widen what a
privileged account sees)."""

from __future__ import annotations

from archive_fixtures import PASSWORD, audit_rows, column_names, downgrade
from sqlalchemy import select

from archive.actors import OPERATOR
from archive.models import User
from archive.services import accounts, users


def _department(archive, username: str) -> str | None:  # noqa: ANN001
    with archive.session_factory() as session:
        user = session.scalar(select(User).where(User.username == username))
        return user.department.code if user.department else None


def _security_admin(archive):  # noqa: ANN001, ANN202
    users.create_user(archive.uow(), actor=OPERATOR, username="sec", password=PASSWORD, role="security_admin",
                      department=None, clearance="public")
    return users.resolve_actor(archive.uow(), username="sec")


def test_a_staff_account_moves_at_once_a_privileged_one_waits_for_approval(archive, people) -> None:  # noqa: ANN001
    admin, sec = people["admin"], _security_admin(archive)
    staff_id, approver_id = people["staff"].user_id, people["approver"].user_id

    assert accounts.change_department(archive.uow(), actor=admin, user_id=staff_id, department="KF") is None
    assert _department(archive, "staff") == "KF"

    waiting = accounts.change_department(archive.uow(), actor=admin, user_id=approver_id, department="KF")
    assert waiting and _department(archive, "approver") == "YX"  # not moved yet
    [pending] = accounts.list_change_requests(archive.uow(), actor=sec)
    assert (pending.id, pending.username, pending.department) == (waiting, "approver", "KF")
    accounts.decide_change_request(archive.uow(), actor=sec, request_id=waiting, approve=True)
    assert _department(archive, "approver") == "KF"
    [approved] = audit_rows(archive, "user.change_approved")
    assert (approved.detail["department_before"], approved.detail["department_after"]) == ("YX", "KF")

    again = accounts.change_department(archive.uow(), actor=admin, user_id=approver_id, department="YX")
    accounts.decide_change_request(archive.uow(), actor=sec, request_id=again, approve=False)
    assert _department(archive, "approver") == "KF"  # rejected: stays


def test_migration_0019_goes_down_and_up(archive, people) -> None:  # noqa: ANN001
    """On both engines (the archive fixture runs on SQLite and on the suite's PostgreSQL)."""
    accounts.change_department(archive.uow(), actor=people["admin"], user_id=people["approver"].user_id,
                               department="KF")
    downgrade(archive, "0018")
    assert "department" not in column_names(archive, "account_change_request")
    archive.migrate()
    assert "department" in column_names(archive, "account_change_request")
