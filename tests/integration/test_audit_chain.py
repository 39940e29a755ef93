"""The tamper-evident audit trail: the hash chain, signed checkpoints, verification online and offline.

Tampering is done as a database owner would: directly in SQL, after dropping the append-only triggers.
Every test runs on SQLite and on the suite's PostgreSQL (the `archive` fixture).
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, text

from archive import audit
from archive import audit_format as chainformat
from archive.actors import Actor
from archive.compliance import services
from archive.compliance.events import event_audit_exported, event_audit_proved, event_audit_verified
from archive.compliance.models import AuditCheckpoint
from archive.compliance.permissions import AUDITOR, CHECKPOINTER
from archive.compliance.signing import SM2, PublicKey, Signer, public_key_path
from archive.compliance.verify import read_export, verify_chain, verify_proof
from archive.errors import AccessDenied
from archive.events import event_access_denied
from archive.models import AuditEvent

REPO = Path(__file__).resolve().parents[2]
WRITER = Actor.system("test-writer")


def write_events(archive, count: int, *, per_transaction: int = 1, actor: Actor = WRITER) -> None:
    for start in range(0, count, per_transaction):
        with archive.session_factory() as session:
            for i in range(start, min(count, start + per_transaction)):
                audit.record(session, actor, "document.viewed", target_type="document", target_id=i, n=i,
                             note="查阅 ✓")
            session.commit()


def checkpoint(archive, signer: Signer | None = None):
    return services.sign_checkpoint(archive.uow(), actor=CHECKPOINTER,
                                    signer=signer or services.signer_for(archive.settings), interval_minutes=15)


def public_key(archive) -> PublicKey:
    return services.public_key_for(archive.settings)


def verify(archive, deposited=()):
    return services.verify_trail(archive.uow(), actor=AUDITOR, public_keys=[public_key(archive)],
                                 deposited=list(deposited))


def chain_rows(archive):
    with archive.session_factory() as session:
        return session.execute(select(AuditEvent.id, AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.hash)
                               .order_by(AuditEvent.seq)).all()


def event_at(archive, seq: int) -> int:
    with archive.session_factory() as session:
        return session.scalar(select(AuditEvent.id).where(AuditEvent.seq == seq))


def drop_append_only_guards(archive) -> None:
    """What a database owner can do: remove the triggers that refuse UPDATE and DELETE."""
    with archive.engine.begin() as connection:
        if archive.engine.dialect.name == "sqlite":
            names = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND "
                                            "tbl_name IN ('audit_event', 'audit_checkpoint') AND "
                                            "name LIKE '%no_%'")).scalars().all()
            for name in names:
                connection.execute(text(f'DROP TRIGGER "{name}"'))
        else:
            for table in ("audit_event", "audit_checkpoint"):
                names = connection.execute(text("SELECT tgname FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) "
                                                "AND NOT tgisinternal AND tgname LIKE '%append_only'"),
                                           {"t": table}).scalars().all()
                for name in names:
                    connection.execute(text(f'DROP TRIGGER "{name}" ON {table}'))


def tamper(archive, *statements: str, **params: object) -> None:
    drop_append_only_guards(archive)
    with archive.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), params)


@pytest.fixture
def trail(archive):
    """Twelve events after the fixture's own, all signed by a checkpoint; returns the archive."""
    write_events(archive, 12, per_transaction=3)
    checkpoint(archive)
    return archive


# --- the chain ---------------------------------------------------------------------------------------


def test_every_event_takes_the_next_place_in_one_chain_linked_to_the_one_before(trail):
    rows = chain_rows(trail)
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == chainformat.GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(rows, rows[1:], strict=False))
    report = verify(trail)
    assert report.ok, report.problems
    assert report.events_checked == len(rows) and report.unsigned_events == 0


