"""The archive on the scale-out object store: the same capture → OCR → search path on S3 (moto server)."""

from __future__ import annotations

import uuid

from archive_fixtures import build_archive
from test_capture_to_search import ID_NUMBER, LINES

from archive.bootstrap import Archive
from archive.capture.recognition import ocr_progress
from archive.capture.services import CaptureRequest, capture_document
from archive.config import load_settings
from archive.demo.samples import write_scan
from archive.services import documents, indexing, searching, users


def test_a_document_captured_onto_s3_is_encrypted_there_and_found_by_search(s3_server, tmp_path):
    bucket = f"archive-{uuid.uuid4().hex[:8]}"
    home = tmp_path / "home"
    env = {
        "ARCHIVE_HOME": str(home), "ARCHIVE_STORAGE": "s3", "ARCHIVE_S3_ENDPOINT": s3_server["endpoint"],
        "ARCHIVE_S3_ACCESS_KEY": s3_server["access_key"], "ARCHIVE_S3_SECRET_KEY": s3_server["secret_key"],
        "ARCHIVE_S3_BUCKET": bucket,
    }
    build_archive(home).close()
    archive = Archive(load_settings(env))
    clerk = users.resolve_actor(archive.uow(), username="clerk")
    scan = tmp_path / "contract.png"
    write_scan(scan, LINES, format="PNG")
    result = capture_document(archive.uow(), actor=clerk, request=CaptureRequest(
        path=scan, customer=ID_NUMBER, customer_name="张伟", document_type="supply_contract",
        classification="internal"))
    assert archive.jobs.run_until(lambda: ocr_progress(archive.uow(), [result.document_id], actor=clerk).finished)
    indexing.drain_outbox(archive.uow())

    keys = [info.key for info in archive.object_store.list()]
    # Original, page image, OCR text, word boxes: all on S3.
    assert len(keys) == 4 and not (home / "objects").exists()
    for key in keys:
        with archive.object_store.open(key) as raw:
            data = raw.read()
        assert ID_NUMBER.encode() not in data and b"PNG" not in data[:16]
    hits = searching.search_documents(archive.uow(), actor=clerk, query="电费").hits
    assert [h.document_id for h in hits] == [result.document_id]
    with documents.open_original(archive.uow(), actor=clerk, document_id=result.document_id)[0] as stream:
        assert stream.read() == scan.read_bytes()
    archive.close()
