"""Item 1 (ASVS 1.4.1, 4.1.3, 2.5.1, 7.1.3): no path from administration to content; account changes
need a second person and are audited."""

from __future__ import annotations

import io

import pytest
from archive_fixtures import PASSWORD
from security_support import audit_events, login, user_id

from archive.actors import OPERATOR
from archive.identity import resident_id_check_digit
from archive.services import users

CUSTOMER = "11010519491231002" + resident_id_check_digit("11010519491231002")
MOLE_PASSWORD = "the mole's own password 7"


@pytest.fixture
def security_admin(web_archive) -> str:
    users.create_user(web_archive.uow(), actor=OPERATOR, username="secadmin", password=PASSWORD,
                      role="security_admin", clearance="public")
    return "secadmin"


def _captured(app, login_as, tmp_path) -> int:
    from archive.demo.samples import write_scan

    clerk = app.test_client()
    login_as(clerk, "clerk")
    path = write_scan(tmp_path / "c.png", ["供用电合同"], format="PNG")
    data = {"customer": CUSTOMER, "customer_name": "张三", "document_type": "supply_contract",
            "classification": "confidential", "files": (io.BytesIO(path.read_bytes()), "c.png")}
    answer = clerk.post("/api/v1/documents", data=data, content_type="multipart/form-data")
    return answer.get_json()["documents"][0]["document_id"]


def _create(admin, **fields: str) -> str:
    page = admin.post("/admin/users", data=fields).get_data(as_text=True)
    return page.split('class="one-time-password">')[1].split("<")[0]


def test_the_attack_script_admin_makes_a_secret_clerk_and_downloads_fails(make_app, login_as, web_archive,
                                                                          tmp_path) -> None:
    app = make_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
    document_id = _captured(app, login_as, tmp_path)
    admin = app.test_client()
    login_as(admin, "admin")
    one_time = _create(admin, username="mole", role="clerk", department="YX", clearance="secret")
    mole = users.resolve_actor(web_archive.uow(), username="mole")
    assert (mole.role, mole.clearance, mole.must_change_password) == ("staff", "internal", True)
    # The administrator logs in as the new account: the one-time password opens only the password change.
    as_mole = app.test_client()
    assert login(as_mole, "mole", one_time).location == "/account/password"
    assert as_mole.get(f"/documents/{document_id}/original").status_code in (302, 403, 404)
    as_mole.post("/account/password", data={"current": one_time, "new": MOLE_PASSWORD, "confirm": MOLE_PASSWORD})
    # Even then: staff with internal clearance, no download, no confidential document.
    assert as_mole.get(f"/documents/{document_id}/original").status_code in (403, 404)
    assert as_mole.get(f"/documents/{document_id}").status_code == 404
    [created] = audit_events(web_archive, event_type="user.created", actor_name="admin")
    assert created.detail["role"] == "staff" and created.detail["one_time_password"] is True
    [asked] = audit_events(web_archive, event_type="user.change_requested", actor_name="admin")
    assert (asked.detail["role"], asked.detail["clearance"]) == ("clerk", "secret")


def test_the_administrator_cannot_approve_the_change_it_asked_for(client, login_as, web_archive) -> None:
    login_as(client, "admin")
    _create(client, username="mole", role="clerk", department="YX", clearance="secret")
    assert client.get("/admin/approvals").status_code == 403
    assert client.post("/admin/approvals/1/approve").status_code == 403
    assert users.resolve_actor(web_archive.uow(), username="mole").role == "staff"
    assert not audit_events(web_archive, event_type="user.change_approved")


def test_a_security_administrator_approves_and_the_change_applies(make_app, login_as, web_archive,
                                                                 security_admin) -> None:
    app = make_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
    admin, second = app.test_client(), app.test_client()
    login_as(admin, "admin")
    _create(admin, username="newclerk", role="clerk", department="YX", clearance="confidential")
    login_as(second, security_admin)
    page = second.get("/admin/approvals").get_data(as_text=True)
    assert "newclerk" in page
    assert second.post("/admin/approvals/1/approve").status_code == 302
    approved = users.resolve_actor(web_archive.uow(), username="newclerk")
    assert (approved.role, approved.clearance) == ("clerk", "confidential")
    [event] = audit_events(web_archive, event_type="user.change_approved", actor_name=security_admin)
    assert event.detail["requested_by"] == "admin" and event.detail["after"] == ["clerk", "confidential"]
    assert second.post("/admin/approvals/1/approve").status_code == 404  # decided once


