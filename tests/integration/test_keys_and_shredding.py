"""Master-key rotation re-wraps data keys without touching objects; shredding destroys a document for good."""

from __future__ import annotations

import base64
import io
import json
import secrets
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive.actors import (
    OPERATOR,  # the CLI's system actor: holds permission_keys_manage
    Actor,
)
from archive.bootstrap import Archive
from archive.capture.services import CaptureRequest, capture_document
from archive.cli import cli
from archive.demo.samples import write_scan
from archive.errors import AccessDenied, DocumentShreddedError, KeyManagementError, RecordHeldError
from archive.identity import resident_id_check_digit
from archive.models import AuditEvent, Customer, Document, Page
from archive.permissions import permission_document_shred
from archive.services import customers, documents, indexing, keys, searching, shredding
from archive.services.documents import document_key
from storage.base import DecryptionError
from storage.envelope import Keyring, WrappedKey, decrypt_stream, new_data_key, open_sealed, seal

ID_NUMBERS = ["11010519491231002", "44030419800101123", "31010119700707456"]
ID_NUMBERS = [n + resident_id_check_digit(n) for n in ID_NUMBERS]
PHONE = "13812345678"
RETENTION = Actor.system("test-retention", frozenset({permission_document_shred}))


# --- helpers ----------------------------------------------------------------------------------------


def capture(archive: Archive, actor: Actor, path: Path, identity: str) -> int:
    request = CaptureRequest(path=path, customer=identity, customer_name="张三", document_type="supply_contract")
    return capture_document(archive.uow(), actor=actor, request=request).document_id


def object_keys(archive: Archive, document_id: int) -> list[str]:
    with archive.uow() as uow:
        document = uow.session.get(Document, document_id)
        assert document is not None
        pages = uow.session.execute(select(Page.object_key, Page.text_object_key)
                                    .where(Page.document_id == document_id)).all()
        return [document.object_key, *(k for row in pages for k in row if k)]


def raw(archive: Archive, key: str) -> bytes:
    with archive.object_store.open(key) as stream:
        return stream.read()


def snapshot(archive: Archive, document_ids: list[int]) -> dict[str, bytes]:
    return {key: raw(archive, key) for d in document_ids for key in object_keys(archive, d)}


def original(archive: Archive, actor: Actor, document_id: int) -> bytes:
    stream, _, _ = documents.open_original(archive.uow(), actor=actor, document_id=document_id)
    with stream:
        return stream.read()


def document_rows(archive: Archive) -> dict[int, SimpleNamespace]:
    with archive.uow() as uow:
        rows = uow.session.execute(select(Document.id, Document.key_id, Document.wrapped_key, Document.status))
        return {r.id: SimpleNamespace(key_id=r.key_id, wrapped_key=r.wrapped_key, status=r.status) for r in rows}


def sealed_tokens(archive: Archive) -> list[str]:
    with archive.uow() as uow:
        rows = uow.session.execute(select(Customer.identity_sealed, Customer.phone_sealed)).all()
        return [token for row in rows for token in row if token]


def audit_events(archive: Archive, event_type: str) -> list[SimpleNamespace]:
    with archive.uow() as uow:
        query = select(AuditEvent).where(AuditEvent.event_type == event_type).order_by(AuditEvent.id)
        columns = AuditEvent.__table__.columns.keys()
        return [SimpleNamespace(**{c: getattr(e, c) for c in columns}) for e in uow.session.scalars(query)]


def give_phone(archive: Archive, identity: str) -> None:
    """Capture does not take phone numbers; seal one directly so re-sealing covers both columns."""
    with archive.uow() as uow:
        customer = next(c for c in uow.session.scalars(select(Customer))
                        if open_sealed(c.identity_sealed, uow.keyring) == identity)
        customer.phone_sealed = seal(PHONE, uow.keyring)
        uow.commit()


class Interrupted(Exception):
    pass


def interrupt_after(calls: int):  # noqa: ANN201
    seen = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        if len(seen) >= calls:
            raise Interrupted

    return progress