def test_the_stored_hash_is_the_sha256_of_the_documented_canonical_bytes(trail):
    with trail.session_factory() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.event_type == "document.viewed")
                                .order_by(AuditEvent.seq).limit(1)).one()
    values = [chainformat.format_time(event.occurred_at), None, "system:test-writer", "document.viewed", "document",
              "0", "ok", "", {"n": 0, "note": "查阅 ✓"}]
    raw = json.dumps(["archive-audit/1", "audit_event", event.seq, event.prev_hash, *values], sort_keys=True,
                     separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    import hashlib

    assert hashlib.sha256(raw).hexdigest() == event.hash


def test_events_of_a_rolled_back_transaction_take_no_place_in_the_chain(archive):
    before = chain_rows(archive)
    with archive.session_factory() as session:
        audit.record(session, WRITER, "document.viewed")
        session.rollback()
        audit.record(session, WRITER, "document.downloaded")
        session.commit()
    rows = chain_rows(archive)
    assert len(rows) == len(before) + 1 and rows[-1].seq == len(rows)
    assert verify(archive).ok


def test_a_denial_audited_in_its_own_transaction_is_chained_too(archive, people):
    with pytest.raises(AccessDenied):
        services.export_events(archive.uow(), actor=people["staff"], out=io.BytesIO())
    with archive.session_factory() as session:
        denial = session.scalars(select(AuditEvent).where(AuditEvent.event_type == event_access_denied)).one()
    assert denial.seq == chain_rows(archive)[-1].seq and denial.hash
    assert verify(archive).ok


def test_the_append_only_triggers_still_refuse_an_update(trail):
    with pytest.raises(Exception, match="append-only"), trail.engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET actor_name = 'x' WHERE seq = 1"))


def test_concurrent_writers_cannot_fork_the_chain(archive):
    """Eight threads commit events at once while four others commit transactions without any."""
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            write_events(archive, 30, per_transaction=1 + index % 3, actor=Actor.system(f"writer-{index}"))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def bystander() -> None:
        try:
            for _ in range(30):
                with archive.session_factory() as session:
                    session.execute(text("SELECT count(*) FROM department"))
                    session.commit()
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    before = len(chain_rows(archive))
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    threads += [threading.Thread(target=bystander) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    rows = chain_rows(archive)
    assert len(rows) == before + 8 * 30
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert len({r.prev_hash for r in rows}) == len(rows)  # no two events claim the same predecessor
    checkpoint(archive)
    assert verify(archive).ok


# --- tampering, each detected and located -------------------------------------------------------------


def test_an_edited_event_is_detected_and_named(trail):
    victim = event_at(trail, 7)
    tamper(trail, "UPDATE audit_event SET actor_name = 'someone else' WHERE seq = 7")
    report = verify(trail)
    first = report.first_problem
    assert (first.kind, first.seq, first.event_id) == ("edited", 7, victim)


def test_an_edited_hash_column_is_detected_too(trail):
    tamper(trail, "UPDATE audit_event SET hash = :h WHERE seq = 4", h="ab" * 32)
    first = verify(trail).first_problem
    assert (first.kind, first.seq) == ("edited", 4)


def test_a_deleted_event_is_detected_and_located(trail):
    tamper(trail, "DELETE FROM audit_event WHERE seq = 5")
    first = verify(trail).first_problem
    assert (first.kind, first.seq, first.event_id) == ("deleted", 5, event_at(trail, 6))
    assert "seq 5 are missing" in first.message


def test_an_event_inserted_outside_the_application_is_detected(trail):
    tamper(trail, "INSERT INTO audit_event (occurred_at, actor_name, event_type, target_type, target_id, outcome, "
                  "remote_addr, detail) VALUES (CURRENT_TIMESTAMP, 'ghost', 'document.viewed', '', '', 'ok', '', '{}')")
    report = verify(trail)
    assert report.first_problem.kind == "inserted" and report.first_problem.seq is None
    assert "no place in the chain" in report.first_problem.message


def test_an_event_inserted_and_renumbered_with_a_valid_hash_is_detected_and_located(trail):
    # The attacker knows the (public) format: they renumber the later events and hash the forged one right.
    rows = chain_rows(trail)
    forged_values = ["2026-01-01T00:00:00.000000Z", None, "ghost", "document.viewed", "", "", "ok", "", {}]
    forged_hash = chainformat.entry_hash("audit_event", 5, rows[3].hash, forged_values)
    tamper(trail, "UPDATE audit_event SET seq = -(seq + 1) WHERE seq >= 5",
           "UPDATE audit_event SET seq = -seq WHERE seq < 0",
           "INSERT INTO audit_event (occurred_at, actor_id, actor_name, event_type, target_type, target_id, outcome, "
           "remote_addr, detail, seq, prev_hash, hash) VALUES ('2026-01-01 00:00:00', NULL, 'ghost', "
           "'document.viewed', '', '', 'ok', '', '{}', 5, :prev, :hash)",
           "UPDATE audit_chain_head SET seq = seq + 1",  # the last event keeps its hash: the head's still fits
           prev=rows[3].hash, hash=forged_hash)
    first = verify(trail).first_problem
    assert (first.kind, first.seq) == ("inserted", 5), first


def test_reordered_events_are_detected_and_located(trail):
    fifth, sixth = event_at(trail, 5), event_at(trail, 6)
    tamper(trail, "UPDATE audit_event SET seq = -1 WHERE seq = 5",
           "UPDATE audit_event SET seq = 5 WHERE seq = 6",
           "UPDATE audit_event SET seq = 6 WHERE seq = -1")
    first = verify(trail).first_problem
    assert (first.kind, first.seq, first.event_id) == ("reordered", 5, sixth)
    assert "written at seq 6" in first.message and fifth != sixth


def test_a_truncated_end_is_detected_against_the_signed_checkpoint(trail):
    last = chain_rows(trail)[-1].seq
    tamper(trail, "DELETE FROM audit_event WHERE seq > :keep", keep=last - 3)
    first = verify(trail).first_problem
    assert (first.kind, first.seq) == ("truncated", last - 2)


def test_truncation_with_the_checkpoints_removed_too_is_caught_by_the_deposited_checkpoint(trail):
    deposited = services.list_checkpoints(trail.uow(), actor=AUDITOR, limit=1)[0].file
    last = chain_rows(trail)[-1].seq
    tamper(trail, "DELETE FROM audit_event WHERE seq > :keep", "DELETE FROM audit_checkpoint", keep=last - 3)
    # Internally consistent now: only the copy held elsewhere can tell.
    first = verify(trail, deposited=[deposited]).first_problem
    assert (first.kind, first.seq) == ("truncated", last - 2)


def test_a_chain_rewritten_with_fresh_hashes_does_not_match_the_signed_checkpoint(trail):
    rows = chain_rows(trail)
    tamper(trail, "UPDATE audit_event SET actor_name = 'someone else' WHERE seq = 6")
    with trail.session_factory() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.seq >= 6).order_by(AuditEvent.seq)).all()
        prev = rows[4].hash
        links = []
        for event in events:
            digest = chainformat.entry_hash("audit_event", event.seq, prev, chainformat.audit_event_values(
                {name: getattr(event, name) for name in chainformat.AUDIT_EVENT_FIELDS}))
            links.append({"seq": event.seq, "prev": prev, "hash": digest})
            prev = digest
    with trail.engine.begin() as connection:
        for link in links:
            connection.execute(text("UPDATE audit_event SET prev_hash = :prev, hash = :hash WHERE seq = :seq"), link)
    report = verify(trail)
    assert {p.kind for p in report.problems} == {"rewritten"}
    assert "checkpoint 1" in report.first_problem.message


