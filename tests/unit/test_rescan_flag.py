"""A page read below ARCHIVE_RESCAN_THRESHOLD is flagged, and its document is never "all pages recognised"."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from archive.capture.recognition import ocr_progress_by_document, recognize_page
from archive.capture.services import CaptureRequest, capture_document
from archive.demo.samples import write_scan
from archive.models import Page
from ocr.base import RecognizedText


class FixedReading:
    """A recognizer (the ports.Recognizer adapter) that reads every page with one confidence."""

    def __init__(self, confidence: float) -> None:
        self.confidence = confidence

    def recognize_page(self, image: Image.Image, dpi: int | None) -> RecognizedText:
        return RecognizedText(text="供用电合同", confidence=self.confidence)


@pytest.mark.parametrize(("confidence", "flagged"), [(21.0, True), (59.9, True), (60.0, False), (93.0, False)])
def test_a_page_below_the_threshold_needs_a_rescan_and_spoils_all_recognised(  # noqa: ANN001
    archive, people, tmp_path: Path, confidence: float, flagged: bool
) -> None:
    assert archive.settings.rescan_threshold == 60
    archive.__dict__["recognizer"] = FixedReading(confidence)
    scan = write_scan(tmp_path / "scan.png", ["供用电合同"], format="PNG", dpi=100)
    result = capture_document(archive.uow(), actor=people["clerk"], request=CaptureRequest(
        path=scan, filename="scan.png", customer="11010519491231002X", customer_name="张伟",
        document_type="supply_contract"))
    with archive.uow() as uow:
        page_id = uow.session.scalar(select(Page.id).where(Page.document_id == result.document_id))

    assert recognize_page(archive.uow(), page_id=page_id) == "done"

    progress = ocr_progress_by_document(archive.uow(), [result.document_id], actor=people["clerk"])[result.document_id]
    assert progress.finished and progress.status == "ready"
    assert progress.rescan_pages == ((1,) if flagged else ())
    assert progress.all_recognised is not flagged
