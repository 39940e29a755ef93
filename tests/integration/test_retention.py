"""Retention: disposition dates from schedules and triggers, legal holds that bind, travelling by an
injected clock (never sleeping through a period)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from archive_fixtures import PASSWORD, audit_rows
from click.testing import CliRunner
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text

from archive.actors import OPERATOR
from archive.bootstrap import Archive
from archive.capture.services import CaptureRequest, capture_document
from archive.cli import cli
from archive.demo.samples import write_scan
from archive.errors import AccessDenied, RecordHeldError, ValidationError
from archive.identity import resident_id_check_digit
from archive.models import Document
from archive.ports import FixedClock
from archive.services import shredding, users
from archive.services.filing import file_documents
from retention.models import Disposition, LegalHold
from retention.permissions import RETENTION_ACTOR
from retention.services import appraisal, dispositions, holds, register, schedules
from retention.services.dispositions import add_period

ID_NUMBER = "11010519491231002" + resident_id_check_digit("11010519491231002")
OTHER_ID = "31010419900621328" + resident_id_check_digit("31010419900621328")
SHREDDER = RETENTION_ACTOR.__class__.system("retention-disposal", frozenset({"document.shred"}))


@pytest.fixture
def manager(archive: Archive):  # noqa: ANN201
    users.create_user(archive.uow(), actor=OPERATOR, username="records", password=PASSWORD, role="records_manager",
                      department="YX", clearance="internal")
    return users.resolve_actor(archive.uow(), username="records", remote_addr="127.0.0.1")


def capture(archive: Archive, actor, tmp_path: Path, name: str, *, customer: str = ID_NUMBER,  # noqa: ANN001
            document_type: str = "supply_contract", file: bool = True) -> SimpleNamespace:
    """Capture a scan and, unless file is false, file it (its OCR marked done here: OCR is not what these
    tests are about; the full-flow test runs it)."""
    path = write_scan(tmp_path / f"{name}.png", [f"{name} 供用电合同"], format="PNG", dpi=100)
    result = capture_document(archive.uow(), actor=actor, request=CaptureRequest(
        path=path, filename=path.name, customer=customer, customer_name="张伟", document_type=document_type))
    if file:
        with archive.uow() as uow:
            document = uow.session.get(Document, result.document_id)
            for page in document.pages:
                page.ocr_status, page.ocr_text = "done", name
            document.refresh_status()
            uow.commit()
        assert file_documents(archive.uow(), actor=actor, archive_codes=[result.archive_code]).filed
    return SimpleNamespace(id=result.document_id, code=result.archive_code)


def due_codes(archive: Archive, actor, on: date | None = None) -> list[str]:  # noqa: ANN001
    return [row.archive_code for row in dispositions.due_records(archive.uow(), actor=actor, on=on)]


def disposition(archive: Archive, document_id: int) -> SimpleNamespace:
    with archive.uow() as uow:
        row = uow.session.get(Disposition, document_id)
        return SimpleNamespace(trigger_date=row.trigger_date, due_on=row.due_on, action=row.action)


def test_a_period_ends_on_the_same_day_or_the_last_day_of_a_shorter_month():
    assert add_period(date(2024, 2, 29), 30, None) == date(2054, 2, 28)
    assert add_period(date(2024, 1, 31), None, 1) == date(2024, 2, 29)
    assert add_period(date(2024, 11, 15), 1, 3) == date(2026, 2, 15)


def test_a_contract_is_due_thirty_years_after_filing_and_not_a_day_before(archive, people, manager, tmp_path):
    unfiled = capture(archive, people["clerk"], tmp_path, "unfiled", file=False)
    document = capture(archive, people["clerk"], tmp_path, "contract")  # filing computed its date
    assert dispositions.refresh_dispositions(archive.uow(), actor=RETENTION_ACTOR) == (1, 0)  # the unfiled one
    assert disposition(archive, unfiled.id).due_on is None  # its clock has not started
    filed = date.today()
    due = add_period(filed, 30, None)
    assert disposition(archive, document.id).due_on == due
    archive.clock = FixedClock(date.fromordinal(due.toordinal() - 1))
    assert due_codes(archive, manager) == []
    archive.clock = FixedClock(due)  # thirty years on, by the clock the archive is given
    assert due_codes(archive, manager) == [document.code]
    assert dispositions.refresh_dispositions(archive.uow(), actor=RETENTION_ACTOR) == (0, 0)  # nothing moved


def test_a_schedule_change_says_how_many_records_it_moves_before_it_is_saved(archive, people, manager, tmp_path):
    documents = [capture(archive, people["clerk"], tmp_path, f"c{n}") for n in range(3)]
    capture(archive, people["clerk"], tmp_path, "form", document_type="application_form")
    dispositions.refresh_dispositions(archive.uow(), actor=RETENTION_ACTOR)
    preview = schedules.set_schedule(archive.uow(), actor=manager, document_type="supply_contract", years=10,
                                     months=None, trigger="filing_date", action="destroy", dry_run=True)
    assert (preview.records_moved, preview.records_held, preview.saved) == (3, 0, False)
    assert preview.before.years == 30 and not preview.before.explicit
    assert disposition(archive, documents[0].id).due_on == add_period(date.today(), 30, None)
    assert audit_rows(archive, "retention.schedule_changed") == []
    change = schedules.set_schedule(archive.uow(), actor=manager, document_type="supply_contract", years=10,
                                    months=None, trigger="filing_date", action="destroy")
    assert (change.records_moved, change.saved) == (3, True)
    assert {disposition(archive, d.id).due_on for d in documents} == {add_period(date.today(), 10, None)}
    (event,) = audit_rows(archive, "retention.schedule_changed")
    assert (event.actor_name, event.detail["before"]["years"], event.detail["after"]["years"],
            event.detail["records_moved"]) == ("records", 30, 10, 3)
    listed = {s.document_type: s for s in schedules.list_schedules(archive.uow(), actor=manager)}
    assert listed["supply_contract"].explicit and listed["supply_contract"].action == "destroy"
    assert not listed["application_form"].explicit


def test_an_event_trigger_starts_the_clock_only_once_the_event_is_recorded(archive, people, manager, tmp_path):
    schedules.set_schedule(archive.uow(), actor=manager, document_type="bank_authorisation", years=5, months=None,
                           trigger="event", event_name="account_closed", action="destroy")
    mine = capture(archive, people["clerk"], tmp_path, "debit", document_type="bank_authorisation")
    other = capture(archive, people["clerk"], tmp_path, "debit2", customer=OTHER_ID,
                    document_type="bank_authorisation")
    dispositions.refresh_dispositions(archive.uow(), actor=RETENTION_ACTOR)
    assert disposition(archive, mine.id).due_on is None and disposition(archive, mine.id).trigger_date is None
    changed = schedules.record_trigger_event(archive.uow(), actor=manager, name="account_closed",
                                             occurred_on=date(2030, 6, 30), customer=ID_NUMBER)
    assert changed == 1
    assert (disposition(archive, mine.id).trigger_date, disposition(archive, mine.id).due_on) == (
        date(2030, 6, 30), date(2035, 6, 30))
    assert disposition(archive, other.id).due_on is None  # another customer's account is still open
    assert due_codes(archive, manager, on=date(2035, 6, 30)) == [mine.code]
    (event,) = audit_rows(archive, "retention.trigger_recorded")
    assert (event.target_type, event.detail["occurred_on"]) == ("customer", "2030-06-30")


def test_a_hold_on_a_customer_covers_documents_captured_later_and_blocks_their_destruction(
        archive, people, manager, tmp_path):
    first = capture(archive, people["clerk"], tmp_path, "first")
    hold_id = holds.place_legal_hold(archive.uow(), actor=manager, target=holds.HoldTarget("customer", ID_NUMBER),
                                     hold_type="litigation", reason="(2026)京01民初123号")
    later = capture(archive, people["clerk"], tmp_path, "later")
    for document in (first, later):
        with pytest.raises(RecordHeldError):
            shredding.shred_document(archive.uow(), actor=SHREDDER, document_id=document.id, reason="due")
    assert audit_rows(archive, "document.shredded") == []
    dispositions.refresh_dispositions(archive.uow(), actor=RETENTION_ACTOR)
    assert due_codes(archive, manager, on=date(2100, 1, 1)) == []  # held records are not offered for disposal
    (shown,) = holds.list_legal_holds(archive.uow(), actor=manager)
    assert (shown.id, shown.target_type, shown.target_label, shown.placed_by) == (
        hold_id, "customer", "110105********002X", "records")
    holds.release_legal_hold(archive.uow(), actor=manager, hold_id=hold_id, reason="judgment final")
    assert holds.list_legal_holds(archive.uow(), actor=manager) == []
    assert due_codes(archive, manager, on=date(2100, 1, 1)) == [first.code, later.code]
    shredding.shred_document(archive.uow(), actor=SHREDDER, document_id=first.id, reason="due")
    placed, released = audit_rows(archive, "retention.hold_placed"), audit_rows(archive, "retention.hold_released")
    assert placed[0].detail["hold_type"] == "litigation" and released[0].detail["reason"] == "judgment final"


def test_a_hold_on_one_document_leaves_the_customers_others_free(archive, people, manager, tmp_path):
    held, free = capture(archive, people["clerk"], tmp_path, "held"), capture(archive, people["clerk"], tmp_path, "free")
    holds.place_legal_hold(archive.uow(), actor=manager, target=holds.HoldTarget("document", held.code),
                           hold_type="regulator_inspection", reason="检查")
    with pytest.raises(RecordHeldError):
        shredding.shred_document(archive.uow(), actor=SHREDDER, document_id=held.id, reason="due")
    shredding.shred_document(archive.uow(), actor=SHREDDER, document_id=free.id, reason="due")


def test_a_held_record_keeps_its_disposition_date_when_its_schedule_changes(archive, people, manager, tmp_path):
    held, free = capture(archive, people["clerk"], tmp_path, "held"), capture(archive, people["clerk"], tmp_path, "free")
    dispositions.refresh_dispositions(archive.uow(), actor=RETENTION_ACTOR)
    holds.place_legal_hold(archive.uow(), actor=manager, target=holds.HoldTarget("document", held.code),
                           hold_type="internal_audit", reason="内审")
    change = schedules.set_schedule(archive.uow(), actor=manager, document_type="supply_contract", years=10,
                                    months=None, trigger="filing_date", action="review")
    assert (change.records_moved, change.records_held) == (1, 1)
    assert disposition(archive, held.id).due_on == add_period(date.today(), 30, None)
    assert disposition(archive, free.id).due_on == add_period(date.today(), 10, None)


def test_a_hold_needs_a_known_type_and_a_reason_to_place_and_to_release(archive, people, manager, tmp_path):
    document = capture(archive, people["clerk"], tmp_path, "contract")
    target = holds.HoldTarget("document", document.code)
    for hold_type, reason in (("litigation", "  "), ("whim", "why not")):
        with pytest.raises(ValidationError):
            holds.place_legal_hold(archive.uow(), actor=manager, target=target, hold_type=hold_type, reason=reason)
    hold_id = holds.place_legal_hold(archive.uow(), actor=manager, target=target, hold_type="other", reason="x")
    with pytest.raises(ValidationError):
        holds.release_legal_hold(archive.uow(), actor=manager, hold_id=hold_id, reason="")
    assert len(holds.list_legal_holds(archive.uow(), actor=manager)) == 1


def test_only_a_records_manager_places_or_releases_holds_and_a_refusal_changes_nothing(
        archive, people, manager, tmp_path):
    document = capture(archive, people["clerk"], tmp_path, "contract")
    target = holds.HoldTarget("document", document.code)
    for name in ("clerk", "approver", "auditor", "admin"):
        with pytest.raises(AccessDenied):
            holds.place_legal_hold(archive.uow(), actor=people[name], target=target, hold_type="other",
                                   reason="mine")
    hold_id = holds.place_legal_hold(archive.uow(), actor=manager, target=target, hold_type="other", reason="x")
    with pytest.raises(AccessDenied):
        holds.release_legal_hold(archive.uow(), actor=people["clerk"], hold_id=hold_id, reason="done")
    with pytest.raises(AccessDenied):
        schedules.set_schedule(archive.uow(), actor=people["clerk"], document_type="supply_contract", years=1,
                               months=None, trigger="filing_date", action="destroy")
    with archive.uow() as uow:
        assert [(h.id, h.released_at) for h in uow.session.scalars(select(LegalHold))] == [(hold_id, None)]
    denied = [(e.actor_name, e.detail["permission"]) for e in audit_rows(archive, "access.denied")]
    assert denied == [(n, "retention.hold_manage") for n in ("clerk", "approver", "auditor", "admin", "clerk")] + [
        ("clerk", "retention.schedule_manage")]


def test_staff_who_may_see_a_document_see_its_holds_read_only_and_others_are_refused(
        archive, people, manager, tmp_path):
    document = capture(archive, people["clerk"], tmp_path, "form", document_type="application_form")
    holds.place_legal_hold(archive.uow(), actor=manager, target=holds.HoldTarget("customer", ID_NUMBER),
                           hold_type="litigation", reason="诉讼")
    (shown,) = holds.holds_on_document(archive.uow(), actor=people["staff"], document_id=document.id)
    assert shown.hold_type == "litigation"
    with pytest.raises(AccessDenied):
        holds.holds_on_document(archive.uow(), actor=people["staff_kf"], document_id=document.id)
    with pytest.raises(AccessDenied):
        holds.list_legal_holds(archive.uow(), actor=people["staff"])


def test_the_cli_sets_schedules_places_holds_and_lists_what_is_due(archive, people, manager, tmp_path):
    document = capture(archive, people["clerk"], tmp_path, "contract")
    archive.settings = archive.settings.with_overrides(cli_trusted=True)  # `--as` without a credential

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, ["retention", *args, "--as", "records", "--json"], obj={"archive": archive},
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    assert run("schedule", "set", "supply_contract", "--years", "1", "--action", "destroy",
               "--dry-run")["records_moved"] == 1
    assert run("schedule", "set", "supply_contract", "--years", "1", "--action", "destroy")["saved"] is True
    assert run("due", "--on", add_period(date.today(), 1, None).isoformat())["due"][0]["archive_code"] == document.code
    hold_id = run("hold", "place", "--document", document.code, "--type", "litigation", "--reason", "案件")["hold_id"]
    assert [h["id"] for h in run("hold", "list")] == [hold_id]
    assert run("due", "--on", "2100-01-01")["due"] == []
    run("hold", "release", str(hold_id), "--reason", "结案")
    assert run("hold", "list") == [] and len(run("hold", "list", "--all")) == 1
    refused = CliRunner().invoke(cli, ["retention", "hold", "place", "--document", document.code, "--type", "other",
                                       "--reason", "x", "--as", "clerk"], obj={"archive": archive})
    assert refused.exit_code == 3 and "access denied" in refused.output


def test_migration_0006_goes_down_and_up_keeping_the_archive(archive, people, manager, tmp_path):
    from alembic import command
    from alembic.config import Config

    from archive.bootstrap import MIGRATIONS

    document = capture(archive, people["clerk"], tmp_path, "contract")
    holds.place_legal_hold(archive.uow(), actor=manager, target=holds.HoldTarget("document", document.code),
                           hold_type="other", reason="x")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with archive.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")  # below retention's 0006
    with archive.engine.begin() as connection:
        tables = {row[0] for row in connection.execute(text(
            "SELECT name FROM sqlite_master WHERE type='table'" if archive.engine.dialect.name == "sqlite"
            else "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))}
        assert not {"legal_hold", "retention_schedule", "retention_disposition", "retention_event"} & tables
        assert connection.execute(text("SELECT count(*) FROM document")).scalar() == 1
        assert "filed_at" not in {column["name"] for column in sa_inspect(connection).get_columns("document")}
    archive.migrate()
    assert holds.list_legal_holds(archive.uow(), actor=manager) == []
    dispositions.refresh_dispositions(archive.uow(), actor=RETENTION_ACTOR)
    assert disposition(archive, document.id).due_on is None  # going down forgot the filing: file it again
    assert file_documents(archive.uow(), actor=people["clerk"], archive_codes=[document.code]).filed
    assert disposition(archive, document.id).due_on == add_period(date.today(), 30, None)


# --- appraisal, destruction, the register ------------------------------------------------------------


@pytest.fixture
def group(archive: Archive, manager):  # noqa: ANN201
    for username, role in (("appraiser1", "appraiser"), ("appraiser2", "appraiser"), ("leader", "leader")):
        users.create_user(archive.uow(), actor=OPERATOR, username=username, password=PASSWORD, role=role,
                          department="YX", clearance="internal")
    return SimpleNamespace(manager=manager, **{name: users.resolve_actor(archive.uow(), username=name)
                                               for name in ("appraiser1", "appraiser2", "leader")})


def due_batch(archive: Archive, group, documents: list[SimpleNamespace]) -> int:  # noqa: ANN001
    """Make the documents due (a one-year schedule, a clock two years on) and gather them into a batch."""
    schedules.set_schedule(archive.uow(), actor=group.manager, document_type="supply_contract", years=1,
                           months=None, trigger="filing_date", action="destroy")
    archive.clock = FixedClock(add_period(date.today(), 2, None))
    (batch_id,) = appraisal.gather_due_records(archive.uow(), actor=group.manager)
    assert appraisal.gather_due_records(archive.uow(), actor=group.manager) == []  # already in the batch
    return batch_id


def agree(archive: Archive, group, batch_id: int, code: str, decision: str, **extra) -> str | None:  # noqa: ANN001
    appraisal.appraise_record(archive.uow(), actor=group.appraiser1, batch_id=batch_id, archive_code=code,
                              decision=decision, **extra)
    return appraisal.appraise_record(archive.uow(), actor=group.appraiser2, batch_id=batch_id, archive_code=code,
                                     decision=decision, **extra)


def test_a_due_record_goes_through_appraisal_approval_and_destruction_and_enters_the_register(
        archive, people, group, tmp_path):
    from archive.services import indexing, searching

    doomed = capture(archive, people["clerk"], tmp_path, "doomed", file=False)
    kept = capture(archive, people["clerk"], tmp_path, "kept", file=False)
    assert file_documents(archive.uow(), actor=people["clerk"], archive_codes=[doomed.code]).refused == {
        doomed.code: "OCR has not finished"}
    archive.jobs.run_until(lambda: archive.jobs.pending() == 0, timeout=300)  # real OCR and indexing
    indexing.drain_outbox(archive.uow())
    assert file_documents(archive.uow(), actor=people["clerk"], archive_codes=[doomed.code, kept.code]).filed == [
        doomed.code, kept.code]
    assert searching.search_documents(archive.uow(), actor=people["clerk"], query=ID_NUMBER).total == 2
    batch_id = due_batch(archive, group, [doomed, kept])
    appraisal.appraise_record(archive.uow(), actor=group.appraiser1, batch_id=batch_id, archive_code=doomed.code,
                              decision="destroy")
    with pytest.raises(ValidationError):  # nothing is approved before the group has decided every record
        appraisal.decide_batch(archive.uow(), actor=group.leader, batch_id=batch_id, approve=True)
    assert appraisal.appraise_record(archive.uow(), actor=group.appraiser2, batch_id=batch_id,
                                     archive_code=doomed.code, decision="destroy") == "destroy"
    assert agree(archive, group, batch_id, kept.code, "extend", extend_years=5, reason="诉讼时效") == "extend"
    with pytest.raises(ValidationError):  # no destruction before a leader approves
        appraisal.destroy_batch(archive.uow(), actor=group.manager, batch_id=batch_id)
    appraisal.decide_batch(archive.uow(), actor=group.leader, batch_id=batch_id, approve=True, comment="同意")
    run = appraisal.destroy_batch(archive.uow(), actor=group.manager, batch_id=batch_id)
    assert (run.destroyed, run.extended, run.held) == (1, 1, 0)
    indexing.drain_outbox(archive.uow())
    # No byte of the destroyed record's objects decrypts with any key; search finds nothing of it.
    with archive.uow() as uow:
        document = uow.session.get(Document, doomed.id)
        assert document.is_shredded and document.content_sha256 == f"destroyed:{doomed.id}"
    assert [info for info in archive.object_store.list() if info.key.startswith(doomed_prefix(archive, doomed.id))] == []
    hits = searching.search_documents(archive.uow(), actor=people["clerk"], query=ID_NUMBER)
    assert [h.document_id for h in hits.hits] == [kept.id]
    assert disposition(archive, kept.id).due_on == add_period(add_period(date.today(), 1, None), 5, None)
    (entry,) = register.list_register(archive.uow(), actor=group.leader)
    assert (entry.archive_code, entry.appraisers, entry.approved_by, entry.executed_by, entry.batch_id) == (
        doomed.code, "appraiser1, appraiser2", "leader", "records", batch_id)
    assert entry.schedule == "supply_contract: 1 years 0 months from filing_date, then destroy"
    assert len(entry.content_sha256) == 64
    # The same content may be captured again: the duplicate check forgot it; the register did not.
    again = capture(archive, people["clerk"], tmp_path, "doomed")
    assert again.id != doomed.id
    path = tmp_path / "register.xlsx"
    assert register.export_register_xlsx(archive.uow(), actor=group.leader, path=path) == 1
    from openpyxl import load_workbook

    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0][1].startswith("档号") and rows[1][1] == doomed.code


def doomed_prefix(archive: Archive, document_id: int) -> str:
    with archive.uow() as uow:
        return uow.session.get(Document, document_id).object_key.rsplit("/", 1)[0]


def test_a_hold_placed_between_approval_and_execution_wins(archive, people, group, tmp_path):
    documents = [capture(archive, people["clerk"], tmp_path, f"c{n}") for n in range(2)]
    batch_id = due_batch(archive, group, documents)
    for document in documents:
        agree(archive, group, batch_id, document.code, "destroy")
    appraisal.decide_batch(archive.uow(), actor=group.leader, batch_id=batch_id, approve=True)
    holds.place_legal_hold(archive.uow(), actor=group.manager, target=holds.HoldTarget("document", documents[1].code),
                           hold_type="litigation", reason="新的诉讼")
    run = appraisal.destroy_batch(archive.uow(), actor=group.manager, batch_id=batch_id)
    assert (run.destroyed, run.held) == (1, 1)
    with archive.uow() as uow:
        assert not uow.session.get(Document, documents[1].id).is_shredded
    assert [e.archive_code for e in register.list_register(archive.uow(), actor=group.leader)] == [documents[0].code]
    assert [e.target_id for e in audit_rows(archive, "retention.destruction_skipped")] == [str(documents[1].id)]


def test_a_rejected_batch_returns_to_the_group_with_the_comment_and_its_votes_cleared(archive, people, group,
                                                                                       tmp_path):
    document = capture(archive, people["clerk"], tmp_path, "contract")
    batch_id = due_batch(archive, group, [document])
    agree(archive, group, batch_id, document.code, "destroy")
    with pytest.raises(ValidationError):
        appraisal.decide_batch(archive.uow(), actor=group.leader, batch_id=batch_id, approve=False)
    appraisal.decide_batch(archive.uow(), actor=group.leader, batch_id=batch_id, approve=False, comment="再议")
    (batch,) = appraisal.list_batches(archive.uow(), actor=group.leader)
    assert (batch.status, batch.comment, batch.items[0].decision, batch.items[0].votes) == ("appraising", "再议",
                                                                                         None, 0)
    assert audit_rows(archive, "retention.appraisal_batch_rejected")[0].detail["comment"] == "再议"


def test_two_appraisers_who_disagree_decide_nothing_and_only_appraisers_and_leaders_take_their_steps(
        archive, people, group, tmp_path):
    document = capture(archive, people["clerk"], tmp_path, "contract")
    batch_id = due_batch(archive, group, [document])
    appraisal.appraise_record(archive.uow(), actor=group.appraiser1, batch_id=batch_id, archive_code=document.code,
                              decision="destroy")
    assert appraisal.appraise_record(archive.uow(), actor=group.appraiser2, batch_id=batch_id,
                                     archive_code=document.code, decision="transfer") is None
    for actor in (group.leader, group.manager, people["clerk"]):
        with pytest.raises(AccessDenied):
            appraisal.appraise_record(archive.uow(), actor=actor, batch_id=batch_id, archive_code=document.code,
                                      decision="destroy")
    agree(archive, group, batch_id, document.code, "transfer")
    for actor in (group.appraiser1, group.manager):
        with pytest.raises(AccessDenied):
            appraisal.decide_batch(archive.uow(), actor=actor, batch_id=batch_id, approve=True)
    with pytest.raises(AccessDenied):
        appraisal.destroy_batch(archive.uow(), actor=group.leader, batch_id=batch_id)
    (batch,) = appraisal.list_batches(archive.uow(), actor=group.leader)
    assert batch.status == "appraised" and batch.items[0].decision == "transfer"


def test_the_register_refuses_update_delete_and_replace_in_the_database(archive, people, group, tmp_path):
    document = capture(archive, people["clerk"], tmp_path, "contract")
    batch_id = due_batch(archive, group, [document])
    agree(archive, group, batch_id, document.code, "destroy")
    appraisal.decide_batch(archive.uow(), actor=group.leader, batch_id=batch_id, approve=True)
    appraisal.destroy_batch(archive.uow(), actor=group.manager, batch_id=batch_id)
    statements = ["UPDATE destruction_register SET reason = 'nothing happened'",
                  "DELETE FROM destruction_register"]
    if archive.engine.dialect.name == "sqlite":
        statements.append("INSERT OR REPLACE INTO destruction_register SELECT * FROM destruction_register")
    else:
        statements.append("TRUNCATE destruction_register")
    for statement in statements:
        with pytest.raises(Exception, match="permanent"), archive.engine.begin() as connection:
            connection.execute(text(statement))
    (entry,) = register.list_register(archive.uow(), actor=group.leader)
    assert entry.reason == "due"
    assert register.verify_register(archive.uow(), actor=group.leader) == []
    # A database owner sets the triggers aside and edits the register: its chained audit event tells.
    with archive.engine.begin() as connection:
        if archive.engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER destruction_register_no_update"))
        else:
            connection.execute(text("ALTER TABLE destruction_register DISABLE TRIGGER USER"))
        connection.execute(text("UPDATE destruction_register SET reason = 'nothing happened'"))
    assert register.verify_register(archive.uow(), actor=group.leader) == [document.code]


DESTROY_CHILD = """
import os, signal, sys