def test_a_forged_checkpoint_signature_is_refused(trail):
    forged = services.list_checkpoints(trail.uow(), actor=AUDITOR, limit=1)[0].file
    forged = {"checkpoint": {**forged["checkpoint"], "seq": forged["checkpoint"]["seq"] + 5},
              "signature": forged["signature"]}
    first = verify(trail, deposited=[forged]).first_problem
    assert first.kind == "checkpoint" and "does not verify" in first.message


def test_a_failed_verification_is_audited_with_its_first_problem(trail):
    tamper(trail, "UPDATE audit_event SET outcome = 'denied' WHERE seq = 3")
    verify(trail)
    with trail.session_factory() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.event_type == event_audit_verified)).one()
    assert event.outcome == "failed" and event.detail["first_problem_kind"] == "edited"
    assert event.detail["first_problem_seq"] == 3 and event.actor_name == "system:cli-audit"


# --- checkpoints --------------------------------------------------------------------------------------


def test_a_heartbeat_checkpoint_is_signed_when_nothing_happened_and_chains_to_the_previous(trail):
    first = services.list_checkpoints(trail.uow(), actor=AUDITOR)[0]
    heartbeat = checkpoint(trail)
    assert heartbeat.event_count == 0 and heartbeat.seq == first.seq and heartbeat.from_seq == first.seq + 1
    assert heartbeat.file["checkpoint"]["previous"] == chainformat.checkpoint_digest(first.file)
    assert verify(trail).ok


