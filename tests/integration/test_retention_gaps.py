"""Retention's remaining parts: reminders for batches that wait, the register kept as a sealed record of
its own, transfer to another fonds with a handover package, a held record's classification, and the
migration that adds them (down and up, on SQLite and PostgreSQL)."""

from __future__ import annotations

import email
import email.policy
import socket
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from archive_fixtures import PASSWORD, audit_rows
from sqlalchemy import inspect
from test_retention import agree, capture, due_batch, group, manager, pdf_text  # noqa: F401 - fixtures

from archive.actors import OPERATOR
from archive.bootstrap import MIGRATIONS, Archive
from archive.errors import AccessDenied
from archive.ports import SetClock
from archive.services import inbox, users
from retention.permissions import RETENTION_ACTOR
from retention.services import appraisal, reminders, schedules
from retention.services.dispositions import add_period

# --- the migration ------------------------------------------------------------------------------------


def _alembic() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _this_migration(config: Config):  # noqa: ANN202 - an alembic Script
    """The revision that adds register_snapshot, found by what it does: its id may be renumbered at merge."""
    (script,) = [s for s in ScriptDirectory.from_config(config).walk_revisions()
                 if "'register_snapshot'" in Path(s.path).read_text()]
    return script


def test_the_retention_migration_goes_down_and_up(archive: Archive):
    config = _alembic()
    script = _this_migration(config)
    with archive.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, script.down_revision)
    with archive.engine.connect() as connection:
        schema = inspect(connection)
        assert "register_snapshot" not in schema.get_table_names()
        assert "reminded_on" not in {c["name"] for c in schema.get_columns("appraisal_batch")}
        assert "to_fonds" not in {c["name"] for c in schema.get_columns("transfer")}
    archive.migrate()
    with archive.engine.connect() as connection:
        schema = inspect(connection)
        assert "register_snapshot" in schema.get_table_names()
        columns = {c["name"]: c for c in schema.get_columns("transfer")}
        assert columns["to_department_id"]["nullable"] and "received_signed_by" in columns


# --- reminders for batches that wait ----------------------------------------------------------------


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str, str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, str(message["Subject"]), message.get_content()))
        return "250 OK"


