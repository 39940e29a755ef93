"""Capture does its heavy work once: each page decoded once, the original hashed by the store's put,
the customer's identifier classified once; a page damaged deep in a file is refused with nothing kept.
A PDF's pages are only loaded at capture: a worker renders each once."""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from archive_fixtures import column_names, downgrade
from PIL import Image
from scale_env import text_pdf, wait_until
from sqlalchemy import delete, func, select, text, update

import archive.capture.steps as steps
import ocr.inputs as inputs
from archive.bootstrap import Archive
from archive.capture import recognition
from archive.capture.recognition import ocr_progress
from archive.capture.services import CaptureRequest, capture_document
from archive.demo.samples import render_scan, write_scan
from archive.errors import PageImagePendingError, ValidationError
from archive.identity import resident_id_check_digit
from archive.models import AuditEvent, Customer, Document, Page, SearchOutbox
from archive.pii import lookup_hash
from archive.services import customers, documents
from ocr.base import RecognizedText
from storage.envelope import WrappedKey

ID_NUMBER = "11010519491231002" + resident_id_check_digit("11010519491231002")


def request(path: Path) -> CaptureRequest:
    return CaptureRequest(path=path, filename=path.name, customer=ID_NUMBER, customer_name="张伟",
                          document_type="supply_contract")


