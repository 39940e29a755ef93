"""The rescan loop and OCR outcomes, on SQLite and PostgreSQL: word boxes, failure reasons, retries,
the rescan list, replacing a page (earlier versions kept, viewable, verified, shredded), `ocr rerun`."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text, update

from archive.actors import FIXITY_ACTOR, OPERATOR, Actor
from archive.bootstrap import Archive
from archive.capture import ocr_runs
from archive.capture.recognition import ocr_progress, stalled_page_ids
from archive.capture.services import (
    CaptureRequest,
    PageReplacementRequest,
    capture_document,
    list_rescan_pages,
    replace_page,
)
from archive.demo.samples import write_scan
from archive.errors import AccessDenied, DocumentShreddedError, NotFoundError, ValidationError
from archive.identity import resident_id_check_digit
from archive.models import AuditEvent, Document, Page, PageVersion, utcnow
from archive.permissions import permission_document_shred
from archive.services import documents, indexing, integrity, searching, shredding, users
from archive.services.documents import document_key
from storage.base import DecryptionError
from storage.envelope import decrypt_stream

ID_NUMBER = "11010819850312004" + resident_id_check_digit("11010819850312004")
GOOD = ["低压供用电合同", "合同编号 HT-2024-0107", f"身份证号 {ID_NUMBER}", "电费结算方式 银行代扣"]
BLURRED = {"blur": 6}  # tesseract reads this far below the default threshold of 60
VERIFIER = Actor.system("test-verify", FIXITY_ACTOR.extra_permissions)
RETENTION = Actor.system("test-retention", frozenset({permission_document_shred}))


# --- helpers ----------------------------------------------------------------------------------------


def capture(archive: Archive, actor: Actor, path: Path, **overrides: str) -> int:
    fields = {"customer": ID_NUMBER, "customer_name": "张伟", "document_type": "supply_contract"} | overrides
    return capture_document(archive.uow(), actor=actor, request=CaptureRequest(path=path, **fields)).document_id


def recognise(archive: Archive, ids: list[int]) -> None:
    clerk = users.resolve_actor(archive.uow(), username="clerk")
    done = lambda: ocr_progress(archive.uow(), ids, actor=clerk).finished and archive.jobs.pending() == 0  # noqa: E731
    assert archive.jobs.run_until(done, timeout=300)
    indexing.drain_outbox(archive.uow())


def events(archive: Archive, event_type: str, outcome: str | None = None) -> list[SimpleNamespace]:
    with archive.uow() as uow:
        query = select(AuditEvent).where(AuditEvent.event_type == event_type).order_by(AuditEvent.id)
        if outcome:
            query = query.where(AuditEvent.outcome == outcome)
        columns = AuditEvent.__table__.columns.keys()
        return [SimpleNamespace(**{c: getattr(e, c) for c in columns}) for e in uow.session.scalars(query)]


def page_row(archive: Archive, document_id: int, number: int = 1) -> SimpleNamespace:
    with archive.uow() as uow:
        page = uow.session.scalar(select(Page).where(Page.document_id == document_id, Page.number == number))
        columns = Page.__table__.columns.keys()
        return SimpleNamespace(**{c: getattr(page, c) for c in columns})


def document_row(archive: Archive, document_id: int) -> SimpleNamespace:
    with archive.uow() as uow:
        document = uow.session.get(Document, document_id)
        return SimpleNamespace(status=document.status, failure_reason=document.failure_reason)


def replace(archive: Archive, actor: Actor, document_id: int, path: Path, number: int = 1):  # noqa: ANN201
    return replace_page(archive.uow(), actor=actor, request=PageReplacementRequest(
        document_id=document_id, number=number, path=path, filename=path.name))


def flip_a_byte(archive: Archive, key: str) -> None:
    with archive.object_store.open(key) as stream:
        data = bytearray(stream.read())
    data[len(data) // 2] ^= 0x01
    archive.object_store.put(key, io.BytesIO(bytes(data)))


@pytest.fixture
def scans(tmp_path: Path) -> SimpleNamespace:
    return SimpleNamespace(
        good=write_scan(tmp_path / "contract.png", GOOD, format="PNG"),
        blurred=write_scan(tmp_path / "blurred.png", GOOD, format="PNG", **BLURRED),
        other=write_scan(tmp_path / "notice.png", ["缴费通知单", "电费 银行代扣"], format="PNG"),
    )


@pytest.fixture
def flagged(archive: Archive, people, scans) -> int:
    """A recognised document whose only page read poorly: flagged "rescan needed"."""
    document_id = capture(archive, people["clerk"], scans.blurred, classification="internal")
    recognise(archive, [document_id])
    return document_id


# --- word boxes -------------------------------------------------------------------------------------


def test_word_boxes_are_stored_encrypted_and_given_only_to_who_may_see_pii(archive, people, scans):
    document_id = capture(archive, people["clerk"], scans.good, classification="internal")
    recognise(archive, [document_id])
    page = page_row(archive, document_id)
    assert page.words_object_key and page.words_object_key.endswith(".words.json")
    with archive.object_store.open(page.words_object_key) as raw:
        assert ID_NUMBER.encode() not in raw.read()  # at rest it is ciphertext

    words = documents.get_page_words(archive.uow(), actor=people["clerk"], document_id=document_id, number=1)
    assert (words.width, words.height, words.version) == (page.width, page.height, 1)
    assert any(ID_NUMBER in w.text for w in words.words)  # the clerk may see the ID number in full
    contract = next(w for w in words.words if "0107" in w.text)  # the contract number
    assert 0 < contract.left < page.width and 0 < contract.top < page.height and contract.width > 0
    [viewed] = events(archive, "page.words_viewed")
    assert (viewed.actor_name, viewed.target_id, viewed.detail["page"]) == ("clerk", str(document_id), 1)

    with pytest.raises(AccessDenied):  # staff read the document, with PII masked: no word boxes
        documents.get_page_words(archive.uow(), actor=people["staff"], document_id=document_id, number=1)
    assert [e.detail["permission"] for e in events(archive, "access.denied")] == ["pii.view"]
    assert len(events(archive, "page.words_viewed")) == 1


# --- failures ---------------------------------------------------------------------------------------


def test_a_page_image_that_no_longer_decrypts_fails_at_once_and_the_document_shows_the_reason(
        archive, people, scans):
    document_id = capture(archive, people["clerk"], scans.good)
    flip_a_byte(archive, page_row(archive, document_id).object_key)
    recognise(archive, [document_id])

    page = page_row(archive, document_id)
    assert page.ocr_status == "failed" and "does not decrypt" in page.ocr_error
    document = document_row(archive, document_id)
    assert document.status == "failed" and document.failure_reason.startswith("page 1: the page image does not")
    view = documents.get_document(archive.uow(), actor=people["clerk"], document_id=document_id)
    assert view.status == "failed" and view.pages[0].ocr_error == page.ocr_error
    progress = ocr_progress(archive.uow(), [document_id], actor=people["clerk"])
    assert (progress.pages_total, progress.pages_failed) == (1, 1)
    [failed] = events(archive, "page.ocr_failed", "failed")
    assert failed.actor_name == "system:ocr" and failed.target_id == str(document_id)
    # A failed page is on the rescan list: a new scan is the way out.
    assert [(i.document_id, i.ocr_status) for i in list_rescan_pages(
        archive.uow(), actor=people["clerk"]).items] == [(document_id, "failed")]


def test_wrong_ocr_languages_fail_the_page_with_tesseracts_reason_and_a_rerun_after_the_fix_recovers(
        archive, people, scans):
    broken = Archive(archive.settings.with_overrides(ocr_languages="nosuchlanguage"))
    try:
        document_id = capture(broken, people["clerk"], scans.good)
        recognise(broken, [document_id])
    finally:
        broken.close()
    document = document_row(archive, document_id)
    assert document.status == "failed" and "nosuchlanguage" in document.failure_reason

    result = ocr_runs.rerun_ocr(archive.uow(), actor=people["clerk"], status="failed")
    assert (result.documents, result.pages_queued) == ({document_id: _code(archive, document_id)}, 1)
    assert document_row(archive, document_id).status == "processing"
    recognise(archive, [document_id])
    assert document_row(archive, document_id) == SimpleNamespace(status="ready", failure_reason=None)
    assert searching.search_documents(archive.uow(), actor=people["clerk"], query="合同").total == 1
    [rerun] = events(archive, "documents.reprocessed")
    assert (rerun.actor_name, rerun.target_id, rerun.detail["languages"]) == ("clerk", str(document_id),
                                                                            "chi_sim+eng")


def _code(archive: Archive, document_id: int) -> str:
    with archive.uow() as uow:
        return uow.session.get(Document, document_id).archive_code


def test_an_error_that_persists_through_every_retry_marks_the_page_failed_with_it(archive, people, scans):
    archive.jobs = archive.job_queue(task_options={"ocr_page": {"retries": 1, "retry_delay": 0}})  # the same task, quicker retries
    document_id = capture(archive, people["clerk"], scans.good)
    text_key = page_row(archive, document_id).object_key.rsplit(".", 1)[0] + ".txt"
    # An object *under* the text's key: every attempt to store the text fails (a storage error, which
    # might pass, so it is retried, unlike an unreadable image).
    archive.object_store.put(f"{text_key}/in-the-way", io.BytesIO(b"x"))
    recognise(archive, [document_id])
    page = page_row(archive, document_id)
    assert page.ocr_status == "failed" and page.ocr_error.startswith("OCR failed after 2 attempts: ")
    assert document_row(archive, document_id).status == "failed"


def test_a_page_whose_worker_died_mid_page_is_queued_again_and_finished(archive, people, scans):
    document_id = capture(archive, people["clerk"], scans.good)
    archive.jobs.huey.flush()  # the job was taken by a worker that then died ...
    with archive.uow() as uow:  # ... after stamping the page, 20 minutes ago
        uow.session.execute(update(Page).where(Page.document_id == document_id)
                            .values(ocr_started_at=utcnow() - timedelta(minutes=20)))
        uow.commit()
    page_id = page_row(archive, document_id).id
    assert stalled_page_ids(archive.uow(), started_before=timedelta(minutes=30)) == []
    archive.jobs.call_local("requeue_stalled_ocr")  # the periodic task, every 10 minutes (15 minutes is stalled)
    assert archive.jobs.pending() == 1 and page_row(archive, document_id).ocr_started_at is None
    assert stalled_page_ids(archive.uow(), started_before=timedelta(0)) == []  # queued, not stalled
    recognise(archive, [document_id])
    assert page_row(archive, document_id).id == page_id and document_row(archive, document_id).status == "ready"


# --- the rescan list --------------------------------------------------------------------------------


def test_a_poorly_read_page_is_flagged_and_listed_for_clerks_of_its_department_only(archive, people, flagged):
    page = page_row(archive, flagged)
    assert page.ocr_status == "done" and page.rescan_needed and page.ocr_confidence < 60
    found = list_rescan_pages(archive.uow(), actor=people["clerk"])
    assert found.total == 1 and found.threshold == 60
    [item] = found.items
    assert (item.document_id, item.number, item.version, item.customer_name) == (flagged, 1, 1, "张伟")

    users.create_user(archive.uow(), actor=OPERATOR, username="clerk_kf", password="pass-word-one-1", role="clerk",
                      department="KF", clearance="secret")
    clerk_kf = users.resolve_actor(archive.uow(), username="clerk_kf")
    assert list_rescan_pages(archive.uow(), actor=clerk_kf).total == 0
    for who in ("staff", "admin", "auditor"):
        with pytest.raises(AccessDenied):
            list_rescan_pages(archive.uow(), actor=people[who])
    assert {e.actor_name for e in events(archive, "access.denied")} == {"staff", "admin", "auditor"}


def test_the_threshold_is_a_setting(archive, people, scans):
    strict = Archive(archive.settings.with_overrides(rescan_threshold=99.5))
    try:
        document_id = capture(strict, people["clerk"], scans.good)
        recognise(strict, [document_id])
    finally:
        strict.close()
    assert page_row(archive, document_id).rescan_needed  # a clean page, but not 99.5 % sure


# --- replacing a page -------------------------------------------------------------------------------


def test_a_replacement_becomes_the_page_and_the_previous_version_stays_viewable(archive, people, scans, flagged):
    before = page_row(archive, flagged)
    old_view = documents.get_document(archive.uow(), actor=people["clerk"], document_id=flagged)

    result = replace(archive, people["clerk"], flagged, scans.good)
    assert (result.document_id, result.number, result.version) == (flagged, 1, 2)
    assert document_row(archive, flagged).status == "processing"
    recognise(archive, [flagged])

    page = page_row(archive, flagged)
    assert (page.id, page.number, page.version, page.ocr_status) == (before.id, 1, 2, "done")
    assert not page.rescan_needed and page.ocr_confidence > 60 and page.object_key != before.object_key
    assert page.image_sha256 and page.replaced_by_id == people["clerk"].user_id
    assert document_row(archive, flagged).status == "ready"
    assert list_rescan_pages(archive.uow(), actor=people["clerk"]).total == 0
    # Re-indexed: the new text is found.
    assert searching.search_documents(archive.uow(), actor=people["staff"], query="银行代扣").total == 1

    view = documents.get_document(archive.uow(), actor=people["staff"], document_id=flagged)
    assert [(p.number, p.version) for p in view.pages] == [(1, 2)]
    [earlier] = view.pages[0].earlier_versions
    assert earlier.version == 1 and earlier.ocr_confidence == before.ocr_confidence
    old = documents.get_page_version(archive.uow(), actor=people["staff"], document_id=flagged, number=1, version=1)
    assert (old.version, old.current_version, old.superseded_by) == (1, 2, "clerk")
    assert old.ocr_text == (before.ocr_text or "")  # staff read the redacted text, as on the page
    as_clerk = documents.get_page_version(archive.uow(), actor=people["clerk"], document_id=flagged, number=1,
                                          version=1)
    assert as_clerk.ocr_text == old_view.pages[0].ocr_text  # the clerk, the full text it had
    with documents.open_page_image(archive.uow(), actor=people["staff"], document_id=flagged, number=1,
                                   version=1) as stream:
        old_image = stream.read()
    with documents.open_page_image(archive.uow(), actor=people["staff"], document_id=flagged, number=1) as stream:
        new_image = stream.read()
    assert old_image.startswith(b"\x89PNG") and new_image.startswith(b"\x89PNG") and old_image != new_image

    [replaced] = events(archive, "page.replaced")
    assert (replaced.actor_name, replaced.target_id) == ("clerk", str(flagged))
    assert {k: replaced.detail[k] for k in ("page", "version", "previous_version", "filename")} == {
        "page": 1, "version": 2, "previous_version": 1, "filename": "contract.png"}
    assert len(replaced.detail["sha256"]) == 64
    assert [e.detail for e in events(archive, "page.version_viewed")] == [{"page": 1, "version": 1}] * 2
    assert {"page": 1, "version": 1} in [e.detail for e in events(archive, "page.image_viewed")]


def test_earlier_versions_are_denied_to_who_may_not_view_the_document_and_the_denial_is_audited(
        archive, people, scans, flagged):
    replace(archive, people["clerk"], flagged, scans.good)
    for who in ("staff_kf", "admin"):
        with pytest.raises(AccessDenied):
            documents.get_page_version(archive.uow(), actor=people[who], document_id=flagged, number=1, version=1)
        with pytest.raises(AccessDenied):
            documents.open_page_image(archive.uow(), actor=people[who], document_id=flagged, number=1, version=1)
    assert len(events(archive, "access.denied", "denied")) == 4
    assert events(archive, "page.version_viewed") == []
    with pytest.raises(NotFoundError):
        documents.get_page_version(archive.uow(), actor=people["clerk"], document_id=flagged, number=1, version=7)


def test_only_a_clerk_of_the_department_may_replace_a_page_and_a_refusal_changes_nothing(
        archive, people, scans, flagged):
    before = page_row(archive, flagged)
    stored = {info.key for info in archive.object_store.list()}
    for who in ("staff", "staff_kf", "admin"):
        with pytest.raises(AccessDenied):
            replace(archive, people[who], flagged, scans.good)
    assert page_row(archive, flagged) == before
    assert {info.key for info in archive.object_store.list()} == stored
    assert events(archive, "page.replaced") == []
    assert [e.detail["permission"] for e in events(archive, "access.denied")] == ["page.rescan"] * 3


@pytest.mark.parametrize("bad", ["not-an-image", "two-pages"])
def test_a_bad_replacement_file_is_refused_with_its_reason_and_nothing_stored(
        archive, people, scans, flagged, tmp_path, bad):
    if bad == "two-pages":
        path = write_scan(tmp_path / "two.tiff", [], format="TIFF", pages=[["第一页"], ["第二页"]])
        reason = "one page; this file has 2"
    else:
        path = tmp_path / "notes.png"
        path.write_bytes("这不是扫描件".encode())
        reason = "unsupported"
    before = page_row(archive, flagged)
    stored = {info.key for info in archive.object_store.list()}
    with pytest.raises(ValidationError, match=reason):
        replace(archive, people["clerk"], flagged, path)
    assert page_row(archive, flagged) == before
    assert {info.key for info in archive.object_store.list()} == stored
    [refused] = events(archive, "page.replacement_refused", "failed")
    assert refused.target_id == str(flagged) and reason in refused.detail["reason"]


def test_fixity_checks_earlier_versions_too_and_sweeps_a_replacement_that_never_committed(
        archive, people, scans, flagged):
    replace(archive, people["clerk"], flagged, scans.good)
    recognise(archive, [flagged])
    report = integrity.verify_archive(archive.uow(), actor=VERIFIER)
    # The original, and for each version its image, text and word boxes.
    assert report.ok and report.objects_checked == 1 + 3 + 3
    with archive.uow() as uow:
        old_image = uow.session.scalar(select(PageVersion.object_key).where(PageVersion.document_id == flagged))
    flip_a_byte(archive, old_image)
    report = integrity.verify_archive(archive.uow(), actor=VERIFIER)
    assert [(p.kind, p.object_key, p.document_id) for p in report.problems] == [("corrupted", old_image, flagged)]


def test_a_page_image_swapped_for_another_that_decrypts_is_caught_by_its_recorded_hash(
        archive, people, scans, flagged):
    with archive.uow() as uow, scans.other.open("rb") as other:
        document = uow.session.get(Document, flagged)
        key = document.pages[0].object_key
        uow.store.put(key, other, data_key=document_key(uow, document), algorithm=document.cipher)
    [problem] = integrity.verify_archive(archive.uow(), actor=VERIFIER).problems
    assert (problem.kind, problem.object_key) == ("corrupted", key) and "SHA-256" in problem.detail


def test_shredding_destroys_earlier_versions_with_the_rest(archive, people, scans, flagged):
    replace(archive, people["clerk"], flagged, scans.good)
    recognise(archive, [flagged])
    with archive.uow() as uow:
        versions = uow.session.scalars(select(PageVersion).where(PageVersion.document_id == flagged)).all()
        old_keys = [k for v in versions for k in v.object_keys()]
    assert len(old_keys) == 3
    backup = {}
    for key in old_keys:
        with archive.object_store.open(key) as raw:
            backup[key] = raw.read()
    shredding.shred_document(archive.uow(), actor=RETENTION, document_id=flagged, reason="disposal")
    assert not any(archive.object_store.exists(key) for key in old_keys)
    with archive.uow() as uow:
        assert uow.session.scalars(select(PageVersion.ocr_text).where(PageVersion.document_id == flagged)).all() \
            == [None]
    with pytest.raises(DocumentShreddedError):
        documents.open_page_image(archive.uow(), actor=people["clerk"], document_id=flagged, number=1, version=1)
    for key, ciphertext in backup.items():  # a backup copy decrypts under no key we can name
        with pytest.raises(DecryptionError):
            decrypt_stream(io.BytesIO(ciphertext), data_key=bytes(32), object_id=key).read()
    with pytest.raises(DocumentShreddedError):
        replace(archive, people["clerk"], flagged, scans.good)
    [event] = events(archive, "document.shredded")
    assert event.detail["objects"] == 1 + 3 + 3


# --- ocr rerun --------------------------------------------------------------------------------------


def test_rerun_by_archive_code_requeues_every_page_and_is_audited(archive, people, scans, flagged):
    code = _code(archive, flagged)
    result = ocr_runs.rerun_ocr(archive.uow(), actor=people["clerk"], archive_codes=[code])
    assert (result.documents, result.pages_queued) == ({flagged: code}, 1)
    page = page_row(archive, flagged)
    # The old result stays (shown and indexed) until the new one replaces it.
    assert page.ocr_status == "pending" and page.text_object_key and page.ocr_confidence is not None
    recognise(archive, [flagged])
    assert page_row(archive, flagged).ocr_status == "done"
    assert [e.target_id for e in events(archive, "documents.reprocessed")] == [str(flagged)]


def test_rerun_selects_by_rescan_flag_within_the_actors_scope_and_refuses_what_it_may_not(
        archive, people, scans, flagged):
    good = capture(archive, people["clerk"], scans.good)
    recognise(archive, [good])
    result = ocr_runs.rerun_ocr(archive.uow(), actor=people["clerk"], rescan_needed=True)
    assert list(result.documents) == [flagged]
    recognise(archive, [flagged])
    assert set(ocr_runs.rerun_ocr(archive.uow(), actor=people["clerk"], all_documents=True).documents) == {flagged, good}
    recognise(archive, [flagged, good])

    with pytest.raises(AccessDenied):
        ocr_runs.rerun_ocr(archive.uow(), actor=people["staff"], all_documents=True)
    with pytest.raises(AccessDenied):
        ocr_runs.rerun_ocr(archive.uow(), actor=people["staff"], archive_codes=[_code(archive, good)])
    with pytest.raises(NotFoundError, match="Z999"):
        ocr_runs.rerun_ocr(archive.uow(), actor=people["clerk"], archive_codes=["Z999-nothing"])
    with pytest.raises(ValidationError):
        ocr_runs.rerun_ocr(archive.uow(), actor=people["clerk"])
    assert [e.actor_name for e in events(archive, "access.denied")] == ["staff", "staff"]

    shredding.shred_document(archive.uow(), actor=RETENTION, document_id=good, reason="disposal")
    assert list(ocr_runs.rerun_ocr(archive.uow(), actor=people["clerk"], all_documents=True).documents) == [flagged]
    with pytest.raises(DocumentShreddedError):
        ocr_runs.rerun_ocr(archive.uow(), actor=people["clerk"], archive_codes=[_code(archive, good)])


# --- the migration ----------------------------------------------------------------------------------


def test_migration_0003_keeps_existing_pages_as_their_first_version(archive, people, scans):
    from alembic import command
    from alembic.config import Config

    from archive.bootstrap import MIGRATIONS

    document_id = capture(archive, people["clerk"], scans.good)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with archive.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    with archive.engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM page")).scalar() == 1
    archive.migrate()
    page = page_row(archive, document_id)
    assert (page.version, page.image_sha256, page.words_object_key) == (1, None, None)
    assert integrity.verify_archive(archive.uow(), actor=VERIFIER).ok  # no hash recorded: decryption only
    assert list_rescan_pages(archive.uow(), actor=people["clerk"]).total == 0


# --- the setting ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [(None, 60.0), ("75.5", 75.5), ("0", 0.0), ("100", 100.0)])
def test_the_rescan_threshold_is_read_from_the_environment(raw, expected):
    from archive.config import load_settings

    env = {"ARCHIVE_HOME": "/tmp/unused"} | ({"ARCHIVE_RESCAN_THRESHOLD": raw} if raw is not None else {})
    assert load_settings(env).rescan_threshold == expected


@pytest.mark.parametrize(("raw", "message"), [("high", "is not a number"), ("-1", "must not be negative"),
                                              ("101", "must be between 0 and 100")])
def test_a_malformed_rescan_threshold_is_refused_naming_the_setting(raw, message):
    from archive.config import load_settings
    from archive.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=f"ARCHIVE_RESCAN_THRESHOLD='{raw}' {message}"):
        load_settings({"ARCHIVE_HOME": "/tmp/unused", "ARCHIVE_RESCAN_THRESHOLD": raw})