def test_a_checkpoint_may_be_signed_with_sm2_and_sm3(trail, tmp_path):
    signer = Signer.load_or_create(tmp_path / "sm2.json", SM2)
    write_events(trail, 2)
    view = checkpoint(trail, signer)
    assert view.algorithm == "sm2-sm3"
    report = services.verify_trail(trail.uow(), actor=AUDITOR, public_keys=[public_key(trail), signer.public])
    assert report.ok, report.problems
    report = services.verify_trail(trail.uow(), actor=AUDITOR, public_keys=[public_key(trail)])
    assert report.first_problem.kind == "checkpoint" and "not among the public keys" in report.first_problem.message


def test_the_signing_key_lives_outside_the_database_private_to_its_owner(archive):
    services.signer_for(archive.settings)
    path = archive.settings.audit_signing_key_file
    assert path.parent == archive.settings.home / "keys" and oct(path.stat().st_mode & 0o777) == "0o600"
    assert PublicKey.load(public_key_path(path)).key_id == services.signer_for(archive.settings).key_id


def test_only_the_checkpoint_signer_may_sign_and_a_refusal_signs_nothing(archive, people):
    with pytest.raises(AccessDenied):
        checkpoint_as = services.sign_checkpoint
        checkpoint_as(archive.uow(), actor=people["auditor"], signer=services.signer_for(archive.settings),
                      interval_minutes=15)
    with archive.session_factory() as session:
        assert session.scalar(select(AuditCheckpoint).limit(1)) is None
        denial = session.scalars(select(AuditEvent).where(AuditEvent.event_type == event_access_denied)).one()
    assert denial.actor_name == "auditor" and denial.detail["permission"] == "audit.checkpoint"


def test_a_broken_chain_is_not_signed_over(trail):
    write_events(trail, 3)
    tamper(trail, "DELETE FROM audit_event WHERE seq = :seq", seq=chain_rows(trail)[-2].seq)
    with pytest.raises(services.ChainBrokenError):
        checkpoint(trail)


# --- export, offline verification, proofs -------------------------------------------------------------


def export(archive, fmt: str = "jsonl", actor: Actor = AUDITOR, **kwargs) -> bytes:
    out = io.BytesIO()
    services.export_events(archive.uow(), actor=actor, out=out, fmt=fmt, **kwargs)
    return out.getvalue()


def offline_verify(*args: str) -> subprocess.CompletedProcess[str]:
    """The regulator's run: a fresh interpreter that cannot import the database layer or the app."""
    code = ("import sys\n"
            "for name in ('sqlalchemy', 'flask', 'click', 'alembic', 'psycopg', 'archive.models', 'archive.config'):\n"
            "    sys.modules[name] = None\n"
            "from archive.compliance.verify import main\n"
            f"sys.exit(main({list(args)!r}))\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env={},
                          timeout=120)


