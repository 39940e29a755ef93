"""Capture does its heavy work once: each page decoded once, the original hashed by the store's put,
the customer's identifier classified once; a page damaged deep in a file is refused with nothing kept."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

import archive.capture.steps as steps
import ocr.inputs as inputs
from archive.bootstrap import Archive
from archive.capture.services import CaptureRequest, capture_document
from archive.demo.samples import render_scan, write_scan
from archive.errors import ValidationError
from archive.identity import resident_id_check_digit
from archive.models import AuditEvent, Document

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


def test_each_page_of_a_pdf_is_rendered_once(archive, people, tmp_path, monkeypatch):
    path = tmp_path / "scan.pdf"
    images = [render_scan([f"第{n}页 供用电合同"], dpi=100) for n in range(1, 4)]
    images[0].save(path, format="PDF", save_all=True, append_images=images[1:], resolution=100)
    rendered = count_calls(monkeypatch, inputs, "_render_pdf_page")
    assert capture_document(archive.uow(), actor=people["clerk"], request=request(path)).page_count == 3
    assert len(rendered) == 3


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