@pytest.fixture
def scans(tmp_path: Path) -> list[Path]:
    return [
        write_scan(tmp_path / "contract.tif", [], format="TIFF", pages=[["供用电合同 第一页"], ["第二页"]], dpi=100),
        write_scan(tmp_path / "form.png", ["用电申请书"], format="PNG", dpi=100),
        write_scan(tmp_path / "id.jpg", ["居民身份证"], format="JPEG", dpi=100),
    ]


@pytest.fixture
def captured(archive: Archive, people, scans: list[Path]) -> list[int]:
    ids = [capture(archive, people["clerk"], path, identity) for path, identity in zip(scans, ID_NUMBERS, strict=True)]
    give_phone(archive, ID_NUMBERS[0])
    return ids


# --- rotation ---------------------------------------------------------------------------------------


def test_rotation_rewraps_every_data_key_under_the_new_key_without_reencrypting_any_object(
        archive, people, scans, captured):
    before = snapshot(archive, captured)
    result = keys.rotate_master_key(archive.uow(), actor=OPERATOR)

    assert (result.previous_key_id, result.key_id) == ("k1", "k2")
    assert (result.documents_rewrapped, result.customers_resealed) == (3, 3)
    assert {row.key_id for row in document_rows(archive).values()} == {"k2"}
    assert all(token.startswith("k2:") for token in sealed_tokens(archive))
    assert snapshot(archive, captured) == before  # not one object byte rewritten
    for document_id, scan in zip(captured, scans, strict=True):
        assert original(archive, people["clerk"], document_id) == scan.read_bytes()
    on_disk = Keyring.load(archive.settings.key_file)
    assert on_disk.active_id == "k2" and on_disk.key_ids == ["k1", "k2"]
    with archive.uow() as uow:
        customer_id = uow.session.scalar(select(Document.customer_id).where(Document.id == captured[0]))
    view = customers.get_customer(archive.uow(), actor=people["clerk"], customer_id=customer_id)
    assert (view.summary.identity, view.phone) == (ID_NUMBERS[0], PHONE)
    assert [e.target_id for e in audit_events(archive, "keys.rotated")] == ["k2"]
    rewrapped = audit_events(archive, "keys.rewrapped")
    assert sum(e.detail["documents"] for e in rewrapped) == 3 and sum(e.detail["customers"] for e in rewrapped) == 3
    assert {e.actor_name for e in rewrapped} == {"system:cli"}


def test_an_interrupted_rewrap_resumes_where_it_stopped(archive, people, scans, captured, monkeypatch):
    monkeypatch.setattr(keys, "BATCH", 1)
    with pytest.raises(Interrupted):
        keys.rotate_master_key(archive.uow(), actor=OPERATOR, progress=interrupt_after(2))
    rows = document_rows(archive)
    assert sorted(row.key_id for row in rows.values()) == ["k1", "k2", "k2"]  # two batches committed
    assert Keyring.load(archive.settings.key_file).active_id == "k2"  # the new key was saved first

    # Re-running picks up only what is left.
    assert keys.rewrap_data_keys(archive.uow(), actor=OPERATOR) == 1
    assert {row.key_id for row in document_rows(archive).values()} == {"k2"}
    assert all(token.startswith("k2:") for token in sealed_tokens(archive))
    assert keys.rewrap_data_keys(archive.uow(), actor=OPERATOR) == 0
    for document_id, scan in zip(captured, scans, strict=True):
        assert original(archive, people["clerk"], document_id) == scan.read_bytes()


