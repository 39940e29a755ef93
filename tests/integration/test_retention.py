"""Retention: disposition dates from schedules and triggers, legal holds that bind, travelling by an
injected clock (never sleeping through a period)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from archive.actors import OPERATOR
from archive.bootstrap import Archive
from archive.capture.services import CaptureRequest, capture_document
from archive.cli import cli
from archive.demo.samples import write_scan
from archive.errors import AccessDenied, RecordHeldError, ValidationError
from archive.identity import resident_id_check_digit
from archive.models import AuditEvent
from archive.services import shredding, users
from retention.models import Disposition, LegalHold
from retention.permissions import RETENTION_ACTOR
from retention.services import dispositions, holds, schedules
from retention.services.dispositions import add_period
from tests.archive_fixtures import PASSWORD

ID_NUMBER = "11010519491231002" + resident_id_check_digit("11010519491231002")
OTHER_ID = "31010419900621328" + resident_id_check_digit("31010419900621328")
SHREDDER = RETENTION_ACTOR.__class__.system("retention-disposal", frozenset({"document.shred"}))


class TravellingClock:
    def __init__(self, day: date) -> None:
        self.day = day

    def now(self) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, 12, tzinfo=UTC)

    def today(self) -> date:
        return self.day


@pytest.fixture
def manager(archive: Archive):  # noqa: ANN201
    users.create_user(archive.uow(), actor=OPERATOR, username="records", password=PASSWORD, role="records_manager",
                      department="YX", clearance="internal")
    return users.resolve_actor(archive.uow(), username="records", remote_addr="127.0.0.1")


def capture(archive: Archive, actor, tmp_path: Path, name: str, *, customer: str = ID_NUMBER,  # noqa: ANN001
            document_type: str = "supply_contract") -> SimpleNamespace:
    path = write_scan(tmp_path / f"{name}.png", [f"{name} 供用电合同"], format="PNG", dpi=100)
    result = capture_document(archive.uow(), actor=actor, request=CaptureRequest(
        path=path, filename=path.name, customer=customer, customer_name="张伟", document_type=document_type))
    return SimpleNamespace(id=result.document_id, code=result.archive_code)


def due_codes(archive: Archive, actor, on: date | None = None) -> list[str]:  # noqa: ANN001
    return [row.archive_code for row in dispositions.due_records(archive.uow(), actor=actor, on=on)]


def audit_rows(archive: Archive, event_type: str) -> list[SimpleNamespace]:
    with archive.uow() as uow:
        query = select(AuditEvent).where(AuditEvent.event_type == event_type).order_by(AuditEvent.id)
        columns = AuditEvent.__table__.columns.keys()
        return [SimpleNamespace(**{c: getattr(e, c) for c in columns}) for e in uow.session.scalars(query)]


def disposition(archive: Archive, document_id: int) -> SimpleNamespace:
    with archive.uow() as uow:
        row = uow.session.get(Disposition, document_id)
        return SimpleNamespace(trigger_date=row.trigger_date, due_on=row.due_on, action=row.action)


def test_a_period_ends_on_the_same_day_or_the_last_day_of_a_shorter_month():
    assert add_period(date(2024, 2, 29), 30, None) == date(2054, 2, 28)
    assert add_period(date(2024, 1, 31), None, 1) == date(2024, 2, 29)
    assert add_period(date(2024, 11, 15), 1, 3) == date(2026, 2, 15)


def test_a_contract_is_due_thirty_years_after_filing_and_not_a_day_before(archive, people, manager, tmp_path):
    document = capture(archive, people["clerk"], tmp_path, "contract")
    assert dispositions.refresh_dispositions(archive.uow(), actor=RETENTION_ACTOR) == (1, 0)
    filed = date.today()
    due = add_period(filed, 30, None)
    assert disposition(archive, document.id).due_on == due
    archive.clock = TravellingClock(date.fromordinal(due.toordinal() - 1))
    assert due_codes(archive, manager) == []
    archive.clock = TravellingClock(due)  # thirty years on, by the clock the archive is given
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

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, ["retention", *args, "--as", "records", "--json"], obj={"archive": archive},
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    assert run("schedule", "set", "supply_contract", "--years", "1", "--action", "destroy",
               "--dry-run")["records_moved"] == 1
    assert run("schedule", "set", "supply_contract", "--years", "1", "--action", "destroy")["saved"] is True
    assert run("due", "--on", add_period(date.today(), 1, None).isoformat())[0]["archive_code"] == document.code
    hold_id = run("hold", "place", "--document", document.code, "--type", "litigation", "--reason", "案件")["hold_id"]
    assert [h["id"] for h in run("hold", "list")] == [hold_id]
    assert run("due", "--on", "2100-01-01") == []
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
        command.downgrade(config, "-1")
    with archive.engine.begin() as connection:
        tables = {row[0] for row in connection.execute(text(
            "SELECT name FROM sqlite_master WHERE type='table'" if archive.engine.dialect.name == "sqlite"
            else "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))}
        assert not {"legal_hold", "retention_schedule", "retention_disposition", "retention_event"} & tables
        assert connection.execute(text("SELECT count(*) FROM document")).scalar() == 1
    archive.migrate()
    assert holds.list_legal_holds(archive.uow(), actor=manager) == []
    dispositions.refresh_dispositions(archive.uow(), actor=RETENTION_ACTOR)
    assert disposition(archive, document.id).due_on == add_period(date.today(), 30, None)
