"""Fixity: every stored object is proven present, decryptable and unchanged; leftovers are swept."""

from __future__ import annotations

import io
import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive.actors import FIXITY_ACTOR, Actor
from archive.bootstrap import Archive
from archive.capture.services import CaptureRequest, capture_document
from archive.cli import cli
from archive.demo.samples import write_scan
from archive.errors import AccessDenied
from archive.identity import resident_id_check_digit
from archive.models import AuditEvent, Document, FixityRun, Page
from archive.services import integrity
from storage.filesystem import FilesystemStore
from storage.s3 import S3Store

ID_NUMBER = "11010519491231002" + resident_id_check_digit("11010519491231002")
VERIFIER = Actor.system("test-verify", FIXITY_ACTOR.extra_permissions)
LONG_AGO = 3 * 3600  # seconds: well past the default grace period


def capture(archive: Archive, actor: Actor, path: Path) -> tuple[int, str]:
    request = CaptureRequest(path=path, customer=ID_NUMBER, customer_name="张三", document_type="supply_contract")
    result = capture_document(archive.uow(), actor=actor, request=request)
    return result.document_id, result.archive_code


def object_keys(archive: Archive, document_id: int) -> tuple[str, list[str]]:
    """(original key, page image keys) of a document."""
    with archive.uow() as uow:
        document = uow.session.get(Document, document_id)
        assert document is not None
        pages = uow.session.scalars(select(Page.object_key).where(Page.document_id == document_id)).all()
        return document.object_key, list(pages)


def put_raw(archive: Archive, key: str, data: bytes) -> None:
    archive.object_store.put(key, io.BytesIO(data))


def read_raw(archive: Archive, key: str) -> bytes:
    with archive.object_store.open(key) as stream:
        return stream.read()


def age(archive: Archive, key: str, seconds: int) -> None:
    """Make an object look `seconds` old (the filesystem store reports the file's mtime)."""
    path = Path(archive.settings.storage_path, key)
    moment = datetime.now(UTC).timestamp() - seconds
    os.utime(path, (moment, moment))


def audit_events(archive: Archive, event_type: str) -> list[SimpleNamespace]:
    with archive.uow() as uow:
        query = select(AuditEvent).where(AuditEvent.event_type == event_type).order_by(AuditEvent.id)
        columns = AuditEvent.__table__.columns.keys()
        return [SimpleNamespace(**{c: getattr(e, c) for c in columns}) for e in uow.session.scalars(query)]


@pytest.fixture
def two_documents(archive: Archive, people, tmp_path: Path) -> list[tuple[int, str]]:
    first = write_scan(tmp_path / "contract.tif", [], format="TIFF",
                       pages=[["供用电合同 第一页"], ["供用电合同 第二页"]], dpi=100)
    second = write_scan(tmp_path / "form.png", ["用电申请书"], format="PNG", dpi=100)
    return [capture(archive, people["clerk"], first), capture(archive, people["clerk"], second)]


def test_a_clean_archive_verifies_ok_and_the_run_is_recorded_and_audited(archive, two_documents):
    seen: list[tuple[int, int]] = []
    report = integrity.verify_archive(archive.uow(), actor=VERIFIER, progress=lambda done, total: seen.append((done, total)))

    assert report.ok and report.problems == []
    assert report.documents_checked == 2
    assert report.objects_checked == 2 + 3  # two originals, three page images
    assert seen[-1] == (2, 2)
    with archive.uow() as uow:
        run = uow.session.get(FixityRun, report.run_id)
        assert run is not None and run.ok and run.problems == [] and run.documents_checked == 2
    [event] = audit_events(archive, "integrity.verified")
    assert event.actor_name == "system:test-verify" and event.outcome == "ok"
    assert event.detail["documents_checked"] == 2 and event.detail["corrupted"] == 0