def test_the_old_key_is_retired_only_once_nothing_uses_it(archive, people, scans, captured):
    assert keys.retire_unused_keys(archive.uow(), actor=OPERATOR) == []  # k1 is active
    with pytest.raises(Interrupted):  # documents re-wrapped, customers' sealed values not yet
        keys.rotate_master_key(archive.uow(), actor=OPERATOR, progress=interrupt_after(1))
    assert {row.key_id for row in document_rows(archive).values()} == {"k2"}
    assert any(token.startswith("k1:") for token in sealed_tokens(archive))
    assert keys.retire_unused_keys(archive.uow(), actor=OPERATOR) == []  # sealed PII still needs k1
    assert keys.key_status(archive.uow(), actor=OPERATOR) == [("k1", False, 0), ("k2", True, 3)]

    keys.rewrap_data_keys(archive.uow(), actor=OPERATOR)
    assert keys.retire_unused_keys(archive.uow(), actor=OPERATOR) == ["k1"]

    assert archive.keyring.key_ids == ["k2"]
    assert Keyring.load(archive.settings.key_file).key_ids == ["k2"]
    assert json.loads(archive.settings.key_file.read_text())["retired"] == ["k1"]
    assert original(archive, people["clerk"], captured[1]) == scans[1].read_bytes()
    with archive.uow() as uow:
        customer_id = uow.session.scalar(select(Document.customer_id).where(Document.id == captured[1]))
    assert customers.get_customer(archive.uow(), actor=people["clerk"], customer_id=customer_id).summary.identity \
        == ID_NUMBERS[1]
    [retired] = audit_events(archive, "keys.retired")
    assert (retired.target_id, retired.actor_name, retired.outcome) == ("k1", "system:cli", "ok")
    # A later rotation numbers past the retired key.
    assert keys.rotate_master_key(archive.uow(), actor=OPERATOR).key_id == "k3"


def test_staff_cannot_rotate_rewrap_or_retire_keys_and_each_denial_is_audited(archive, people, captured):
    key_file = archive.settings.key_file.read_bytes()
    rows = document_rows(archive)
    for operation in (keys.rotate_master_key, keys.rewrap_data_keys, keys.retire_unused_keys, keys.key_status):
        with pytest.raises(AccessDenied):
            operation(archive.uow(), actor=people["staff"])
    assert archive.settings.key_file.read_bytes() == key_file
    assert document_rows(archive) == rows
    denials = audit_events(archive, "access.denied")
    assert len(denials) == 4
    assert {(e.actor_name, e.detail["permission"]) for e in denials} == {("staff", "keys.manage")}
    assert audit_events(archive, "keys.rotated") == audit_events(archive, "keys.rewrapped") == []


def test_keys_from_the_environment_are_not_rotated_here_but_can_be_rewrapped_after_the_operator_adds_one(
        archive, people, scans, captured):
    master_keys, lookup_key = archive.keyring.to_env()
    from_env = Archive(archive.settings.with_overrides(master_keys=master_keys, lookup_key=lookup_key))
    try:
        with pytest.raises(KeyManagementError, match="add a new key to ARCHIVE_MASTER_KEYS.*archive keys rewrap"):
            keys.rotate_master_key(from_env.uow(), actor=OPERATOR)
    finally:
        from_env.close()
    assert {row.key_id for row in document_rows(archive).values()} == {"k1"}

    # The operator adds k2, marks it active and restarts: rewrap moves everything under it.
    new_key = base64.b64encode(secrets.token_bytes(32)).decode()
    rotated = Archive(archive.settings.with_overrides(
        master_keys=f"{master_keys.lstrip('*')},*k2:{new_key}", lookup_key=lookup_key))
    try:
        assert keys.rewrap_data_keys(rotated.uow(), actor=OPERATOR) == 3
        assert original(rotated, people["clerk"], captured[0]) == scans[0].read_bytes()
        with pytest.raises(KeyManagementError, match="k1 are no longer used: remove them from ARCHIVE_MASTER_KEYS"):
            keys.retire_unused_keys(rotated.uow(), actor=OPERATOR)
    finally:
        rotated.close()
    assert {row.key_id for row in document_rows(archive).values()} == {"k2"}


def test_cli_keys_status_and_rotate(archive, captured):
    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["keys", *args], obj={"archive": archive}, catch_exceptions=False)
        return result.exit_code, result.stdout

    assert run("status") == (0, "k1       active  3 documents\n")
    code, out = run("rotate")
    assert code == 0, out
    assert "rotated to k2 (was k1): re-wrapped 3 data keys, re-sealed 3 customers" in out
    code, out = run("status", "--json")
    assert json.loads(out) == [{"key_id": "k1", "active": False, "documents_using": 0},
                               {"key_id": "k2", "active": True, "documents_using": 3}]
    assert run("rewrap") == (0, "re-wrapped 0 data keys under k2\n")
    assert run("retire-unused") == (0, "retired k1\n")
    assert run("retire-unused") == (0, "no unused keys to retire\n")