def test_an_export_verifies_offline_with_only_the_public_key(trail, tmp_path, people):
    write_events(trail, 3)  # signed by no checkpoint yet: reported, not a problem
    path = tmp_path / "trail.jsonl"
    path.write_bytes(export(trail, actor=people["auditor"]))
    key = tmp_path / "archive.pub.json"
    key.write_text(json.dumps(public_key(trail).as_json()))
    result = offline_verify(str(path), "--public-key", str(key))
    assert result.returncode == 0, result.stdout + result.stderr
    assert ": ok; 3 newest events not yet signed" in result.stdout
    with trail.session_factory() as session:
        exported = session.scalars(select(AuditEvent).where(AuditEvent.event_type == event_audit_exported)).one()
    assert exported.actor_name == "auditor" and exported.detail["format"] == "jsonl"


def test_an_edited_export_fails_offline_naming_the_event(trail, tmp_path):
    lines = export(trail).decode().splitlines()
    index = next(i for i, line in enumerate(lines) if '"seq":8,' in line)
    event = json.loads(lines[index])
    event["outcome"] = "denied"
    lines[index] = json.dumps(event, ensure_ascii=False)
    path = tmp_path / "edited.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    key = tmp_path / "archive.pub.json"
    key.write_text(json.dumps(public_key(trail).as_json()))
    result = offline_verify(str(path), "--public-key", str(key))
    assert result.returncode == 1
    assert f"first: edited: event id {event['id']} at seq 8 was edited" in result.stdout


def test_an_export_does_not_verify_under_another_public_key(trail, tmp_path):
    path = tmp_path / "trail.jsonl"
    path.write_bytes(export(trail))
    other = tmp_path / "other.pub.json"
    other.write_text(json.dumps(Signer.generate().public.as_json()))
    result = offline_verify(str(path), "--public-key", str(other))
    assert result.returncode == 1 and "not among the public keys given" in result.stdout


def test_an_export_of_a_time_range_is_widened_to_whole_signed_periods(trail):
    write_events(trail, 4)
    checkpoint(trail)
    with trail.session_factory() as session:
        late = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    header, events, checkpoints = read_export_bytes(export(trail, since=late.occurred_at))
    assert [e["seq"] for e in events] == list(range(late.seq - 3, late.seq + 1))
    assert [c["checkpoint"]["number"] for c in checkpoints] == [1, 2]  # the anchor and the period's own
    report = verify_chain(iter(events), checkpoints=checkpoints, public_keys=[public_key(trail)])
    assert report.ok and not report.warnings, (report.problems, report.warnings)


def read_export_bytes(data: bytes):
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".jsonl") as handle:
        handle.write(data)
        handle.flush()
        return read_export(Path(handle.name))


def test_csv_and_xlsx_exports_carry_the_chain_columns(trail):
    import csv

    events = len(chain_rows(trail))
    rows = list(csv.reader(io.StringIO(export(trail, "csv").decode("utf-8-sig"))))
    assert rows[0][:2] == ["seq", "id"] and rows[0][-2:] == ["prev_hash", "hash"]
    assert len(rows) - 1 == events
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(export(trail, "xlsx")), read_only=True)
    assert [cell.value for cell in next(book["audit"].iter_rows())][-1] == "hash"
    assert len(list(book["checkpoints"].iter_rows())) == 2


def test_an_inclusion_proof_verifies_offline_and_a_forged_one_does_not(trail, tmp_path, people):
    event_id = event_at(trail, 9)
    proof = services.prove_event(trail.uow(), actor=people["auditor"], event_id=event_id)
    assert verify_proof(proof, [public_key(trail)]) is None
    path, key = tmp_path / "proof.json", tmp_path / "key.json"
    path.write_text(json.dumps(proof))
    key.write_text(json.dumps(public_key(trail).as_json()))
    result = offline_verify("--proof", str(path), "--public-key", str(key))
    assert result.returncode == 0 and "proof ok" in result.stdout
    forged = json.loads(json.dumps(proof))
    forged["event"]["actor_name"] = "someone else"
    assert verify_proof(forged, [public_key(trail)]) == "the event's content does not match its hash"
    forged = json.loads(json.dumps(proof))
    forged["path"][0] = "00" * 32
    assert verify_proof(forged, [public_key(trail)]) == "the audit path does not lead to the signed Merkle root"
    with trail.session_factory() as session:
        proved = session.scalars(select(AuditEvent).where(AuditEvent.event_type == event_audit_proved)).one()
    assert proved.target_id == str(event_id) and proved.actor_name == "auditor"


