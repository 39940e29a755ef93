"""A customer file goes from scan to search: capture, OCR, encryption, index, access, audit."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from archive.bootstrap import Archive
from archive.capture.recognition import ocr_progress
from archive.capture.services import CaptureRequest, capture_document
from archive.demo.samples import write_scan
from archive.errors import AccessDenied, DuplicateDocumentError, ValidationError
from archive.identity import resident_id_check_digit
from archive.models import AuditEvent, Document
from archive.services import documents, indexing, searching, users

ID_NUMBER = "11010819850312004" + resident_id_check_digit("11010819850312004")
PHONE = "13812345678"
LINES = ["低压供用电合同", "合同编号 HT-2024-0107", "用电人 张伟", f"联系电话 {PHONE}",
         f"身份证号 {ID_NUMBER}", "电费结算方式 银行代扣"]


def capture(archive: Archive, actor, path: Path, **overrides) -> int:  # noqa: ANN001
    fields = {"customer": ID_NUMBER, "customer_name": "张伟", "document_type": "supply_contract"} | overrides
    result = capture_document(archive.uow(), actor=actor, request=CaptureRequest(path=path, **fields))
    return result.document_id


def recognise(archive: Archive, ids: list[int]) -> None:
    clerk = users.resolve_actor(archive.uow(), username="clerk")
    assert archive.jobs.run_until(lambda: ocr_progress(archive.uow(), ids, actor=clerk).finished, timeout=300)
    indexing.drain_outbox(archive.uow())


def events(archive: Archive, event_type: str, outcome: str | None = None) -> list[SimpleNamespace]:
    with archive.uow() as uow:
        query = select(AuditEvent).where(AuditEvent.event_type == event_type)
        if outcome:
            query = query.where(AuditEvent.outcome == outcome)
        columns = AuditEvent.__table__.columns.keys()
        return [SimpleNamespace(**{c: getattr(e, c) for c in columns}) for e in uow.session.scalars(query)]


def all_bytes_under(root: Path) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def contract_scan(tmp_path: Path) -> Path:
    path = tmp_path / "contract.png"
    write_scan(path, LINES, format="PNG")
    return path


def test_a_captured_scan_is_found_by_a_chinese_word_and_by_the_id_number(archive, people, contract_scan):
    document_id = capture(archive, people["clerk"], contract_scan, classification="internal")
    recognise(archive, [document_id])

    by_word = searching.search_documents(archive.uow(), actor=people["staff"], query="合同")
    assert [h.document_id for h in by_word.hits] == [document_id]
    assert "<mark>" in by_word.hits[0].snippet
    by_two_chars = searching.search_documents(archive.uow(), actor=people["staff"], query="电费")
    assert [h.document_id for h in by_two_chars.hits] == [document_id]
    by_id = searching.search_documents(archive.uow(), actor=people["clerk"], query=ID_NUMBER)  # may see PII
    assert [h.document_id for h in by_id.hits] == [document_id]
    missing = searching.search_documents(archive.uow(), actor=people["staff"], query="担保")
    assert missing.total == 0
    searched = events(archive, "documents.searched")
    assert {e.detail["results"] for e in searched} == {0, 1}
    assert all(ID_NUMBER not in str(e.detail) for e in searched)


def test_no_id_or_phone_number_rests_in_plaintext_anywhere_under_archive_home(archive, people, contract_scan):
    document_id = capture(archive, people["clerk"], contract_scan)
    recognise(archive, [document_id])
    view = documents.get_document(archive.uow(), actor=people["clerk"], document_id=document_id)
    assert ID_NUMBER in view.customer_identity  # the clerk may see it in full ...
    assert any("HT-2024-0107" in p.ocr_text for p in view.pages)  # ... and OCR really ran

    for path, data in all_bytes_under(archive.settings.home):
        for secret in (ID_NUMBER, PHONE):
            assert secret.encode() not in data, f"{secret} in plaintext in {path}"
            assert secret.encode("utf-16-le") not in data, f"{secret} in {path}"
    with archive.uow() as uow:
        document = uow.session.get(Document, document_id)
        assert document.status == "ready"
        assert all(ID_NUMBER not in (p.ocr_text or "") for p in document.pages)


def test_raw_stored_objects_do_not_contain_the_scan(archive, people, contract_scan):
    document_id = capture(archive, people["clerk"], contract_scan)
    original = contract_scan.read_bytes()
    stored = list(archive.object_store.list())
    assert len(stored) == 2  # the original and one page image
    for info in stored:
        with archive.object_store.open(info.key) as raw:
            data = raw.read()
        assert original[:64] not in data and b"PNG" not in data[:16]
    with documents.open_original(archive.uow(), actor=people["clerk"], document_id=document_id)[0] as stream:
        assert stream.read() == original


def test_staff_of_another_department_or_lower_clearance_are_refused_and_audited(archive, people, contract_scan):
    document_id = capture(archive, people["clerk"], contract_scan, classification="confidential")
    for who in ("staff_kf", "staff", "admin", "auditor"):
        with pytest.raises(AccessDenied):
            documents.get_document(archive.uow(), actor=people[who], document_id=document_id)
    assert documents.get_document(archive.uow(), actor=people["staff_secret"], document_id=document_id)
    denials = events(archive, "access.denied", "denied")
    assert {e.actor_name for e in denials} == {"staff_kf", "staff", "admin", "auditor"}
    assert all(e.target_id == str(document_id) and e.remote_addr == "127.0.0.1" for e in denials)
    assert not events(archive, "document.viewed", "ok")[1:]  # only staff_secret's view succeeded


def test_search_results_only_show_documents_the_user_may_see(archive, people, contract_scan):
    document_id = capture(archive, people["clerk"], contract_scan, classification="confidential")
    recognise(archive, [document_id])
    assert searching.search_documents(archive.uow(), actor=people["staff_secret"], query="合同").total == 1
    for who in ("staff", "staff_kf"):
        page = searching.search_documents(archive.uow(), actor=people[who], query="合同")
        assert page.total == 0 and page.hits == []
    with pytest.raises(AccessDenied):
        searching.search_documents(archive.uow(), actor=people["auditor"], query="合同")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.png", b"", "empty"),
        ("notes.txt", "这不是扫描件".encode(), "unsupported"),
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "damaged"),
        ("broken.pdf", b"%PDF-1.7\n1 0 obj\n<<", "damaged"),
    ],
)
def test_bad_files_are_refused_with_nothing_stored(archive, people, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValidationError, match=message):
        capture(archive, people["clerk"], path)
    assert list(archive.object_store.list()) == []
    with archive.uow() as uow:
        assert uow.session.scalar(select(func.count(Document.id))) == 0
    assert events(archive, "document.capture_refused", "failed")


def test_the_same_content_captured_twice_for_a_customer_is_detected(archive, people, contract_scan):
    first = capture(archive, people["clerk"], contract_scan)
    with pytest.raises(DuplicateDocumentError) as error:
        capture(archive, people["clerk"], contract_scan)
    assert error.value.existing_document_id == first
    assert len(list(archive.object_store.list())) == 2


def test_a_bad_id_number_is_refused_before_anything_is_stored(archive, people, contract_scan):
    with pytest.raises(ValidationError, match="GB 11643"):
        capture(archive, people["clerk"], contract_scan, customer=ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1"))
    assert list(archive.object_store.list()) == []


def test_a_multi_page_tiff_becomes_one_document_with_a_page_each(archive, people, tmp_path):
    path = tmp_path / "form.tiff"
    write_scan(path, [], format="TIFF", pages=[["用电申请书", "申请容量 8千瓦"], ["用电地址 北京市海淀区"]])
    document_id = capture(archive, people["clerk"], path, document_type="application_form")
    recognise(archive, [document_id])
    view = documents.get_document(archive.uow(), actor=people["clerk"], document_id=document_id)
    assert [p.number for p in view.pages] == [1, 2]
    assert "申请" in view.pages[0].ocr_text and "海淀" in view.pages[1].ocr_text
    with documents.open_page_image(archive.uow(), actor=people["staff"], document_id=document_id, number=2) as s:
        assert s.read(8) == b"\x89PNG\r\n\x1a\n"
    assert events(archive, "page.image_viewed")


def test_archive_codes_are_allocated_without_gaps(archive, people, tmp_path):
    codes = []
    for n in range(3):
        path = tmp_path / f"scan{n}.png"
        write_scan(path, [f"用电检查记录 第{n}号"], format="PNG", seed=n)
        document_id = capture(archive, people["clerk"], path, document_type="inspection_record")
        with archive.uow() as uow:
            codes.append(uow.session.get(Document, document_id).archive_code)
    assert [c[-4:] for c in codes] == ["0001", "0002", "0003"]
    assert codes[0].startswith("Z001-JC·") and "-D10-YX-" in codes[0]


def test_the_audit_trail_cannot_be_edited_or_cleared(archive, people, contract_scan):
    capture(archive, people["clerk"], contract_scan)
    with archive.uow() as uow:
        event = uow.session.scalars(select(AuditEvent)).first()
        event.outcome = "changed"
        with pytest.raises(Exception, match="append-only"):
            uow.session.flush()
    with archive.uow() as uow, pytest.raises(Exception, match="append-only"):
        uow.session.execute(AuditEvent.__table__.delete())


def test_customer_lists_count_only_the_documents_the_user_may_see(archive, people, contract_scan):
    from archive.services.customers import list_customers

    capture(archive, people["clerk"], contract_scan, classification="confidential")
    assert [c.document_count for c in list_customers(archive.uow(), actor=people["staff_secret"])] == [1]
    assert [c.document_count for c in list_customers(archive.uow(), actor=people["staff"])] == [0]


def test_an_id_number_in_the_file_name_is_masked_before_it_is_stored(archive, people, tmp_path):
    path = tmp_path / f"{ID_NUMBER}-身份证.png"
    write_scan(path, ["居民身份证复印件"], format="PNG")
    document_id = capture(archive, people["clerk"], path, document_type="id_copy")
    view = documents.get_document(archive.uow(), actor=people["clerk"], document_id=document_id)
    assert ID_NUMBER not in view.source_filename and view.source_filename.endswith("-身份证.png")
    for path_, data in all_bytes_under(archive.settings.home):
        assert ID_NUMBER.encode() not in data, path_


def test_pages_whose_ocr_job_was_lost_are_queued_again_when_workers_start(archive, people, contract_scan):
    document_id = capture(archive, people["clerk"], contract_scan)
    archive.jobs.huey.flush()  # the queued jobs are lost, as if the process died right after commit
    assert archive.jobs.pending() == 0
    archive.jobs.start()  # what every worker does as it starts
    assert {task.name for task in archive.jobs.huey.pending()} == {"requeue_unfinished_ocr", "drain_outbox",
                                                                   "flush_job_outbox"}
    recognise(archive, [document_id])
    with archive.uow() as uow:
        assert uow.session.get(Document, document_id).status == "ready"


def test_reindexing_reads_a_batch_of_documents_in_a_fixed_number_of_queries(archive, people, tmp_path):
    from sqlalchemy import event

    for n in range(4):
        path = tmp_path / f"scan{n}.png"
        write_scan(path, [f"用电检查记录 第{n}号"], format="PNG", seed=n)
        capture(archive, people["clerk"], path, document_type="inspection_record")
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(archive.engine, "before_cursor_execute", listener)
    try:
        batches = list(indexing.all_documents(archive.uow()))
    finally:
        event.remove(archive.engine, "before_cursor_execute", listener)
    assert [len(batch) for batch in batches] == [4]
    tables = [s.split("FROM")[1].split()[0] for s in statements if s.lstrip().upper().startswith("SELECT")]
    # The batch (customer, dossier, department and type joined), its pages, its borrowers, the final probe:
    # the same four for four documents as for one, not a query per document.
    assert tables == ["document", "page", "borrow_item", "document"]


def test_ocr_progress_is_told_per_document_and_only_for_documents_the_user_may_see(
        archive, people, contract_scan, tmp_path):
    from archive.capture.recognition import ocr_progress_by_document

    form = tmp_path / "form.tiff"
    write_scan(form, [], format="TIFF", pages=[["用电申请书"], ["用电地址"]])
    one = capture(archive, people["clerk"], contract_scan, classification="internal")
    two = capture(archive, people["clerk"], form, document_type="application_form")
    found = ocr_progress_by_document(archive.uow(), [one, two], actor=people["staff"])
    assert {d: (p.pages_total, p.pages_done) for d, p in found.items()} == {one: (1, 0), two: (2, 0)}
    assert ocr_progress(archive.uow(), [one, two], actor=people["staff"]).pages_total == 3
    assert ocr_progress_by_document(archive.uow(), [one, two], actor=people["staff_kf"]) == {}