from archive.bootstrap import Archive
from archive.services import users
from retention.services import appraisal

batch_id = int(sys.argv[1])
archive = Archive()
original, calls = appraisal._destroy, []


def destroy_then_die(*args, **kwargs):
    original(*args, **kwargs)  # the record is shredded and its register entry written, not yet committed
    calls.append(1)
    if len(calls) == 2:
        print("killed in the second record's transaction", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)


appraisal._destroy = destroy_then_die
appraisal.destroy_batch(archive.uow(), actor=users.resolve_actor(archive.uow(), username="records"), batch_id=batch_id)
"""


def test_a_destruction_killed_mid_batch_resumes_to_completion_on_rerun(archive, people, group, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    documents = [capture(archive, people["clerk"], tmp_path, f"c{n}") for n in range(3)]
    batch_id = due_batch(archive, group, documents)
    for document in documents:
        agree(archive, group, batch_id, document.code, "destroy")
    appraisal.decide_batch(archive.uow(), actor=group.leader, batch_id=batch_id, approve=True)
    env = dict(os.environ, ARCHIVE_HOME=str(archive.settings.home), ARCHIVE_DATABASE_URL=archive.settings.database_url,
               PYTHONPATH=str(root))
    child = subprocess.run([sys.executable, "-c", DESTROY_CHILD, str(batch_id)], env=env, cwd=root,
                           capture_output=True, text=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stderr
    with archive.uow() as uow:
        shredded = [uow.session.get(Document, d.id).is_shredded for d in documents]
    assert shredded == [True, False, False]  # the second record's transaction died whole
    assert [e.archive_code for e in register.list_register(archive.uow(), actor=group.leader)] == [documents[0].code]
    run = appraisal.destroy_batch(archive.uow(), actor=group.manager, batch_id=batch_id)
    assert run.destroyed == 3
    assert [e.archive_code for e in register.list_register(archive.uow(), actor=group.leader)] == [
        d.code for d in documents]
    assert len(audit_rows(archive, "document.shredded")) == 3


# --- transfer 移交 and the PDFs ------------------------------------------------------------------------


def pdf_text(path: Path) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    try:
        text_ = "".join(page.get_textpage().get_text_bounded() for page in document)
    finally:
        document.close()
    return "".join(text_.split())  # table cells wrap long codes over lines


def test_records_handed_over_belong_to_the_receiving_department_once_it_confirms(archive, people, manager, tmp_path):
    from retention.pdf import transfer_pdf
    from retention.services import transfers

    form = capture(archive, people["clerk"], tmp_path, "form", document_type="application_form")
    unfiled = capture(archive, people["clerk"], tmp_path, "late", document_type="application_form", file=False)
    with pytest.raises(ValidationError, match="not filed"):
        transfers.send_transfer(archive.uow(), actor=manager, archive_codes=[unfiled.code], to_department="KF")
    transfer_id = transfers.send_transfer(archive.uow(), actor=manager, archive_codes=[form.code], to_department="KF",
                                          note="营业厅合并")
    users.create_user(archive.uow(), actor=OPERATOR, username="records_kf", password=PASSWORD,
                      role="records_manager", department="KF", clearance="internal")
    receiver = users.resolve_actor(archive.uow(), username="records_kf")
    with pytest.raises(ValidationError, match="receiving department"):
        transfers.receive_transfer(archive.uow(), actor=manager, transfer_id=transfer_id)
    with pytest.raises(AccessDenied):
        transfers.receive_transfer(archive.uow(), actor=people["staff_kf"], transfer_id=transfer_id)
    assert documents_of(archive, people["staff_kf"]) == []  # not theirs until received
    receipt = transfers.receive_transfer(archive.uow(), actor=receiver, transfer_id=transfer_id)
    assert (receipt.from_department, receipt.to_department, receipt.received_by) == ("YX", "KF", "records_kf")
    (item,) = receipt.items
    assert (item.archive_code, item.pages, len(item.content_sha256)) == (form.code, 1, 64)
    assert documents_of(archive, people["staff_kf"]) == [form.code]
    assert [e.event_type for e in audit_rows(archive, "retention.transfer_sent")
            + audit_rows(archive, "retention.transfer_received")] == ["retention.transfer_sent",
                                                                       "retention.transfer_received"]
    transfer_pdf(receipt, tmp_path / "receipt.pdf")
    text_in_pdf = pdf_text(tmp_path / "receipt.pdf")
    assert "移交清单" in text_in_pdf and form.code in text_in_pdf and item.content_sha256 in text_in_pdf


def documents_of(archive: Archive, actor) -> list[str]:  # noqa: ANN001
    from archive import access
    from archive.permissions import permission_document_view

    with archive.uow() as uow:
        scope = access.visible(actor, permission_document_view)
        return list(uow.session.scalars(select(Document.archive_code).where(scope.documents())))


def test_the_register_is_exported_as_a_pdf_with_its_chinese_headings(archive, people, group, tmp_path):
    document = capture(archive, people["clerk"], tmp_path, "contract")
    batch_id = due_batch(archive, group, [document])
    agree(archive, group, batch_id, document.code, "destroy")
    appraisal.decide_batch(archive.uow(), actor=group.leader, batch_id=batch_id, approve=True)
    appraisal.destroy_batch(archive.uow(), actor=group.manager, batch_id=batch_id)
    path = tmp_path / "register.pdf"
    assert register.export_register_pdf(archive.uow(), actor=group.leader, path=path) == 1
    text_in_pdf = pdf_text(path)
    assert "销毁清册" in text_in_pdf and document.code in text_in_pdf
    assert b"/FontFile2" in path.read_bytes()  # the font is embedded, not referenced
    assert [e.detail["format"] for e in audit_rows(archive, "retention.register_exported")] == ["pdf"]
    with pytest.raises(AccessDenied):
        register.export_register_pdf(archive.uow(), actor=people["staff"], path=tmp_path / "no.pdf")


def test_a_contract_counted_from_its_end_date_is_history_after_it_and_due_ten_years_on(archive, people, manager,
                                                                                       tmp_path):
    from archive.services import documents

    schedules.set_schedule(archive.uow(), actor=manager, document_type="supply_contract", years=10, months=None,
                           trigger="contract_end", action="destroy")
    path = write_scan(tmp_path / "contract.png", ["供用电合同"], format="PNG", dpi=100)
    result = capture_document(archive.uow(), actor=people["clerk"], request=CaptureRequest(
        path=path, customer=ID_NUMBER, customer_name="张伟", document_type="supply_contract",
        contract_end_date=date(2030, 12, 31)))
    dispositions.refresh_dispositions(archive.uow(), actor=RETENTION_ACTOR)
    assert disposition(archive, result.document_id).due_on == date(2040, 12, 31)
    view = lambda: documents.get_document(archive.uow(), actor=people["clerk"], document_id=result.document_id)  # noqa: E731
    assert not view().history
    archive.clock = FixedClock(date(2031, 1, 1))
    assert view().history and view().contract_end_date == date(2030, 12, 31)  # still there, marked
