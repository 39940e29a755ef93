"""The account review: unused and changed accounts, a campaign decided account by account and signed off
as a kept record, and the nightly auto-disable, on an injected clock (nothing sleeps)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from archive_fixtures import PASSWORD, downgrade
from sqlalchemy import select, update

from archive import audit
from archive.account_review import services
from archive.account_review.models import AccountReview, AccountReviewItem
from archive.account_review.permissions import INACTIVITY_ACTOR
from archive.actors import OPERATOR, Actor
from archive.errors import AccessDenied, NotFoundError, ValidationError
from archive.models import AuditEvent, User
from archive.ports import SetClock
from archive.security.models import WebSession
from archive.services import accounts, users

START = datetime.now(UTC)


@pytest.fixture
def secadmins(web_archive):  # noqa: ANN001, ANN201
    for name in ("sec1", "sec2"):
        users.create_user(web_archive.uow(), actor=OPERATOR, username=name, password=PASSWORD,
                          role="security_admin", clearance="secret")


def actor(archive, username):  # noqa: ANN001, ANN201
    return users.resolve_actor(archive.uow(), username=username)


def user_id(archive, username):  # noqa: ANN001, ANN201
    with archive.session_factory() as session:
        return session.scalar(select(User.id).where(User.username == username))


def use_account(archive, username, at):  # noqa: ANN001, ANN201
    """The account does something at that instant of the archive's clock (audit times are the wall clock's)."""
    with archive.session_factory() as session:
        user = session.scalar(select(User).where(User.username == username))
        event = audit.record(session, Actor(user_id=user.id, username=username, role=user.role), "user.logged_in")
        event.occurred_at = at
        session.commit()


def events(archive, event_type):  # noqa: ANN001, ANN201
    with archive.session_factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.event_type == event_type)
                                    .order_by(AuditEvent.id)))


def test_accounts_unused_in_n_days_are_listed_on_the_archives_clock(web_archive, secadmins):
    sec1 = actor(web_archive, "sec1")
    assert services.inactive_accounts(web_archive.uow(), actor=sec1, days=30) == []
    now = START + timedelta(days=31, hours=1)
    web_archive.clock = SetClock(now)
    use_account(web_archive, "staff", now - timedelta(days=2))
    found = {a.username: a for a in services.inactive_accounts(web_archive.uow(), actor=sec1, days=30)}
    assert "clerk" in found and found["clerk"].idle_days == 31 and "staff" not in found
    assert services.inactive_accounts(web_archive.uow(), actor=sec1, days=40) == []
    assert events(web_archive, "account_review.accounts_listed")[-1].detail["days"] == 40


def test_accounts_whose_role_or_clearance_changed_are_listed(web_archive, secadmins):
    admin = actor(web_archive, "admin")
    staff = user_id(web_archive, "staff")
    request_id = accounts.request_account_change(web_archive.uow(), actor=admin, user_id=staff, role="approver",
                                                 clearance="confidential")
    accounts.decide_change_request(web_archive.uow(), actor=actor(web_archive, "sec1"), request_id=request_id,
                                   approve=True)
    changed = services.changed_accounts(web_archive.uow(), actor=actor(web_archive, "sec2"),
                                        since=START - timedelta(days=1))
    assert [(c.username, c.before, c.after) for c in changed] == [
        ("staff", ["staff", "internal"], ["approver", "confidential"])]


def test_only_the_security_administrator_reviews_accounts(web_archive, secadmins):
    for name in ("admin", "auditor", "staff"):
        with pytest.raises(AccessDenied):
            services.start_review(web_archive.uow(), actor=actor(web_archive, name))
    with web_archive.session_factory() as session:
        assert session.scalar(select(AccountReview.id)) is None
    assert [e.actor_name for e in events(web_archive, "access.denied")] == ["admin", "auditor", "staff"]


def test_a_review_is_decided_account_by_account_and_signed_off_as_a_kept_record(web_archive, secadmins):
    sec1, sec2 = actor(web_archive, "sec1"), actor(web_archive, "sec2")
    now = START + timedelta(days=100, hours=1)
    web_archive.clock = SetClock(now)
    use_account(web_archive, "approver", now - timedelta(days=1))
    review_id = services.start_review(web_archive.uow(), actor=sec1, inactive_days=90)
    with pytest.raises(ValidationError):
        services.start_review(web_archive.uow(), actor=sec2)  # one open at a time
    review = services.get_review(web_archive.uow(), actor=sec1, review_id=review_id)
    flags = {item.username: item.inactive for item in review.items}
    assert flags["staff"] and flags["clerk"] and not flags["approver"]
    assert len(review.items) == len(users.list_users(web_archive.uow(), actor=actor(web_archive, "admin")))
    with pytest.raises(AccessDenied):  # nobody decides their own account
        services.decide_account(web_archive.uow(), actor=sec1, review_id=review_id,
                                user_id=user_id(web_archive, "sec1"), disable=False)
    with pytest.raises(ValidationError):  # disabling needs a reason
        services.decide_account(web_archive.uow(), actor=sec1, review_id=review_id,
                                user_id=user_id(web_archive, "staff"), disable=True)
    staff = user_id(web_archive, "staff")
    with web_archive.session_factory() as session:
        session.add(WebSession(id="s" * 64, user_id=staff, data={}))
        session.commit()
    services.decide_account(web_archive.uow(), actor=sec1, review_id=review_id, user_id=staff, disable=True,
                            comment="调岗离开")
    with web_archive.session_factory() as session:
        assert not session.get(User, staff).active and session.get(WebSession, "s" * 64) is None
    with pytest.raises(NotFoundError):
        users.resolve_actor(web_archive.uow(), username="staff")
    with pytest.raises(ValidationError):  # a decision is final within the review
        services.decide_account(web_archive.uow(), actor=sec1, review_id=review_id, user_id=staff, disable=False)
    with pytest.raises(ValidationError, match="not decided"):
        services.sign_off_review(web_archive.uow(), actor=sec1, review_id=review_id)
    for item in services.get_review(web_archive.uow(), actor=sec1, review_id=review_id).items:
        if item.decision is None and item.username != "sec1":
            services.decide_account(web_archive.uow(), actor=sec1, review_id=review_id, user_id=item.user_id,
                                    disable=False)
    digest = services.sign_off_review(web_archive.uow(), actor=sec1, review_id=review_id, comment="2026 年度复核")
    signed = services.get_review(web_archive.uow(), actor=sec2, review_id=review_id)
    assert signed.status == "signed_off" and signed.digest == digest and signed.signed_off_by == "sec1"
    assert {i.username: i.decision for i in signed.items}["sec1"] == "own_account"
    assert services.verify_review(web_archive.uow(), actor=sec2, review_id=review_id)
    (event,) = events(web_archive, "account_review.signed_off")
    assert event.detail["sha256"] == digest and event.detail["disabled"] == 1
    assert {a["username"]: a["decision"] for a in event.detail["record"]["accounts"]}["staff"] == "disabled"
    with pytest.raises(ValidationError):  # a signed-off review no longer changes
        services.decide_account(web_archive.uow(), actor=sec2, review_id=review_id,
                                user_id=user_id(web_archive, "sec1"), disable=False)
    with web_archive.session_factory() as session:  # changed behind the service's back: the digest tells
        session.execute(update(AccountReviewItem).where(AccountReviewItem.username == "clerk")
                        .values(decision="disabled"))
        session.commit()
    assert not services.verify_review(web_archive.uow(), actor=sec2, review_id=review_id)
    assert [e.detail["username"] for e in events(web_archive, "user.deactivated")] == ["staff"]
    # The next review counts changes from this sign-off.
    assert services.last_signed_off(web_archive.uow()) == signed.signed_off_at


def test_the_review_pages_take_the_security_administrator_through_a_campaign(app, login_as, web_archive, secadmins):
    client = app.test_client()
    login_as(client, "sec1")
    assert 'href="/account-review/"' in client.get("/account-review/?lang=en").get_data(as_text=True)
    started = client.post("/account-review/", data={"days": "30"})
    assert started.status_code == 302
    page = client.get(started.headers["Location"] + "?lang=en").get_data(as_text=True)
    clerk = user_id(web_archive, "clerk")
    assert f'id="account-{clerk}"' in page and "Sign off the review" in page
    client.post(f"/account-review/1/accounts/{clerk}", data={"decision": "disable", "comment": "离职"})
    with web_archive.session_factory() as session:
        assert not session.get(User, clerk).active
    staff = app.test_client()
    login_as(staff, "staff")
    assert staff.get("/account-review/").status_code in (403, 404)


def test_unused_accounts_are_disabled_nightly_only_when_configured(web_archive, secadmins):
    sec1 = actor(web_archive, "sec1")
    web_archive.clock = SetClock(START + timedelta(days=400))
    assert services.disable_inactive_accounts(web_archive.uow(), actor=INACTIVITY_ACTOR) == []  # off by default
    assert users.resolve_actor(web_archive.uow(), username="clerk")
    web_archive.settings = web_archive.settings.with_overrides(account_inactive_days=30)
    web_archive.clock = SetClock(START + timedelta(days=20))
    assert services.disable_inactive_accounts(web_archive.uow(), actor=INACTIVITY_ACTOR) == []
    now = START + timedelta(days=31, hours=1)
    web_archive.clock = SetClock(now)
    use_account(web_archive, "approver", now - timedelta(days=29))
    disabled = services.disable_inactive_accounts(web_archive.uow(), actor=INACTIVITY_ACTOR)
    assert "clerk" in disabled and "staff" in disabled and "approver" not in disabled
    with pytest.raises(NotFoundError):
        users.resolve_actor(web_archive.uow(), username="clerk")
    trail = events(web_archive, "user.deactivated")
    assert {e.detail["username"] for e in trail} == set(disabled)
    assert all(e.actor_name == "system:account-inactivity" and e.detail["reason"] == "inactive" for e in trail)
    # Re-enabled by the administrator, an account starts a new period: not disabled again the next night.
    users.set_user_active(web_archive.uow(), actor=OPERATOR, user_id=user_id(web_archive, "clerk"), active=True)
    web_archive.clock = SetClock(datetime.now(UTC) + timedelta(days=1))
    assert "clerk" not in services.disable_inactive_accounts(web_archive.uow(), actor=INACTIVITY_ACTOR)
    with pytest.raises(AccessDenied):
        services.disable_inactive_accounts(web_archive.uow(), actor=sec1)  # only the nightly job's actor


def test_the_setting_is_read_from_the_environment():
    from archive.config import load_settings

    assert load_settings({"ARCHIVE_HOME": "/tmp/x"}).account_inactive_days == 0
    assert load_settings({"ARCHIVE_HOME": "/tmp/x", "ARCHIVE_ACCOUNT_INACTIVE_DAYS": "120"}).account_inactive_days == 120


def test_migration_0012_goes_down_and_up(archive):  # noqa: ANN001 - SQLite and PostgreSQL
    from sqlalchemy import inspect

    downgrade(archive, "0011")
    with archive.engine.connect() as connection:
        tables = inspect(connection).get_table_names()
        assert "account_review" not in tables and "account_review_item" not in tables
        assert "ix_audit_event_period_actor" not in {i["name"] for i in inspect(connection).get_indexes("audit_event")}
    archive.migrate()
    with archive.engine.connect() as connection:
        assert "ix_audit_event_period_actor" in {i["name"] for i in inspect(connection).get_indexes("audit_event")}
    users.create_user(archive.uow(), actor=OPERATOR, username="sec", password=PASSWORD, role="security_admin",
                      clearance="secret")
    review_id = services.start_review(archive.uow(), actor=users.resolve_actor(archive.uow(), username="sec"))
    assert review_id == 1
