"""Borrowing 借阅 (issue 11): requests, approval chains chosen by classification, delegation and
escalation, grants the access policy honours everywhere and that end to the second, originals lent and
returned with reminders (against a real SMTP server), classification changes — on SQLite and PostgreSQL,
with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from archive_fixtures import PASSWORD, audit_rows, captured, downgrade

from archive.actors import OPERATOR
from archive.bootstrap import Archive
from archive.borrowing import chains, services
from archive.borrowing.permissions import BORROW_ACTOR
from archive.errors import AccessDenied, NotFoundError, ValidationError
from archive.identity import resident_id_check_digit
from archive.models import Document
from archive.ports import SetClock
from archive.services import classification, documents, inbox, indexing, searching, users
from search.base import SearchQuery, Visibility

ID_NUMBER = "11010519491231002" + resident_id_check_digit("11010519491231002")
OTHER_ID = "31010419900621328" + resident_id_check_digit("31010419900621328")
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock(archive: Archive) -> SetClock:
    archive.clock = SetClock(START)
    return archive.clock


@pytest.fixture
def room(archive: Archive, clock) -> SimpleNamespace:  # noqa: ANN001
    """The people of a borrowing: YX's head (approver), KF's head, the archive manager, a leader."""
    for username, role, department in (("head_kf", "approver", "KF"), ("manager", "records_manager", None),
                                       ("boss", "leader", None), ("clerk_s", "clerk", "YX")):
        users.create_user(archive.uow(), actor=OPERATOR, username=username, password=PASSWORD, role=role,
                          department=department, clearance="secret", email=f"{username}@example.com")
    return SimpleNamespace(**{name: actor(archive, name) for name in (
        "staff", "staff_kf", "staff_secret", "approver", "head_kf", "manager", "boss", "admin")},
                           clerk=actor(archive, "clerk_s"))  # a clerk with secret clearance


def actor(archive: Archive, name: str):  # noqa: ANN201 - resolved now, on the archive's clock
    return users.resolve_actor(archive.uow(), username=name, remote_addr="127.0.0.1")


def request_id(archive: Archive, number: str) -> int:
    from archive.borrowing.models import BorrowRequest

    with archive.uow() as uow:
        return uow.session.query(BorrowRequest).filter_by(number=number).one().id


def test_a_confidential_request_from_another_department_runs_head_then_manager_and_opens_the_document(
        archive, room, clock, tmp_path) -> None:  # noqa: ANN001
    doc = captured(archive, room.clerk, tmp_path, "c1", level="confidential")
    with pytest.raises(AccessDenied):
        documents.get_document(archive.uow(), actor=room.staff_kf, document_id=doc.id)
    number = services.request_borrow(archive.uow(), actor=room.staff_kf, purpose="核对合同", mode="view", days=3,
                                     codes=[doc.code])
    rid = request_id(archive, number)
    assert [v.number for v in services.list_requests(archive.uow(), actor=room.approver, which="to_approve")] == [number]
    assert services.list_requests(archive.uow(), actor=room.manager, which="to_approve") == []  # not yet its step
    # The requester sees what they named, not what it covers; the approver sees the document.
    assert services.get_request(archive.uow(), actor=room.staff_kf, request_id=rid).items == []
    assert [i.archive_code for i in services.get_request(archive.uow(), actor=room.approver,
                                                          request_id=rid).items] == [doc.code]
    with pytest.raises(AccessDenied):  # KF's head is not the owning department's head
        services.decide(archive.uow(), actor=room.head_kf, request_id=rid, approve=True)
    assert services.decide(archive.uow(), actor=room.approver, request_id=rid, approve=True) == "pending"
    assert services.decide(archive.uow(), actor=room.manager, request_id=rid, approve=True,
                           comment="同意") == "approved"
    borrower = actor(archive, "staff_kf")
    view = documents.get_document(archive.uow(), actor=borrower, document_id=doc.id)
    assert view.archive_code == doc.code
    [seen] = [e for e in audit_rows(archive, "document.viewed") if e.actor_name == "staff_kf"]
    assert seen.detail["borrow_request"] == number and seen.detail["purpose"] == "核对合同"
    page = searching.search_documents(archive.uow(), actor=borrower, query="增容")
    assert [h.archive_code for h in page.hits] == [doc.code] and page.total == 1  # the grant is in the filter
    kinds = [e.kind for e in inbox.list_inbox(archive.uow(), actor=borrower)]
    assert kinds == ["borrow.approved"]


def test_grants_end_to_the_second_and_by_the_job(archive, room, clock, tmp_path) -> None:  # noqa: ANN001
    doc = captured(archive, room.clerk, tmp_path, "e1", level="internal")
    number = services.request_borrow(archive.uow(), actor=room.staff_kf, purpose="查阅", mode="view", days=1,
                                     codes=[doc.code])
    services.decide(archive.uow(), actor=room.approver, request_id=request_id(archive, number), approve=True)
    clock.advance(days=1, seconds=-1)
    documents.get_document(archive.uow(), actor=actor(archive, "staff_kf"), document_id=doc.id)
    clock.advance(seconds=1)
    with pytest.raises(AccessDenied):
        documents.get_document(archive.uow(), actor=actor(archive, "staff_kf"), document_id=doc.id)
    assert searching.search_documents(archive.uow(), actor=actor(archive, "staff_kf"), query="增容").total == 0
    assert services.expire_grants(archive.uow(), actor=BORROW_ACTOR) == 1
    [ended] = audit_rows(archive, "borrow.ended")
    assert ended.detail["reason"] == "expired" and ended.detail["number"] == number


def test_return_and_revoke_end_a_grant_at_once(archive, room, clock, tmp_path) -> None:  # noqa: ANN001
    doc = captured(archive, room.clerk, tmp_path, "r1", level="internal")
    first = request_id(archive, services.request_borrow(archive.uow(), actor=room.staff_kf, purpose="a", mode="view",
                                                        days=5, codes=[doc.code]))
    second = request_id(archive, services.request_borrow(archive.uow(), actor=room.staff_kf, purpose="b",
                                                         mode="download", days=5, codes=[doc.code]))
    for rid in (first, second):
        services.decide(archive.uow(), actor=room.approver, request_id=rid, approve=True)
    borrower = actor(archive, "staff_kf")
    stream, name, media = documents.open_original(archive.uow(), actor=borrower, document_id=doc.id)
    assert media == "application/pdf" and stream.read(5) == b"%PDF-"  # a marked copy, never the original
    services.return_borrow(archive.uow(), actor=borrower, request_id=first)
    with pytest.raises(ValidationError):
        services.revoke(archive.uow(), actor=room.approver, request_id=second, reason="")
    with pytest.raises(AccessDenied):  # an approver who did not decide it
        services.revoke(archive.uow(), actor=room.head_kf, request_id=second, reason="misuse")
    services.revoke(archive.uow(), actor=room.approver, request_id=second, reason="用途已完成")
    with pytest.raises(AccessDenied):
        documents.get_document(archive.uow(), actor=actor(archive, "staff_kf"), document_id=doc.id)
    assert [e.detail["reason"] for e in audit_rows(archive, "borrow.ended")] == ["returned", "revoked"]


def test_nobody_approves_their_own_request_and_a_rejection_needs_a_reason(archive, room, clock, tmp_path) -> None:  # noqa: ANN001
    doc = captured(archive, room.clerk, tmp_path, "s1", level="confidential")
    rid = request_id(archive, services.request_borrow(archive.uow(), actor=room.approver, purpose="自查",
                                                      mode="view", days=2, codes=[doc.code]))
    with pytest.raises(AccessDenied, match="own request"):
        services.decide(archive.uow(), actor=room.approver, request_id=rid, approve=True)
    other = request_id(archive, services.request_borrow(archive.uow(), actor=room.staff_kf, purpose="x",
                                                        mode="view", days=2, codes=[doc.code]))
    with pytest.raises(ValidationError, match="reason"):
        services.decide(archive.uow(), actor=room.approver, request_id=other, approve=False)
    assert services.decide(archive.uow(), actor=room.approver, request_id=other, approve=False,
                           comment="用途不明") == "rejected"
    assert inbox.list_inbox(archive.uow(), actor=room.staff_kf)[0].kind == "borrow.rejected"


def test_the_chain_follows_classification_and_a_security_admin_may_change_it(archive, room, clock, tmp_path) -> None:  # noqa: ANN001
    secret = captured(archive, room.clerk, tmp_path, "t1", level="secret")
    rid = request_id(archive, services.request_borrow(archive.uow(), actor=room.staff_kf, purpose="p", mode="view",
                                                      days=2, codes=[secret.code]))
    for who, status in ((room.approver, "pending"), (room.manager, "pending"), (room.boss, "approved")):
        assert services.decide(archive.uow(), actor=who, request_id=rid, approve=True) == status
    users.create_user(archive.uow(), actor=OPERATOR, username="sec", password=PASSWORD, role="security_admin",
                      clearance="public")
    with pytest.raises(AccessDenied):
        chains.set_chain(archive.uow(), actor=room.admin, classification="internal", in_department=False,
                         steps=[{"capacity": "leader", "rule": "any"}])
    chains.set_chain(archive.uow(), actor=actor(archive, "sec"), classification="internal", in_department=False,
                     steps=[{"capacity": "department_head", "rule": "all"}, {"capacity": "leader", "rule": "any"}])
    users.create_user(archive.uow(), actor=OPERATOR, username="head2", password=PASSWORD, role="approver",
                      department="YX", clearance="secret")
    internal = captured(archive, room.clerk, tmp_path, "t2", level="internal")
    rid = request_id(archive, services.request_borrow(archive.uow(), actor=room.staff_kf, purpose="p", mode="view",
                                                      days=2, codes=[internal.code]))
    assert services.decide(archive.uow(), actor=room.approver, request_id=rid, approve=True) == "pending"
    assert services.decide(archive.uow(), actor=actor(archive, "head2"), request_id=rid, approve=True) == "pending"
    assert services.decide(archive.uow(), actor=room.boss, request_id=rid, approve=True) == "approved"
    [changed] = audit_rows(archive, "borrow.chain_changed")
    assert changed.detail["after"][0] == {"capacity": "department_head", "rule": "all"}


def test_a_delegate_decides_for_the_head_and_a_step_without_approver_escalates(archive, room, clock, tmp_path) -> None:  # noqa: ANN001
    doc = captured(archive, room.clerk, tmp_path, "d1", level="internal")
    with pytest.raises(ValidationError):  # not the same capacity
        services.delegate(archive.uow(), actor=room.approver, to="manager", starts_on=START.date(),
                          ends_on=START.date() + timedelta(days=3))
    services.delegate(archive.uow(), actor=room.approver, to="head_kf", starts_on=START.date(),
                      ends_on=START.date() + timedelta(days=3))
    rid = request_id(archive, services.request_borrow(archive.uow(), actor=room.staff_kf, purpose="p", mode="view",
                                                      days=2, codes=[doc.code]))
    assert services.decide(archive.uow(), actor=room.head_kf, request_id=rid, approve=True) == "approved"
    [decision] = services.get_request(archive.uow(), actor=room.head_kf, request_id=rid).decisions
    assert (decision.approver, decision.on_behalf_of) == ("head_kf", "approver")
    # KF's only head asks for a KF record: nobody else heads KF, so the step escalates after the set time.
    users.create_user(archive.uow(), actor=OPERATOR, username="clerk_kf", password=PASSWORD, role="clerk",
                      department="KF", clearance="secret")
    kf_clerk_doc = captured(archive, actor(archive, "clerk_kf"), tmp_path, "d2", level="internal", customer=OTHER_ID)
    rid = request_id(archive, services.request_borrow(archive.uow(), actor=room.head_kf, purpose="p", mode="view",
                                                      days=2, codes=[kf_clerk_doc.code]))
    assert services.escalate(archive.uow(), actor=BORROW_ACTOR) == []
    clock.advance(hours=archive.settings.borrow_escalate_hours)
    assert len(services.escalate(archive.uow(), actor=BORROW_ACTOR)) == 1
    assert services.decide(archive.uow(), actor=room.manager, request_id=rid, approve=True) == "approved"
    [escalated] = audit_rows(archive, "borrow.escalated")
    assert (escalated.detail["before"], escalated.detail["after"]) == ("department_head", "archive_manager")


def test_a_request_tells_the_requester_nothing_of_what_exists(archive, room, clock, tmp_path) -> None:  # noqa: ANN001
    doc = captured(archive, room.clerk, tmp_path, "n1", level="secret")
    real = services.request_borrow(archive.uow(), actor=room.staff_kf, purpose="p", mode="view", days=2,
                                   customer=ID_NUMBER, types=["supply_contract"])
    ghost = services.request_borrow(archive.uow(), actor=room.staff_kf, purpose="p", mode="view", days=2,
                                    codes=["NO-SUCH-CODE"])
    views = {v.number: v for v in services.list_requests(archive.uow(), actor=room.staff_kf)}
    assert views[real].items == views[ghost].items == [] and views[real].classification == ""
    assert views[real].asked["customer"] != ID_NUMBER  # masked at rest
    covered = services.get_request(archive.uow(), actor=room.approver, request_id=request_id(archive, real))
    assert [i.archive_code for i in covered.items] == [doc.code]
    for bad in ({"purpose": " "}, {"mode": "copy"}, {"days": 0}, {"days": archive.settings.borrow_max_days + 1}):
        with pytest.raises(ValidationError):
            services.request_borrow(archive.uow(), actor=room.staff_kf, **{"purpose": "p", "mode": "view",
                                                                          "days": 2, "codes": [doc.code], **bad})
    with pytest.raises(NotFoundError):
        services.get_request(archive.uow(), actor=room.staff_kf, request_id=99999)


@pytest.fixture
def mail(archive: Archive, smtp):  # noqa: ANN001, ANN201 - the archive sends through the suite's SMTP server
    port, mailbox = smtp
    archive.settings = archive.settings.with_overrides(smtp_host="127.0.0.1", smtp_port=port)
    archive.__dict__.pop("mailer", None)
    return mailbox


def test_originals_are_lent_returned_and_reminded_in_app_and_by_email(archive, room, clock, mail, tmp_path) -> None:  # noqa: ANN001
    doc = captured(archive, room.clerk, tmp_path, "o1", level="internal")
    with archive.uow() as uow:
        row = uow.session.get(Document, doc.id)
        row.box, row.shelf = "B-017", "3-2-5"
        uow.commit()
    with archive.uow() as uow:
        from archive.models import User

        uow.session.query(User).filter_by(username="staff_kf").update({"email": "staff_kf@example.com"})
        uow.commit()
    rid = request_id(archive, services.request_borrow(archive.uow(), actor=room.staff_kf, purpose="法院调取",
                                                      mode="original", days=5, codes=[doc.code]))
    services.decide(archive.uow(), actor=room.approver, request_id=rid, approve=True)
    with pytest.raises(AccessDenied):  # an original is not an online view
        documents.get_document(archive.uow(), actor=actor(archive, "staff_kf"), document_id=doc.id)
    [loan_id] = services.lend_originals(archive.uow(), actor=room.manager, request_id=rid)
    [loan] = services.list_loans(archive.uow(), actor=room.manager)
    assert (loan.box, loan.shelf, loan.due_on) == ("B-017", "3-2-5", START.date() + timedelta(days=5))
    mail.messages.clear()
    clock.advance(days=2)  # three days before the due date
    assert services.send_reminders(archive.uow(), actor=BORROW_ACTOR) == 1
    assert services.send_reminders(archive.uow(), actor=BORROW_ACTOR) == 0  # once a day
    clock.advance(days=1)
    assert services.send_reminders(archive.uow(), actor=BORROW_ACTOR) == 0
    clock.advance(days=3)  # one day overdue, then two
    assert services.send_reminders(archive.uow(), actor=BORROW_ACTOR) == 1
    assert [v.days_overdue for v in services.list_loans(archive.uow(), actor=room.manager, overdue_only=True)] == [1]
    clock.advance(days=1)
    assert services.send_reminders(archive.uow(), actor=BORROW_ACTOR) == 1
    kinds = [e.kind for e in inbox.list_inbox(archive.uow(), actor=room.staff_kf)]
    assert kinds[:3] == ["loan.overdue", "loan.overdue", "loan.due_soon"]
    assert [to for to, _subject, _body in mail.messages] == [["staff_kf@example.com"]] * 3
    assert "逾期" in mail.messages[-1][1]
    services.return_original(archive.uow(), actor=room.manager, loan_id=loan_id)
    assert services.list_loans(archive.uow(), actor=room.manager) == []
    assert audit_rows(archive, "borrow.ended")[-1].detail["reason"] == "returned"


def test_classification_changes_wait_for_the_security_admin_and_respect_the_dossier(archive, room, clock,
                                                                                    tmp_path) -> None:  # noqa: ANN001
    doc = captured(archive, room.clerk, tmp_path, "k1", level="confidential", dossier="客户档案")
    users.create_user(archive.uow(), actor=OPERATOR, username="sec", password=PASSWORD, role="security_admin",
                      clearance="public")
    sec = actor(archive, "sec")
    change = classification.request_change(archive.uow(), actor=room.clerk, target_type="document",
                                           target_id=doc.id, level="internal", reason="解密: 合同已履行完毕")
    with archive.uow() as uow:
        assert uow.session.get(Document, doc.id).classification == "confidential"  # not before approval
    with pytest.raises(AccessDenied):
        classification.decide_change(archive.uow(), actor=room.admin, change_id=change, approve=True)
    classification.decide_change(archive.uow(), actor=sec, change_id=change, approve=True)
    with archive.uow() as uow:
        document = uow.session.get(Document, doc.id)
        assert document.classification == "internal"
        dossier_id = document.dossier_id
    [changed] = audit_rows(archive, "classification.changed")
    assert (changed.detail["before"], changed.detail["after"]) == ("confidential", "internal")
    # Raising the dossier lifts what lies below it; then no document of it goes below the dossier.
    later = captured(archive, room.clerk, tmp_path, "k2", level="public", dossier="客户档案")
    raise_it = classification.request_change(archive.uow(), actor=room.clerk, target_type="dossier",
                                             target_id=dossier_id, level="confidential", reason="含合同")
    with pytest.raises(ValidationError, match="reason"):
        classification.decide_change(archive.uow(), actor=sec, change_id=raise_it, approve=False)
    classification.decide_change(archive.uow(), actor=sec, change_id=raise_it, approve=True)
    with archive.uow() as uow:
        assert uow.session.get(Document, later.id).classification == "confidential"
        assert uow.session.get(Document, doc.id).classification == "confidential"
    with pytest.raises(ValidationError, match="dossier"):
        classification.request_change(archive.uow(), actor=room.clerk, target_type="document", target_id=doc.id,
                                      level="public", reason="x")
    with pytest.raises(ValidationError, match="dossier"):  # nor at capture
        captured(archive, room.clerk, tmp_path, "k3", level="public", dossier="客户档案")
    lifted = captured(archive, room.clerk, tmp_path, "k4", level=None, document_type="application_form", dossier="客户档案")
    with archive.uow() as uow:
        assert uow.session.get(Document, lifted.id).classification == "confidential"  # the type says internal


def test_migration_0009_goes_down_and_up(archive) -> None:  # noqa: ANN001 - SQLite and PostgreSQL
    from sqlalchemy import inspect, text

    tables = {"borrow_request", "borrow_item", "borrow_decision", "borrow_grant", "borrow_delegation",
              "physical_loan", "approval_chain", "notification", "classification_change"}
    downgrade(archive, "0008")
    with archive.engine.connect() as connection:
        assert not tables & set(inspect(connection).get_table_names())
        assert "box" not in {c["name"] for c in inspect(connection).get_columns("document")}
    archive.migrate()
    with archive.engine.connect() as connection:
        assert tables <= set(inspect(connection).get_table_names())
        assert connection.execute(text("SELECT count(*) FROM approval_chain")).scalar() == 8  # the defaults
        assert "classification" in {c["name"] for c in inspect(connection).get_columns("dossier")}


def test_discovery_shows_metadata_only_hits_outside_the_scope_when_the_setting_allows(archive, room, clock,
                                                                                     tmp_path) -> None:  # noqa: ANN001
    inside = captured(archive, room.clerk, tmp_path, "v1", level="internal")
    outside = captured(archive, room.clerk, tmp_path, "v2", level="secret")
    staff = actor(archive, "staff")  # YX, internal clearance
    page = searching.search_documents(archive.uow(), actor=staff, query="增容")
    assert [h.archive_code for h in page.hits] == [inside.code] and page.total == 1  # off by default
    archive.settings = archive.settings.with_overrides(borrow_discovery=True)
    page = searching.search_documents(archive.uow(), actor=staff, query="增容")
    hits = {h.archive_code: h for h in page.hits}
    assert page.total == 2 and set(hits) == {inside.code, outside.code}
    assert not hits[inside.code].restricted and hits[inside.code].snippet
    shown = hits[outside.code]
    assert shown.restricted and shown.snippet == "" and shown.customer == "" and ID_NUMBER not in shown.title
    with pytest.raises(AccessDenied):  # a hit is no way in: the request is
        documents.get_document(archive.uow(), actor=staff, document_id=outside.id)


def test_with_many_grants_search_filters_by_the_borrower_tag_and_stays_exact_at_every_instant(
        archive, room, clock, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from archive.services import searching as searching_module

    monkeypatch.setattr(searching_module, "LENT_TERM_FROM", 1)  # the tag path from the first grant
    docs = [captured(archive, room.clerk, tmp_path, f"m{i}", level="internal") for i in range(3)]
    number = services.request_borrow(archive.uow(), actor=room.staff_kf, purpose="p", mode="view", days=1,
                                     codes=[d.code for d in docs])
    services.decide(archive.uow(), actor=room.approver, request_id=request_id(archive, number), approve=True)

    def total() -> int:
        return searching.search_documents(archive.uow(), actor=actor(archive, "staff_kf"), query="增容").total

    assert total() == 3  # lent, the index not yet retagged: found by id
    indexing.drain_outbox(archive.uow())
    assert total() == 3  # found by the borrower's tag
    clock.advance(days=1)
    assert total() == 0  # expired: the tag lingers until the job, and is withheld
    services.expire_grants(archive.uow(), actor=BORROW_ACTOR)
    assert total() == 0
    indexing.drain_outbox(archive.uow())
    assert total() == 0  # retagged without the borrower
    by_tag_only = Visibility(frozenset(), frozenset(), frozenset({docs[0].id}), lent_to=room.staff_kf.user_id)
    assert archive.index.search(SearchQuery(text="增容"), by_tag_only).total == 0  # no document carries it now


def test_a_leaked_copy_of_a_borrowed_page_names_its_request_and_borrower(archive, room, clock, tmp_path) -> None:  # noqa: ANN001
    from click.testing import CliRunner
    from PIL import Image

    from archive.cli import cli

    doc = captured(archive, room.clerk, tmp_path, "w1", level="confidential")
    number = services.request_borrow(archive.uow(), actor=room.staff_kf, purpose="核对", mode="view", days=2,
                                     codes=[doc.code])
    rid = request_id(archive, number)
    for who in (room.approver, room.manager):
        services.decide(archive.uow(), actor=who, request_id=rid, approve=True)
    borrower = actor(archive, "staff_kf")
    with documents.open_page_image(archive.uow(), actor=borrower, document_id=doc.id, number=1) as stream:
        page = Image.open(stream).convert("L")
        page = page.resize((page.width // 2, page.height // 2))
        leaked = tmp_path / "leaked.jpg"
        page.save(leaked, format="JPEG", quality=75)
    [viewed] = [e for e in audit_rows(archive, "page.image_viewed") if e.actor_name == "staff_kf"]
    assert viewed.detail["watermarked"] is True and viewed.detail["borrow_request"] == number
    users.create_user(archive.uow(), actor=OPERATOR, username="sec", password=PASSWORD, role="security_admin",
                      clearance="public")
    archive.settings = archive.settings.with_overrides(cli_trusted=True)
    result = CliRunner().invoke(cli, ["watermark", "identify", str(leaked), "--as", "sec"], obj={"archive": archive},
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert number in result.output and "staff_kf" in result.output and "核对" in result.output
    assert audit_rows(archive, "borrow.watermark_identified")[0].detail["number"] == number