def test_a_flipped_byte_is_reported_as_corrupted_with_document_and_archive_code(archive, two_documents):
    (document_id, archive_code), _ = two_documents
    original, _pages = object_keys(archive, document_id)
    data = bytearray(read_raw(archive, original))
    data[len(data) // 2] ^= 0x01
    put_raw(archive, original, bytes(data))

    report = integrity.verify_archive(archive.uow(), actor=VERIFIER)

    assert not report.ok
    [problem] = report.problems
    assert (problem.kind, problem.object_key, problem.document_id, problem.archive_code) == (
        "corrupted", original, document_id, archive_code)
    [event] = audit_events(archive, "integrity.verified")
    assert event.outcome == "failed" and event.detail["corrupted"] == 1


def test_a_deleted_page_image_is_reported_missing_and_a_stray_object_orphaned(archive, two_documents):
    (document_id, archive_code), _ = two_documents
    _original, pages = object_keys(archive, document_id)
    archive.object_store.delete(pages[1])
    stray = f"documents/{uuid.uuid4().hex}/original"
    put_raw(archive, stray, b"left behind by a crash")

    report = integrity.verify_archive(archive.uow(), actor=VERIFIER)

    found = {(p.kind, p.object_key, p.document_id, p.archive_code) for p in report.problems}
    assert found == {("missing", pages[1], document_id, archive_code), ("orphaned", stray, None, "")}
    assert report.count("missing") == 1 and report.count("orphaned") == 1


def test_a_replaced_original_that_still_decrypts_is_caught_by_its_hash(archive, people, two_documents, tmp_path):
    """An object swapped for another valid ciphertext under the same key would pass decryption alone."""
    (document_id, archive_code), _ = two_documents
    original, _pages = object_keys(archive, document_id)
    with archive.uow() as uow:
        document = uow.session.get(Document, document_id)
        from archive.services.documents import document_key

        data_key = document_key(uow, document)
    archive.store.put(original, io.BytesIO(b"not the captured scan"), data_key=data_key,
                      algorithm=archive.settings.cipher)

    [problem] = integrity.verify_archive(archive.uow(), actor=VERIFIER).problems

    assert problem.kind == "corrupted" and problem.archive_code == archive_code
    assert "SHA-256" in problem.detail


def test_verify_exits_1_with_a_table_of_problems_and_0_once_clean(archive, two_documents):
    (document_id, archive_code), _ = two_documents
    _original, pages = object_keys(archive, document_id)
    archive.object_store.delete(pages[0])
    env = {"ARCHIVE_HOME": str(archive.settings.home), "ARCHIVE_DATABASE_URL": archive.settings.database_url}

    result = CliRunner().invoke(cli, ["verify"], env=env, catch_exceptions=False)

    assert result.exit_code == 1
    header, row = result.stdout.splitlines()[:2]
    assert header.split() == ["document", "archive", "code", "object", "key", "kind"]
    assert row.split() == [str(document_id), archive_code, pages[0], "missing"]
    assert "1 problems" in result.stdout
    as_json = CliRunner().invoke(cli, ["verify", "--json"], env=env, catch_exceptions=False)
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["problems"][0]["object_key"] == pages[0]
    [event, _] = audit_events(archive, "integrity.verified")
    assert event.actor_name == "system:cli-verify"


def test_verify_exits_0_on_a_clean_archive(archive, two_documents):
    env = {"ARCHIVE_HOME": str(archive.settings.home), "ARCHIVE_DATABASE_URL": archive.settings.database_url}
    result = CliRunner().invoke(cli, ["verify"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "verified 2 documents, 5 objects: ok" in result.stdout


def test_sweep_removes_an_old_stray_and_keeps_a_recent_one_and_every_referenced_object(archive, two_documents):
    old_stray = f"documents/{uuid.uuid4().hex}/pages/0001.png"
    new_stray = f"documents/{uuid.uuid4().hex}/original"
    put_raw(archive, old_stray, b"old")
    put_raw(archive, new_stray, b"new")
    age(archive, old_stray, LONG_AGO)
    for key in [k.key for k in archive.object_store.list("documents/") if k.key not in (old_stray, new_stray)]:
        age(archive, key, LONG_AGO)  # committed documents' objects are old too, and must stay
    before = {o.key for o in archive.object_store.list("documents/")}

    removed = integrity.sweep_orphans(archive.uow(), actor=VERIFIER)

    assert removed == [old_stray]
    assert {o.key for o in archive.object_store.list("documents/")} == before - {old_stray}
    assert integrity.verify_archive(archive.uow(), actor=VERIFIER, orphans_older_than=timedelta(hours=1)).ok
    [event] = audit_events(archive, "integrity.swept")
    assert event.detail["objects_removed"] == 1 and event.actor_name == "system:test-verify"


def test_the_sweep_command_takes_a_grace_period_in_minutes(archive, two_documents):
    stray = f"documents/{uuid.uuid4().hex}/original"
    put_raw(archive, stray, b"stray")
    age(archive, stray, 10 * 60)
    env = {"ARCHIVE_HOME": str(archive.settings.home), "ARCHIVE_DATABASE_URL": archive.settings.database_url}

    kept = CliRunner().invoke(cli, ["sweep"], env=env, catch_exceptions=False)
    assert kept.exit_code == 0 and "swept 0 objects" in kept.stdout
    swept = CliRunner().invoke(cli, ["sweep", "--older-than-minutes", "5"], env=env, catch_exceptions=False)
    assert swept.exit_code == 0 and f"removed {stray}" in swept.stdout
    assert not archive.object_store.exists(stray)


def test_the_daily_job_verifies_then_sweeps_as_the_fixity_system_actor(archive, two_documents):
    stray = f"documents/{uuid.uuid4().hex}/original"
    put_raw(archive, stray, b"stray")
    age(archive, stray, LONG_AGO)

    archive.jobs.call_local("check_fixity")

    assert not archive.object_store.exists(stray)
    run = integrity.last_fixity_run(archive.uow(), actor=Actor.system("t", frozenset({"audit.view"})))
    assert run is not None and run.problems[0].kind == "orphaned"
    assert {e.actor_name for e in audit_events(archive, "integrity.swept")} == {"system:fixity"}


def test_only_compliance_may_verify_and_a_refusal_is_audited_without_a_run(archive, people, two_documents):
    with pytest.raises(AccessDenied):
        integrity.verify_archive(archive.uow(), actor=people["clerk"])
    with pytest.raises(AccessDenied):
        integrity.sweep_orphans(archive.uow(), actor=people["admin"])
    assert [e.outcome for e in audit_events(archive, "access.denied")] == ["denied", "denied"]
    assert integrity.last_fixity_run(archive.uow(), actor=people["auditor"]) is None

    report = integrity.verify_archive(archive.uow(), actor=people["auditor"])
    assert report.ok
    assert integrity.last_fixity_run(archive.uow(), actor=people["auditor"]).run_id == report.run_id


@pytest.fixture(params=["filesystem", "s3"])
def raw_store(request: pytest.FixtureRequest, tmp_path: Path) -> FilesystemStore | S3Store:
    if request.param == "filesystem":
        return FilesystemStore(tmp_path / "objects")
    server = request.getfixturevalue("s3_server")
    return S3Store(server["endpoint"], server["access_key"], server["secret_key"],
                   bucket=f"fixity-{uuid.uuid4().hex[:12]}")


def test_listing_tells_when_each_object_was_written(raw_store):
    before = datetime.now(UTC) - timedelta(seconds=5)
    raw_store.put("documents/a/original", io.BytesIO(b"x"))
    [info] = list(raw_store.list("documents/"))
    assert info.modified is not None and before <= info.modified <= datetime.now(UTC) + timedelta(seconds=5)