def count_calls(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[tuple]:
    calls: list[tuple] = []
    original = getattr(module, name)

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append((args, kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return calls


def test_each_page_of_a_tiff_is_decoded_once_and_the_put_hash_is_the_content_hash(archive, people, tmp_path,
                                                                                   monkeypatch):
    path = write_scan(tmp_path / "contract.tif", [], format="TIFF", pages=[["第一页"], ["第二页"], ["第三页"]],
                      dpi=100)
    frames = count_calls(monkeypatch, inputs, "_iter_image_frames")
    classified = count_calls(monkeypatch, steps, "classify_identifier")
    result = capture_document(archive.uow(), actor=people["clerk"], request=request(path))
    assert result.page_count == 3
    decoding = [kwargs for _, kwargs in frames if kwargs.get("decode", True)]
    assert len(decoding) == 1  # one pass decodes the pages; identifying the file reads headers only
    assert len(classified) == 1
    with archive.uow() as uow:
        assert uow.session.get(Document, result.document_id).content_sha256 == \
            hashlib.sha256(path.read_bytes()).hexdigest()


def pages_of(archive: Archive, document_id: int) -> list[SimpleNamespace]:
    with archive.uow() as uow:
        columns = Page.__table__.columns.keys()
        return [SimpleNamespace(**{c: getattr(page, c) for c in columns})
                for page in uow.session.get(Document, document_id).pages]


def recognised(archive: Archive, people, document_id: int) -> None:  # noqa: ANN001
    assert archive.jobs.run_until(
        lambda: ocr_progress(archive.uow(), [document_id], actor=people["clerk"]).finished, timeout=120)


def test_a_pdf_is_rendered_by_a_worker_once_a_page_not_by_the_capture(archive, people, tmp_path, monkeypatch):
    path = tmp_path / "scan.pdf"
    images = [render_scan([f"第{n}页 供用电合同"], dpi=100) for n in range(1, 4)]
    images[0].save(path, format="PDF", save_all=True, append_images=images[1:], resolution=100)
    rendered = count_calls(monkeypatch, inputs, "_render_pdf_page")
    result = capture_document(archive.uow(), actor=people["clerk"], request=request(path))
    assert result.page_count == 3 and rendered == []
    pages = pages_of(archive, result.document_id)
    assert [(p.image_ready, p.ocr_status, p.image_sha256) for p in pages] == [(False, "pending", None)] * 3
    assert not any(archive.object_store.exists(p.object_key) for p in pages)  # only the original is stored
    with pytest.raises(PageImagePendingError, match="page 2"):
        documents.open_page_image(archive.uow(), actor=people["clerk"], document_id=result.document_id, number=2)

    recognised(archive, people, result.document_id)
    assert len(rendered) == 3
    estimated = [(p.width, p.height) for p in pages]
    pages = pages_of(archive, result.document_id)
    assert [(p.image_ready, p.ocr_status) for p in pages] == [(True, "done")] * 3
    assert [(p.width, p.height) for p in pages] == estimated  # capture's sizes were the rendered ones
    with archive.uow() as uow:
        document = uow.session.get(Document, result.document_id)
        key = uow.keyring.unwrap(WrappedKey(document.key_id, document.cipher, document.wrapped_key))
    for page in pages:
        with archive.store.open(page.object_key, data_key=key) as stream:
            data = stream.read()
        assert hashlib.sha256(data).hexdigest() == page.image_sha256
        assert Image.open(io.BytesIO(data)).size == (page.width, page.height)
    assert "第2页" in (pages[1].ocr_text or "").replace(" ", "")  # the worker recognised the rendered page


def test_a_worker_fetches_a_pdf_from_the_store_once_for_all_its_pages(archive, people, tmp_path, monkeypatch):
    path = tmp_path / "contract.pdf"
    path.write_bytes(text_pdf(["Supply contract HT-2024-0109"], pages=4))
    result = capture_document(archive.uow(), actor=people["clerk"], request=request(path))
    with archive.uow() as uow:
        original = uow.session.get(Document, result.document_id).object_key
    fetched = count_calls(monkeypatch, type(archive.object_store), "open")
    recognised(archive, people, result.document_id)
    from_the_store = [key for (store, key), _ in fetched if store.root == archive.object_store.root]
    assert from_the_store.count(original) == 1  # not once a page: the worker renders from its copy
    assert all(p.image_ready for p in pages_of(archive, result.document_id))


def test_a_pdf_with_its_own_text_is_searchable_at_once_and_needs_no_ocr(archive, people, tmp_path):
    path = tmp_path / "contract.pdf"
    path.write_bytes(text_pdf(["Supply contract HT-2024-0107 for customer Zhang Wei"], pages=2))
    result = capture_document(archive.uow(), actor=people["clerk"], request=request(path))
    before = pages_of(archive, result.document_id)
    assert [(p.text_layer, p.ocr_status) for p in before] == [(True, "pending")] * 2
    assert "HT-2024-0107" in (before[0].ocr_text or "")
    recognised(archive, people, result.document_id)
    after = pages_of(archive, result.document_id)
    assert [(p.ocr_status, p.ocr_confidence, p.text_object_key, p.ocr_text) for p in after] == \
        [("done", 100.0, None, p.ocr_text) for p in before]  # the PDF's text, not tesseract's
    assert all(archive.object_store.exists(p.object_key) for p in after)


def test_a_pdf_whose_original_is_gone_fails_its_pages_with_the_reason(archive, people, tmp_path):
    path = tmp_path / "contract.pdf"
    path.write_bytes(text_pdf(["Supply contract HT-2024-0108"], pages=1))
    result = capture_document(archive.uow(), actor=people["clerk"], request=request(path))
    with archive.uow() as uow:
        archive.object_store.delete(uow.session.get(Document, result.document_id).object_key)
    recognised(archive, people, result.document_id)
    (page,) = pages_of(archive, result.document_id)
    assert page.ocr_status == "failed" and not page.image_ready
    assert "original PDF is missing" in page.ocr_error
    with archive.uow() as uow:
        assert uow.session.get(Document, result.document_id).status == "failed"


class ReadsTheThreadsNumber:
    """A recognizer that reads each page as the ID number its job's thread carries."""

    def recognize_page(self, image, dpi):  # noqa: ANN001, ANN201
        return RecognizedText(text=f"身份证号 {threading.current_thread().number}", confidence=95.0)


def recognition_job(archive: Archive, page_id: int, errors: list[Exception], number: str = "") -> threading.Thread:
    """A page's job in a thread of its own, as a worker runs it; what it raises goes to errors."""
    def run() -> None:
        try:
            recognition.recognize_page(archive.uow(), page_id=page_id)
        except Exception as error:  # noqa: BLE001 - the test's assertion names it
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.number = number
    return thread


def run_together(threads: list[threading.Thread]) -> None:
    """Start the threads at once and wait for all of them."""
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)


@pytest.mark.parametrize("archive", ["postgres"], indirect=True)  # row locks: what two workers share
def test_two_pages_of_a_document_finishing_at_once_on_two_workers_leave_it_ready_and_queued(
        archive, people, tmp_path, monkeypatch):
    """Both jobs have written their page when they settle the document: each must see the other's page
    done (or the document stays processing for ever) and neither may deadlock on the document's row.
    Found by the scale-out benchmark: one document of 48 stayed processing with both its pages done."""
    path = tmp_path / "contract.pdf"
    path.write_bytes(text_pdf(["Supply contract HT-2024-0110"], pages=2))
    result = capture_document(archive.uow(), actor=people["clerk"], request=request(path))
    both_written = threading.Barrier(2, timeout=60)
    settle, errors = recognition.settle_document, []

    def settle_once_both_wrote(uow, document) -> None:  # noqa: ANN001
        uow.session.flush()  # this job's page update, which also share-locks the document (foreign key)
        both_written.wait()
        settle(uow, document)

    monkeypatch.setattr(recognition, "settle_document", settle_once_both_wrote)
    run_together([recognition_job(archive, p.id, errors) for p in pages_of(archive, result.document_id)])
    assert errors == []
    with archive.uow() as uow:
        assert [p.ocr_status for p in uow.session.get(Document, result.document_id).pages] == ["done", "done"]
        assert uow.session.get(Document, result.document_id).status == "ready"
        assert uow.session.scalar(select(func.count()).select_from(SearchOutbox)
                                  .where(SearchOutbox.document_id == result.document_id))


@pytest.mark.parametrize("archive", ["postgres"], indirect=True)
def test_two_scanned_pages_recognised_at_once_keep_both_their_id_numbers_hashed(archive, people, tmp_path,
                                                                                   monkeypatch):
    """Each job adds its page's identifier hashes to the document's: the second must add to the first's,
    not to what it read before the first committed, or a search by that ID number misses the document."""
    path = write_scan(tmp_path / "scan.tif", [], format="TIFF", pages=[["第一页"], ["第二页"]], dpi=100)
    result = capture_document(archive.uow(), actor=people["clerk"], request=request(path))
    pages = pages_of(archive, result.document_id)
    with archive.uow() as uow:
        captured = set(uow.session.get(Document, result.document_id).pii_hashes)  # the customer's ID number
    numbers = {page.id: base + resident_id_check_digit(base)
               for page, base in zip(pages, ("11010519800101123", "44030519900202456"), strict=True)}
    both_read = threading.Barrier(2, timeout=60)
    hashes, errors = recognition.identifier_hashes, []

    def hashes_once_both_read(text: str, keyring):  # noqa: ANN001, ANN202
        found = hashes(text, keyring)
        both_read.wait()  # both jobs have their page's hashes and have written nothing yet
        return found

    monkeypatch.setattr(archive, "recognizer", ReadsTheThreadsNumber())
    monkeypatch.setattr(recognition, "identifier_hashes", hashes_once_both_read)
    run_together([recognition_job(archive, page_id, errors, number) for page_id, number in numbers.items()])
    assert errors == []
    with archive.uow() as uow:
        document = uow.session.get(Document, result.document_id)
        assert document.status == "ready"
        assert set(document.pii_hashes) == captured | {lookup_hash(n, archive.keyring) for n in numbers.values()}


@pytest.mark.parametrize("archive", ["postgres"], indirect=True)
def test_a_customer_superseded_while_a_page_is_recognised_keeps_the_pages_id_number_hashed(
        archive, people, tmp_path, monkeypatch):
    """The correction locks the customer's documents before it adds the new key's hash to them, so the
    page's job waits for it and adds its own to what the correction wrote, not the other way round."""
    path = write_scan(tmp_path / "scan.tif", [], format="TIFF", pages=[["第一页"]], dpi=100)
    result = capture_document(archive.uow(), actor=people["clerk"], request=request(path))
    (page,) = pages_of(archive, result.document_id)
    with archive.uow() as uow:
        wrong_customer = uow.session.get(Document, result.document_id).customer_id
    on_the_page, corrected = (base + resident_id_check_digit(base) for base in ("11010519800101123", "44030519900202456"))
    documents_read, go_on = threading.Event(), threading.Event()
    new_customer = customers._new_customer

    def paused(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - after the documents are read
        documents_read.set()
        go_on.wait(60)
        return new_customer(*args, **kwargs)

    monkeypatch.setattr(customers, "_new_customer", paused)
    monkeypatch.setattr(archive, "recognizer", ReadsTheThreadsNumber())
    correction = threading.Thread(target=customers.supersede_customer, args=(archive.uow(),), kwargs={
        "actor": people["clerk"], "customer_id": wrong_customer, "id_type": "resident_id", "identifier": corrected,
        "reason": "证件号码采集有误"})
    correction.start()
    assert documents_read.wait(60)
    errors: list[Exception] = []
    job = recognition_job(archive, page.id, errors, on_the_page)
    job.start()

    def job_done_or_waiting() -> bool:
        with archive.uow() as uow:
            return not job.is_alive() or uow.session.scalar(text(  # this test's database: the server is shared
                "SELECT count(*) FROM pg_locks WHERE NOT granted"
                " AND pid IN (SELECT pid FROM pg_stat_activity WHERE datname = current_database())")) > 0

    wait_until(job_done_or_waiting, "the job finished or waited for the document", 60)
    go_on.set()
    correction.join(60)
    job.join(60)
    assert errors == []
    with archive.uow() as uow:
        document = uow.session.get(Document, result.document_id)
        new = uow.session.get(Customer, document.customer_id)
        assert new.id != wrong_customer and document.status == "ready"
        assert {lookup_hash(on_the_page, archive.keyring), new.identity_hash} <= set(document.pii_hashes)


def test_a_document_left_processing_with_every_page_finished_is_settled_by_the_sweep(archive, people, tmp_path):
    path = tmp_path / "contract.pdf"
    path.write_bytes(text_pdf(["Supply contract HT-2024-0111"], pages=2))
    result = capture_document(archive.uow(), actor=people["clerk"], request=request(path))
    recognised(archive, people, result.document_id)
    with archive.uow() as uow:  # as the race above left documents before the document was locked
        uow.session.execute(update(Document).where(Document.id == result.document_id).values(status="processing"))
        uow.session.execute(delete(SearchOutbox))
        uow.commit()
    assert recognition.settle_finished_documents(archive.uow()) == 1
    assert recognition.settle_finished_documents(archive.uow()) == 0
    with archive.uow() as uow:
        assert uow.session.get(Document, result.document_id).status == "ready"
        assert uow.session.scalar(select(func.count()).select_from(SearchOutbox)
                                  .where(SearchOutbox.document_id == result.document_id))


def test_a_page_damaged_deep_in_a_file_is_refused_with_nothing_stored_and_the_refusal_audited(
        archive: Archive, people, tmp_path):
    path = write_scan(tmp_path / "contract.tif", [], format="TIFF", pages=[["第一页"], ["第二页"]], dpi=100,
                      tiff_compression="raw")
    data = bytearray(path.read_bytes())
    path.write_bytes(bytes(data[: len(data) - 2000]))  # the last page's pixels are cut off
    objects_before = sorted(info.key for info in archive.object_store.list())
    with pytest.raises(ValidationError, match="contract.tif: "):
        capture_document(archive.uow(), actor=people["clerk"], request=request(path))
    assert sorted(info.key for info in archive.object_store.list()) == objects_before
    with archive.uow() as uow:
        assert uow.session.scalar(select(func.count(Document.id))) == 0
        refusal = uow.session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "document.capture_refused")).one()
        assert refusal.outcome == "failed" and "damaged" in refusal.detail["reason"]


def test_migration_0020_goes_down_and_up_and_existing_pages_count_as_rendered(archive, people, tmp_path):
    """On both engines (the archive fixture runs on SQLite and on the suite's PostgreSQL)."""
    scan = capture_document(archive.uow(), actor=people["clerk"],
                            request=request(write_scan(tmp_path / "a.png", ["供用电合同"], format="PNG", dpi=100)))
    downgrade(archive, "0019")
    assert "image_ready" not in column_names(archive, "page")
    archive.migrate()
    assert "image_ready" in column_names(archive, "page")
    assert [p.image_ready for p in pages_of(archive, scan.document_id)] == [True]