def test_cli_keys_rotate_explains_what_to_do_when_keys_come_from_the_environment(archive):
    master_keys, lookup_key = archive.keyring.to_env()
    from_env = Archive(archive.settings.with_overrides(master_keys=master_keys, lookup_key=lookup_key))
    try:
        result = CliRunner().invoke(cli, ["keys", "rotate"], obj={"archive": from_env})
    finally:
        from_env.close()
    assert result.exit_code == 2  # a domain error, as from every command
    assert result.output.splitlines()[-1].startswith("error: cannot rotate: ")
    assert "ARCHIVE_MASTER_KEYS" in result.output and "archive keys rewrap" in result.output


# --- crypto-shredding -------------------------------------------------------------------------------


def add_text_object(archive: Archive, document_id: int) -> None:
    """Give the first page an OCR text object, as recognition would, so shredding covers it too."""
    with archive.uow() as uow:
        document = uow.session.get(Document, document_id)
        page = document.pages[0]
        page.text_object_key = page.object_key.rsplit(".", 1)[0] + ".txt"
        page.ocr_text, page.ocr_status = "供用电合同 第一页", "done"
        uow.store.put(page.text_object_key, io.BytesIO("供用电合同 第一页 13812345678".encode()),
                      data_key=document_key(uow, document), algorithm=document.cipher)
        uow.commit()


def test_a_shredded_document_cannot_be_decrypted_by_anyone_from_any_copy_of_its_objects(
        archive, people, scans, captured):
    target, other = captured[0], captured[1]
    add_text_object(archive, target)
    indexing.drain_outbox(archive.uow())
    assert searching.search_documents(archive.uow(), actor=people["clerk"], query=ID_NUMBERS[0]).total == 1
    backup = snapshot(archive, [target])  # the copy any backup of the store holds
    assert len(backup) == 4  # original, two page images, one text
    before = document_rows(archive)[target]

    shredding.shred_document(archive.uow(), actor=RETENTION, document_id=target,
                             reason="disposition 2031-001: retention period ended")

    # No wrapped data key is left in the database, so no master key (old or new) can give it back.
    row = document_rows(archive)[target]
    assert (row.key_id, row.wrapped_key, row.status) == ("shredded", b"", "shredded")
    assert before.wrapped_key not in [r.wrapped_key for r in document_rows(archive).values()]
    with pytest.raises(DecryptionError):
        archive.keyring.unwrap(WrappedKey(row.key_id, "AES-256-GCM", row.wrapped_key))
    for key_id in archive.keyring.key_ids:
        with pytest.raises(DecryptionError):
            archive.keyring.unwrap(WrappedKey(key_id, "AES-256-GCM", row.wrapped_key))
    # The objects are gone from the store, and the backed-up bytes decrypt under no key we can name:
    # random keys, nor the data key of another document of the same archive.
    assert not any(archive.object_store.exists(key) for key in backup)
    with archive.uow() as uow:
        other_key = document_key(uow, uow.session.get(Document, other))
    for key, ciphertext in backup.items():
        for data_key in (other_key, new_data_key(), bytes(32)):
            with pytest.raises(DecryptionError):
                decrypt_stream(io.BytesIO(ciphertext), data_key=data_key, object_id=key).read()

    # Restoring the backup into the store does not bring the document back.
    for key, ciphertext in backup.items():
        archive.object_store.put(key, io.BytesIO(ciphertext))
    with pytest.raises(DocumentShreddedError, match="shredded"):
        documents.open_original(archive.uow(), actor=people["clerk"], document_id=target)
    with pytest.raises(DocumentShreddedError):
        documents.open_page_image(archive.uow(), actor=people["clerk"], document_id=target, number=1)
    # The record stays as a trace, with nothing drawn from the content.
    view = documents.get_document(archive.uow(), actor=people["clerk"], document_id=target)
    assert view.status == "shredded" and [p.ocr_text for p in view.pages] == ["", ""]
    assert original(archive, people["clerk"], other) == scans[1].read_bytes()

    # It leaves the search index, and a rebuild does not bring it back.
    indexing.drain_outbox(archive.uow())
    assert searching.search_documents(archive.uow(), actor=people["clerk"], query=ID_NUMBERS[0]).total == 0
    indexing.reindex(archive.uow())
    assert searching.search_documents(archive.uow(), actor=people["clerk"], query=ID_NUMBERS[0]).total == 0
    assert searching.search_documents(archive.uow(), actor=people["clerk"], query=ID_NUMBERS[1]).total == 1

    [event] = audit_events(archive, "document.shredded")
    assert (event.actor_name, event.target_id, event.outcome) == ("system:test-retention", str(target), "ok")
    assert event.detail["reason"] == "disposition 2031-001: retention period ended"
    assert event.detail["objects"] == 4


