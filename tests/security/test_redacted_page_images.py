"""Redacted page images (issue 15, item 1): a user who may not see PII gets page images with the ID and
phone numbers blacked out, found from the stored word boxes; a user who may gets the page as stored.
A generated ID-card copy goes through real capture and real tesseract, and no crop of the redacted
image reads the number back."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from archive.capture.recognition import ocr_progress
from archive.capture.services import CaptureRequest, capture_document
from archive.demo.samples import write_scan
from archive.identity import resident_id_check_digit
from archive.models import Document
from archive.services import documents
from ocr.base import RecognitionError
from ocr.tesseract import TesseractRecognizer

ID_NUMBER = "11010519491231002" + resident_id_check_digit("11010519491231002")
PHONE = "13912345678"


def _read(image: Image.Image) -> str:
    """What tesseract reads, digits only (spaces and separators dropped); a crop it cannot read: none."""
    try:
        text = TesseractRecognizer(languages="chi_sim+eng").recognize(image).text
    except RecognitionError:
        return ""
    return "".join(ch for ch in text.upper() if ch.isdigit() or ch == "X")


def _crops(image: Image.Image, lines: list[tuple[int, int]]) -> list[Image.Image]:
    """The whole page, and around each line that held a number: the band, and its left and right parts
    (a crop that cuts a black box must not let the rest be read)."""
    width, height = image.size
    crops = [image]
    for top, bottom in lines:
        band = (0, max(0, top - 150), width, min(height, bottom + 150))
        crops += [image.crop(band), image.crop((0, band[1], width // 2, band[3])),
                  image.crop((width // 3, band[1], width, band[3]))]
    return crops


@pytest.fixture
def id_copy(archive, people, tmp_path: Path) -> int:  # noqa: ANN001
    clerk = people["clerk"]
    path = write_scan(tmp_path / "id.png", ["居民身份证复印件", "姓名 张伟  性别 男", f"公民身份号码 {ID_NUMBER}",
                                            f"联系电话 {PHONE}", "住址 北京市朝阳区建国路88号"], format="PNG", dpi=200)
    result = capture_document(archive.uow(), actor=clerk, request=CaptureRequest(
        path=path, filename="id.png", customer=ID_NUMBER, customer_name="张伟", document_type="application_form",
        classification="internal"))
    assert archive.jobs.run_until(lambda: ocr_progress(archive.uow(), [result.document_id], actor=clerk).finished,
                                  timeout=300)
    return result.document_id


@pytest.mark.parametrize("archive", ["sqlite"], indirect=True)
def test_no_crop_of_the_redacted_page_reads_the_number_back_and_the_clerk_sees_it_whole(archive, people, id_copy):  # noqa: ANN001
    stored = Image.open(documents.open_page_image(archive.uow(), actor=people["clerk"], document_id=id_copy,
                                                  number=1))
    assert ID_NUMBER[:14] in _read(stored)  # the clerk may see PII: the page as captured, readable
    words = documents.get_page_words(archive.uow(), actor=people["clerk"], document_id=id_copy, number=1).words
    lines = [(w.top, w.top + w.height) for w in words if any(ch.isdigit() for ch in w.text) and len(w.text) > 6]
    assert lines  # the numbers' lines were found by OCR
    served = documents.open_page_image(archive.uow(), actor=people["staff"], document_id=id_copy, number=1)
    redacted = Image.open(io.BytesIO(served.read()))
    assert redacted.size == stored.size
    for crop in _crops(redacted, lines):
        digits = _read(crop)
        assert ID_NUMBER[6:14] not in digits and PHONE[3:] not in digits, digits
    assert "建国路" in TesseractRecognizer(languages="chi_sim+eng").recognize(redacted).text.replace(" ", "")

    # A page whose numbers cannot be located (no word boxes) is withheld.
    with archive.uow() as uow:
        page = uow.session.get(Document, id_copy).pages[0]
        page.words_object_key = None
        uow.commit()
    served = Image.open(documents.open_page_image(archive.uow(), actor=people["staff"], document_id=id_copy,
                                                  number=1))
    assert _read(served) == ""  # nothing of the page: its text showed an identifier whose place is unknown