@pytest.fixture
def smtp(archive: Archive):  # noqa: ANN201
    """A real SMTP server on a free local port, and the archive configured to send through it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    archive.settings = archive.settings.with_overrides(smtp_host="127.0.0.1", smtp_port=port)
    archive.__dict__.pop("mailer", None)
    yield box
    controller.stop()


@pytest.fixture
def mailed_group(archive: Archive, manager):  # noqa: ANN001, ANN201, F811
    """Two appraisers, a third one of another department, and a leader, all with e-mail addresses."""
    for username, role, department in (("appraiser1", "appraiser", "YX"), ("appraiser2", "appraiser", "YX"),
                                       ("appraiser_kf", "appraiser", "KF"), ("leader", "leader", "YX")):
        users.create_user(archive.uow(), actor=OPERATOR, username=username, password=PASSWORD, role=role,
                          department=department, clearance="internal", email=f"{username}@example.com")
    return SimpleNamespace(manager=manager, **{name: users.resolve_actor(archive.uow(), username=name)
                                               for name in ("appraiser1", "appraiser2", "appraiser_kf", "leader")})


def kinds(archive: Archive, actor) -> list[str]:  # noqa: ANN001
    return [entry.kind for entry in inbox.list_inbox(archive.uow(), actor=actor)]


def test_a_batch_that_waits_reminds_its_appraisers_then_its_leader_once_a_day_in_app_and_by_email(
        archive, people, mailed_group, smtp, tmp_path):
    team = mailed_group
    documents = [capture(archive, people["clerk"], tmp_path, f"c{n}") for n in range(2)]
    schedules.set_schedule(archive.uow(), actor=team.manager, document_type="supply_contract", years=1,
                           months=None, trigger="filing_date", action="destroy")
    clock = archive.clock = SetClock(datetime.combine(add_period(date.today(), 2, None), datetime.min.time(),
                                                      tzinfo=UTC).replace(hour=3))
    (batch_id,) = appraisal.gather_due_records(archive.uow(), actor=RETENTION_ACTOR)
    remind = lambda: reminders.send_batch_reminders(archive.uow(), actor=RETENTION_ACTOR)  # noqa: E731
    assert archive.settings.appraisal_remind_days == 7
    clock.advance(days=6, hours=23)
    assert remind() == 0  # not yet longer than seven days
    clock.advance(hours=2)
    assert remind() == 1
    assert remind() == 0  # once a day at most
    assert kinds(archive, team.appraiser1) == kinds(archive, team.appraiser2) == [reminders.TO_APPRAISE]
    assert kinds(archive, team.appraiser_kf) == kinds(archive, team.leader) == []  # not theirs to decide
    assert sorted(to for to, _subject, _body in smtp.messages) == [["appraiser1@example.com"],
                                                                   ["appraiser2@example.com"]]
    _to, subject, body = smtp.messages[0]
    assert subject == f"鉴定批次 {batch_id} 已等待 7 天,请完成鉴定"
    assert f"Appraisal batch {batch_id} has waited 7 days for your appraisal" in body
    (event,) = audit_rows(archive, "retention.appraisal_batch_reminded")
    assert (event.actor_name, event.detail["kind"], event.detail["waited_days"]) == ("system:retention",
                                                                                     reminders.TO_APPRAISE, 7)
    # The first appraiser has voted on every record: the next day only the second is reminded.
    for document in documents:
        appraisal.appraise_record(archive.uow(), actor=team.appraiser1, batch_id=batch_id,
                                  archive_code=document.code, decision="destroy")
    clock.advance(days=1)
    assert remind() == 1
    assert kinds(archive, team.appraiser1) == [reminders.TO_APPRAISE]
    assert kinds(archive, team.appraiser2) == [reminders.TO_APPRAISE] * 2
    # Appraised, the batch now waits for the leader, counted from then.
    for document in documents:
        appraisal.appraise_record(archive.uow(), actor=team.appraiser2, batch_id=batch_id,
                                  archive_code=document.code, decision="destroy")
    clock.advance(days=3)
    assert remind() == 0
    clock.advance(days=5)
    assert remind() == 1
    assert kinds(archive, team.leader) == [reminders.TO_APPROVE]
    assert kinds(archive, team.appraiser2) == [reminders.TO_APPRAISE] * 2
    assert smtp.messages[-1][0] == ["leader@example.com"] and "待您审批" in smtp.messages[-1][1]
    # Returned to the group, the batch waits for the appraisers again, from the day it came back.
    appraisal.decide_batch(archive.uow(), actor=team.leader, batch_id=batch_id, approve=False, comment="再议")
    clock.advance(days=1)
    assert remind() == 0
    clock.advance(days=7)
    assert remind() == 1
    assert kinds(archive, team.appraiser1)[0] == reminders.TO_APPRAISE


def test_without_smtp_a_reminder_is_kept_in_the_inbox_only(archive, people, mailed_group, tmp_path):
    team = mailed_group
    capture(archive, people["clerk"], tmp_path, "c0")
    schedules.set_schedule(archive.uow(), actor=team.manager, document_type="supply_contract", years=1,
                           months=None, trigger="filing_date", action="destroy")
    clock = archive.clock = SetClock(datetime.combine(add_period(date.today(), 2, None), datetime.min.time(),
                                                      tzinfo=UTC))
    appraisal.gather_due_records(archive.uow(), actor=RETENTION_ACTOR)
    archive.settings = archive.settings.with_overrides(appraisal_remind_days=2)
    clock.advance(days=2, minutes=1)
    assert archive.mailer is None
    assert reminders.send_batch_reminders(archive.uow(), actor=RETENTION_ACTOR) == 1
    assert kinds(archive, team.appraiser1) == [reminders.TO_APPRAISE]
    with pytest.raises(AccessDenied):  # only the job or a records manager sends them
        reminders.send_batch_reminders(archive.uow(), actor=team.appraiser1)


def test_inbox_texts_come_from_the_core_and_from_the_features_registry_in_both_languages():
    assert inbox.text("retention.batch_to_approve", {"batch": 4, "days": 9}, "zh") == "鉴定批次 4 已等待 9 天,待您审批"
    assert inbox.text("retention.batch_to_approve", {"batch": 4, "days": 9}, "en") == (
        "Appraisal batch 4 has waited 9 days for your approval")
    assert inbox.text("borrow.to_decide", {"number": "JY-1"}, "en") == "Borrow request JY-1 awaits your decision"
    assert inbox.text("classification.to_decide", {"id": 3}, "zh") == "密级变更申请 #3 待您审批"
    assert inbox.text("unknown.kind", {}, "en") == "unknown.kind"


# --- a hold blocks lowering a record's classification -----------------------------------------------


def test_a_held_record_is_not_downgraded_but_may_be_upgraded_and_is_downgraded_once_released(
        archive, people, manager, tmp_path):  # noqa: F811 - manager is a fixture
    from archive.errors import ValidationError
    from archive.models import Document
    from archive.services import classification
    from retention.services import holds
    from retention.services.holds import HoldGuard

    assert isinstance(archive.disposition_guard, HoldGuard)  # the real guard, wired by the registry
    document = capture(archive, people["clerk"], tmp_path, "secretish")
    users.create_user(archive.uow(), actor=OPERATOR, username="sec", password=PASSWORD, role="security_admin",
                      clearance="public")
    users.create_user(archive.uow(), actor=OPERATOR, username="clerk_s", password=PASSWORD, role="clerk",
                      department="YX", clearance="secret")
    sec, clerk = (users.resolve_actor(archive.uow(), username=name) for name in ("sec", "clerk_s"))
    def level() -> str:
        with archive.uow() as uow:
            return uow.session.get(Document, document.id).classification

    assert level() == "confidential"
    hold_id = holds.place_legal_hold(archive.uow(), actor=manager, target=holds.HoldTarget("document", document.code),
                                     hold_type="litigation", reason="(2026)京0105民初123号")
    upgrade = classification.request_change(archive.uow(), actor=clerk, target_type="document",
                                            target_id=document.id, level="secret", reason="含商业秘密")
    classification.decide_change(archive.uow(), actor=sec, change_id=upgrade, approve=True)
    assert level() == "secret"  # raising a held record is allowed
    downgrade = classification.request_change(archive.uow(), actor=clerk, target_type="document",
                                              target_id=document.id, level="internal", reason="合同已履行完毕")
    with pytest.raises(ValidationError, match="legal hold"):
        classification.decide_change(archive.uow(), actor=sec, change_id=downgrade, approve=True)
    assert level() == "secret"
    assert [e.detail["after"] for e in audit_rows(archive, "classification.changed")] == ["secret"]
    holds.release_legal_hold(archive.uow(), actor=manager, hold_id=hold_id, reason="结案")
    classification.decide_change(archive.uow(), actor=sec, change_id=downgrade, approve=True)  # still pending
    assert level() == "internal"


# --- the register kept as a record of its own -------------------------------------------------------


def cli_json(archive: Archive, *args: str, expect: int = 0) -> object:
    import json

    from click.testing import CliRunner

    from archive.cli import cli

    archive.settings = archive.settings.with_overrides(cli_trusted=True)  # `--as` without a credential
    result = CliRunner().invoke(cli, ["retention", *args, "--as", "records", "--json"], obj={"archive": archive},
                                catch_exceptions=False)
    assert result.exit_code == expect, result.output
    return json.loads(result.output)


def test_a_completed_destruction_keeps_the_register_as_a_sealed_pdf_whose_hash_the_audit_chain_holds(
        archive, people, group, tmp_path):  # noqa: F811 - group is a fixture
    import hashlib

    from archive.models import AuditEvent
    from retention.models import RegisterSnapshot
    from retention.services import register

    documents = [capture(archive, people["clerk"], tmp_path, f"d{n}") for n in range(2)]
    batch_id = due_batch(archive, group, documents)
    for document in documents:
        agree(archive, group, batch_id, document.code, "destroy")
    appraisal.decide_batch(archive.uow(), actor=group.leader, batch_id=batch_id, approve=True)
    run = appraisal.destroy_batch(archive.uow(), actor=group.manager, batch_id=batch_id)
    assert run.destroyed == 2 and run.register_snapshot is not None
    (snapshot,) = register.list_register_snapshots(archive.uow(), actor=group.leader)
    assert (snapshot.id, snapshot.entries, snapshot.batch_id, snapshot.created_by) == (
        run.register_snapshot, 2, batch_id, "records")
    assert snapshot.period_from == snapshot.period_to == archive.clock.today()
    (kept,) = audit_rows(archive, "retention.register_kept")
    assert (kept.actor_name, kept.target_id, kept.detail["sha256"]) == ("records", str(snapshot.id), snapshot.sha256)
    # Sealed in the store: the stored object is not the PDF; decrypted, it is, and its hash is the recorded one.
    with archive.uow() as uow:
        key = uow.session.get(RegisterSnapshot, snapshot.id).object_key
    with archive.object_store.open(key) as raw:
        assert not raw.read().startswith(b"%PDF")
    stream, name = register.open_register_snapshot(archive.uow(), actor=group.leader, snapshot_id=snapshot.id)
    with stream:
        body = stream.read()
    assert body.startswith(b"%PDF") and hashlib.sha256(body).hexdigest() == snapshot.sha256
    assert name.startswith(f"destruction-register-{snapshot.id}-")
    (tmp_path / "kept.pdf").write_bytes(body)
    text_in_pdf = pdf_text(tmp_path / "kept.pdf")
    assert "销毁清册" in text_in_pdf and all(d.code in text_in_pdf for d in documents)
    assert [e.detail["sha256"] for e in audit_rows(archive, "retention.register_snapshot_downloaded")] == [
        snapshot.sha256]
    # On demand, through the CLI; then listed, downloaded and verified there.
    on_demand = cli_json(archive, "register", "--keep")
    assert (on_demand["entries"], on_demand["batch_id"]) == (2, None)
    assert [row["id"] for row in cli_json(archive, "register", "--snapshots")] == [on_demand["id"], snapshot.id]
    out = tmp_path / "again.pdf"
    cli_json(archive, "register", "--snapshot", str(snapshot.id), "--out", str(out))
    assert out.read_bytes() == body
    assert cli_json(archive, "register", "--verify") == {"differing": [], "snapshots_differing": []}
    # Swapped behind the archive's back (the other snapshot's object over this one's): the hash tells.
    with archive.uow() as uow:
        other = uow.session.get(RegisterSnapshot, on_demand["id"]).object_key
    with archive.object_store.open(other) as source:
        archive.object_store.put(key, source)
    assert register.verify_register_snapshots(archive.uow(), actor=group.leader) == [snapshot.id]
    assert cli_json(archive, "register", "--verify", expect=1)["snapshots_differing"] == [snapshot.id]
    # A row rewritten to match the swapped object still differs from its chained audit event.
    with archive.uow() as uow:
        uow.session.get(RegisterSnapshot, snapshot.id).sha256 = on_demand["sha256"]
        uow.commit()
    assert register.verify_register_snapshots(archive.uow(), actor=group.leader) == [snapshot.id]
    with archive.uow() as uow:
        assert uow.session.query(AuditEvent).filter_by(event_type="retention.register_kept").count() == 2


def test_only_a_records_manager_keeps_the_register_and_a_refusal_keeps_nothing(archive, people, group):  # noqa: F811
    from retention.services import register

    for actor in (group.leader, people["staff"], group.appraiser1):
        with pytest.raises(AccessDenied):
            register.keep_register(archive.uow(), actor=actor)
    assert register.list_register_snapshots(archive.uow(), actor=group.leader) == []
    assert audit_rows(archive, "retention.register_kept") == []
    assert list(archive.object_store.list("retention/")) == []
    with pytest.raises(AccessDenied):
        register.list_register_snapshots(archive.uow(), actor=people["staff"])


# --- transfer to another fonds ----------------------------------------------------------------------


def test_records_go_to_another_fonds_with_a_package_of_originals_manifest_and_receipt_and_its_confirmation(
        archive, people, manager, tmp_path):  # noqa: F811 - manager is a fixture
    import hashlib
    import json

    from archive.errors import ValidationError
    from archive.models import Document
    from retention.services import transfers

    records = [capture(archive, people["clerk"], tmp_path, f"out{n}", document_type="application_form")
               for n in range(2)]
    unfiled = capture(archive, people["clerk"], tmp_path, "late", document_type="application_form", file=False)
    send = lambda **kw: transfers.send_transfer(archive.uow(), actor=manager, **kw)  # noqa: E731
    codes = [r.code for r in records]
    with pytest.raises(ValidationError, match="not filed"):
        send(archive_codes=[unfiled.code], to_fonds="Z002", to_archive="国网某市供电公司档案馆")
    with pytest.raises(ValidationError, match="own fonds"):
        send(archive_codes=codes, to_fonds=archive.settings.fonds, to_archive="x")
    with pytest.raises(ValidationError, match="receiving archive"):
        send(archive_codes=codes, to_fonds="Z002")
    with pytest.raises(ValidationError, match="either"):
        send(archive_codes=codes, to_department="KF", to_fonds="Z002", to_archive="x")
    transfer_id = send(archive_codes=codes, to_fonds="Z002", to_archive="国网某市供电公司档案馆", note="机构调整")
    (sent,) = audit_rows(archive, "retention.transfer_sent")
    assert (sent.detail["to_fonds"], sent.detail["records"]) == ("Z002", 2)
    with pytest.raises(ValidationError, match="reference"):  # no department of ours receives it
        transfers.receive_transfer(archive.uow(), actor=manager, transfer_id=transfer_id)
    with pytest.raises(AccessDenied):
        transfers.write_handover_package(archive.uow(), actor=people["clerk"], transfer_id=transfer_id,
                                         directory=tmp_path / "nope")
    assert not (tmp_path / "nope").exists()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(ValidationError, match="empty"):
        transfers.write_handover_package(archive.uow(), actor=manager, transfer_id=transfer_id,
                                         directory=tmp_path / "full")
    package_dir = tmp_path / "package"
    package = transfers.write_handover_package(archive.uow(), actor=manager, transfer_id=transfer_id,
                                               directory=package_dir)
    assert package.records == 2
    body = (package_dir / "manifest.json").read_bytes()
    assert hashlib.sha256(body).hexdigest() == package.manifest_sha256
    manifest = json.loads(body)
    assert (manifest["from_fonds"], manifest["to_fonds"], manifest["to_archive"]) == (
        archive.settings.fonds, "Z002", "国网某市供电公司档案馆")
    with archive.uow() as uow:
        expected = {d.archive_code: (d.content_sha256, len(d.pages), d.document_type)
                    for d in uow.session.query(Document).filter(Document.archive_code.in_(codes))}
    assert [r["archive_code"] for r in manifest["records"]] == sorted(codes)
    for record in manifest["records"]:
        original = (package_dir / record["file"]).read_bytes()  # decrypted: the original as captured
        assert hashlib.sha256(original).hexdigest() == record["sha256"] == expected[record["archive_code"]][0]
        assert (record["pages"], record["document_type"]) == expected[record["archive_code"]][1:]
        assert original.startswith(b"\x89PNG") and record["size"] == len(original)
    receipt = package_dir / "receipt.pdf"
    assert hashlib.sha256(receipt.read_bytes()).hexdigest() == manifest["receipt"]["sha256"]
    text_in_pdf = pdf_text(receipt)
    assert "移交清单" in text_in_pdf and "Z002" in text_in_pdf and all(c in text_in_pdf for c in codes)
    (packaged,) = audit_rows(archive, "retention.transfer_packaged")
    assert (packaged.detail["manifest_sha256"], packaged.detail["archive_codes"]) == (package.manifest_sha256,
                                                                                     sorted(codes))
    # The receiving archive confirms; our records manager records its reference and who signed.
    with pytest.raises(ValidationError, match="signed"):
        transfers.confirm_fonds_receipt(archive.uow(), actor=manager, transfer_id=transfer_id, reference="Z002-2026-17",
                                        signed_by=" ")
    view = transfers.confirm_fonds_receipt(archive.uow(), actor=manager, transfer_id=transfer_id,
                                           reference="Z002-JS-2026-17", signed_by="李娜")
    assert (view.to_fonds, view.receiver_reference, view.received_signed_by, view.received_by) == (
        "Z002", "Z002-JS-2026-17", "李娜", "records")
    with pytest.raises(ValidationError, match="already"):
        transfers.confirm_fonds_receipt(archive.uow(), actor=manager, transfer_id=transfer_id, reference="again",
                                        signed_by="again")
    (received,) = audit_rows(archive, "retention.transfer_received")
    assert (received.actor_name, received.detail["reference"], received.detail["signed_by"]) == (
        "records", "Z002-JS-2026-17", "李娜")
    assert [t.id for t in transfers.list_transfers(archive.uow(), actor=manager)] == [transfer_id]


def test_the_cli_sends_to_another_fonds_writes_the_package_and_records_the_confirmation(
        archive, people, manager, tmp_path):  # noqa: F811 - manager is a fixture
    record = capture(archive, people["clerk"], tmp_path, "cli", document_type="application_form")
    sent = cli_json(archive, "transfer", "send", record.code, "--to-fonds", "Z002", "--to-archive", "某档案馆")
    package = cli_json(archive, "transfer", "package", str(sent["transfer_id"]), "--dir", str(tmp_path / "p"))
    assert package["records"] == 1 and (tmp_path / "p" / "manifest.json").exists()
    received = cli_json(archive, "transfer", "receive", str(sent["transfer_id"]), "--reference", "R-1",
                        "--signed-by", "王芳")
    assert (received["receiver_reference"], received["received_signed_by"]) == ("R-1", "王芳")
    (listed,) = cli_json(archive, "transfer", "list")
    assert (listed["to_fonds"], listed["to_archive"]) == ("Z002", "某档案馆")
    cli_json(archive, "transfer", "show", str(sent["transfer_id"]), "--pdf", str(tmp_path / "r.pdf"))
    assert "R-1" in pdf_text(tmp_path / "r.pdf")


def test_key_rotation_rewraps_the_kept_snapshots_and_never_retires_a_key_they_need(archive, people, group):  # noqa: F811
    from archive.services import keys
    from retention.models import RegisterSnapshot
    from retention.services import register
    from storage.envelope import Keyring

    kept = register.keep_register(archive.uow(), actor=group.manager)
    with archive.uow() as uow:
        assert uow.session.get(RegisterSnapshot, kept.id).key_id == "k1"
    # Only the snapshot uses k1 here (no document captured): a new key made active by hand, k1 stays.
    keyring = Keyring.load(archive.settings.key_file)
    keyring.add_key()
    keyring.save(archive.settings.key_file)
    archive.keyring.adopt(keyring)
    assert keys.retire_unused_keys(archive.uow(), actor=OPERATOR) == []  # the snapshot still needs k1
    keys.rewrap_data_keys(archive.uow(), actor=OPERATOR)
    with archive.uow() as uow:
        assert uow.session.get(RegisterSnapshot, kept.id).key_id == "k2"
    assert keys.retire_unused_keys(archive.uow(), actor=OPERATOR) == ["k1"]
    stream, _name = register.open_register_snapshot(archive.uow(), actor=group.leader, snapshot_id=kept.id)
    with stream:
        assert stream.read().startswith(b"%PDF")
    assert register.verify_register_snapshots(archive.uow(), actor=group.leader) == []