def test_rotation_after_shredding_leaves_the_shredded_document_shredded(archive, people, captured):
    shredding.shred_document(archive.uow(), actor=RETENTION, document_id=captured[2], reason="disposal")
    keys.rotate_master_key(archive.uow(), actor=OPERATOR)
    assert keys.retire_unused_keys(archive.uow(), actor=OPERATOR) == ["k1"]
    assert {d: row.key_id for d, row in document_rows(archive).items()} == {
        captured[0]: "k2", captured[1]: "k2", captured[2]: "shredded"}
    # Shredding again changes nothing and records nothing new.
    shredding.shred_document(archive.uow(), actor=RETENTION, document_id=captured[2], reason="again")
    assert len(audit_events(archive, "document.shredded")) == 1


def test_shredding_is_denied_without_the_permission_and_changes_nothing(archive, people, captured):
    before = snapshot(archive, [captured[0]])
    rows = document_rows(archive)
    for name in ("clerk", "admin"):
        with pytest.raises(AccessDenied):
            shredding.shred_document(archive.uow(), actor=people[name], document_id=captured[0], reason="tidy up")
    assert document_rows(archive) == rows
    assert snapshot(archive, [captured[0]]) == before
    assert audit_events(archive, "document.shredded") == []
    denials = audit_events(archive, "access.denied")
    assert [(e.actor_name, e.detail["permission"]) for e in denials] == [
        ("clerk", "document.shred"), ("admin", "document.shred")]


class HoldsOne:
    """A disposition guard (retention implements the real one) that holds one document."""

    def __init__(self, document_id: int) -> None:
        self.document_id = document_id

    def held(self, session, document_ids):  # noqa: ANN001, ANN201 - ports.DispositionGuard
        return {self.document_id} & set(document_ids)


def test_a_record_the_disposition_guard_holds_is_not_shredded_and_nothing_changes(archive, captured):
    archive.disposition_guard = HoldsOne(captured[0])
    before, rows = snapshot(archive, [captured[0]]), document_rows(archive)
    with pytest.raises(RecordHeldError, match="on hold"):
        shredding.shred_document(archive.uow(), actor=RETENTION, document_id=captured[0], reason="disposal")
    assert document_rows(archive) == rows and snapshot(archive, [captured[0]]) == before
    assert audit_events(archive, "document.shredded") == []
    shredding.shred_document(archive.uow(), actor=RETENTION, document_id=captured[1], reason="disposal")
    assert document_rows(archive)[captured[1]].status == "shredded"


def test_the_fixity_check_passes_after_shredding_and_sweeps_objects_that_outlived_it(archive, captured):
    from datetime import timedelta

    from archive.permissions import permission_integrity_verify
    from archive.services import integrity

    leftovers = snapshot(archive, [captured[0]])
    shredding.shred_document(archive.uow(), actor=RETENTION, document_id=captured[0], reason="disposal")
    verifier = Actor.system("test-verify", frozenset({permission_integrity_verify}))
    report = integrity.verify_archive(archive.uow(), actor=verifier)
    assert report.ok and report.problems == [] and report.documents_checked == 2

    # Objects the shredding failed to delete (restored from a backup, say) are orphans, then swept.
    for key, ciphertext in leftovers.items():
        archive.object_store.put(key, io.BytesIO(ciphertext))
    report = integrity.verify_archive(archive.uow(), actor=verifier)
    assert sorted(p.object_key for p in report.problems) == sorted(leftovers)
    assert {p.kind for p in report.problems} == {"orphaned"}
    swept = integrity.sweep_orphans(archive.uow(), actor=verifier, older_than=timedelta(0))
    assert sorted(swept) == sorted(leftovers)
    assert integrity.verify_archive(archive.uow(), actor=verifier).ok