def test_a_rejected_change_leaves_the_account_as_it_was(make_app, login_as, web_archive, security_admin) -> None:
    app = make_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
    admin, second = app.test_client(), app.test_client()
    login_as(admin, "admin")
    admin.post(f"/admin/users/{user_id(web_archive, 'staff')}/change", data={"role": "clerk", "clearance": "secret"})
    login_as(second, security_admin)
    assert second.post("/admin/approvals/1/reject").status_code == 302
    staff = users.resolve_actor(web_archive.uow(), username="staff")
    assert (staff.role, staff.clearance) == ("staff", "internal")
    assert audit_events(web_archive, event_type="user.change_rejected", actor_name=security_admin)


def test_nobody_approves_a_change_of_their_own_account(web_archive, security_admin) -> None:
    from archive.errors import AccessDenied
    from archive.services import accounts

    admin = users.resolve_actor(web_archive.uow(), username="admin")
    request_id = accounts.request_account_change(web_archive.uow(), actor=admin,
                                                 user_id=user_id(web_archive, security_admin), role="approver",
                                                 clearance="secret")
    second = users.resolve_actor(web_archive.uow(), username=security_admin)
    with pytest.raises(AccessDenied):
        accounts.decide_change_request(web_archive.uow(), actor=second, request_id=request_id, approve=True)
    assert users.resolve_actor(web_archive.uow(), username=security_admin).role == "security_admin"
    assert audit_events(web_archive, event_type="access.denied", actor_name=security_admin)


def test_a_change_within_staff_and_internal_applies_at_once_and_is_audited(client, login_as, web_archive) -> None:
    login_as(client, "admin")
    client.post(f"/admin/users/{user_id(web_archive, 'staff_secret')}/change",
                data={"role": "staff", "clearance": "public"})
    assert users.resolve_actor(web_archive.uow(), username="staff_secret").clearance == "public"
    [event] = audit_events(web_archive, event_type="user.change_approved", actor_name="admin")
    assert event.detail["approval"] == "not needed"


def test_the_auditor_sees_account_changes(make_app, login_as, web_archive) -> None:
    app = make_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
    admin, auditor = app.test_client(), app.test_client()
    login_as(admin, "admin")
    _create(admin, username="mole", role="clerk", department="YX", clearance="secret")
    login_as(auditor, "auditor")
    page = auditor.get("/compliance/").get_data(as_text=True)
    assert "user.created" in page and "user.change_requested" in page


def test_resetting_a_clerks_password_is_no_way_into_content(make_app, login_as, web_archive, tmp_path) -> None:
    app = make_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
    document_id = _captured(app, login_as, tmp_path)
    admin = app.test_client()
    login_as(admin, "admin")
    page = admin.post(f"/admin/users/{user_id(web_archive, 'clerk')}/reset-password").get_data(as_text=True)
    one_time = page.split('class="one-time-password">')[1].split("<")[0]
    clerk = users.resolve_actor(web_archive.uow(), username="clerk")
    assert (clerk.role, clerk.clearance) == ("staff", "internal")  # until a security administrator restores it
    taken = app.test_client()
    login(taken, "clerk", one_time)
    taken.post("/account/password", data={"current": one_time, "new": MOLE_PASSWORD, "confirm": MOLE_PASSWORD})
    assert taken.get(f"/documents/{document_id}/original").status_code in (403, 404)
    [reset] = audit_events(web_archive, event_type="user.password_reset", actor_name="admin")
    [asked] = audit_events(web_archive, event_type="user.change_requested", actor_name="admin")
    assert reset.detail["restore_request_id"] == asked.detail["request_id"]
    assert (asked.detail["role"], asked.detail["clearance"]) == ("clerk", "confidential")


def test_resetting_a_security_administrator_takes_away_the_approval_right(make_app, login_as, web_archive,
                                                                         security_admin) -> None:
    from archive.services import accounts

    admin = users.resolve_actor(web_archive.uow(), username="admin")
    accounts.reset_password(web_archive.uow(), actor=admin, user_id=user_id(web_archive, security_admin))
    assert users.resolve_actor(web_archive.uow(), username=security_admin).role == "staff"