@pytest.mark.parametrize("service", ["export", "verify", "prove"])
def test_staff_may_not_read_the_trail_and_the_denial_is_audited(trail, people, service):
    calls = {
        "export": lambda: services.export_events(trail.uow(), actor=people["staff"], out=io.BytesIO()),
        "verify": lambda: services.verify_trail(trail.uow(), actor=people["staff"], public_keys=[]),
        "prove": lambda: services.prove_event(trail.uow(), actor=people["staff"], event_id=1),
    }
    before = len(chain_rows(trail))
    with pytest.raises(AccessDenied):
        calls[service]()
    with trail.session_factory() as session:
        types = session.scalars(select(AuditEvent.event_type).where(AuditEvent.seq > before)).all()
    assert types == [event_access_denied]


def test_a_seal_exports_verifies_and_records_a_range(trail, tmp_path):
    seal = services.seal_range(trail.uow, actor=AUDITOR, directory=tmp_path / "sealed",
                               public_keys=[public_key(trail)])
    assert seal["verified"] and seal["events"] >= 12 and seal["checkpoints"] == [1]
    import hashlib

    assert hashlib.sha256((tmp_path / "sealed" / seal["file"]).read_bytes()).hexdigest() == seal["sha256"]


# --- the migration ------------------------------------------------------------------------------------


def test_the_migration_links_existing_events_and_goes_down_and_up_again(archive):
    from alembic import command
    from alembic.config import Config

    from archive.bootstrap import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with archive.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    with archive.engine.begin() as connection:
        connection.execute(text("INSERT INTO audit_event (occurred_at, actor_name, event_type, target_type, "
                                "target_id, outcome, remote_addr, detail) VALUES (CURRENT_TIMESTAMP, 'old', "
                                "'user.logged_in', '', '', 'ok', '', '{\"k\": [1, 2]}')"))
        count = connection.execute(text("SELECT count(*) FROM audit_event")).scalar()
    archive.migrate()
    rows = chain_rows(archive)
    assert len(rows) == count and [r.seq for r in rows] == list(range(1, count + 1))
    write_events(archive, 2)
    checkpoint(archive)
    assert verify(archive).ok
    with pytest.raises(Exception, match="append-only"), archive.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event"))
    with pytest.raises(Exception, match="append-only"), archive.engine.begin() as connection:
        connection.execute(text("UPDATE audit_checkpoint SET seq = 0"))


def test_the_public_key_file_format_is_documented_json(archive):
    data = json.loads(public_key_path(archive.settings.audit_signing_key_file).read_text()) if \
        public_key_path(archive.settings.audit_signing_key_file).exists() else \
        public_key(archive).as_json()
    assert set(data) == {"algorithm", "public_key", "key_id"} and len(base64.b16decode(data["public_key"].upper())) == 32


def test_the_periodic_job_signs_a_checkpoint_as_the_checkpoint_system_actor(archive):
    archive.jobs.call_local("sign_audit_checkpoint")
    archive.jobs.call_local("sign_audit_checkpoint")  # nothing happened since: a heartbeat
    views = services.list_checkpoints(archive.uow(), actor=AUDITOR)
    assert [v.number for v in views] == [2, 1] and views[0].event_count == 0
    assert views[0].file["checkpoint"]["interval_minutes"] == archive.settings.audit_checkpoint_minutes
    periodic = {task.__name__ for task in archive.jobs.huey._registry._periodic_tasks}
    assert "sign_audit_checkpoint" in periodic
