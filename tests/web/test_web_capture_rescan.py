"""The capture page's result and the progress it polls name the pages read too poorly, with a link to
each, and never call such a document "all pages recognised"."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from archive.bootstrap import Archive
from archive.capture.recognition import ocr_progress
from archive.demo.samples import write_scan
from archive.services import users
from ocr.base import RecognizedText


class PoorReading:
    """A recognizer (the ports.Recognizer adapter) that reads every page at 21 % confidence."""

    def recognize_page(self, image, dpi):  # noqa: ANN001, ANN201
        return RecognizedText(text="供用电合同", confidence=21.0)


def capture_form(client: FlaskClient, path: Path):  # noqa: ANN201
    with path.open("rb") as handle:
        return client.post("/capture/?lang=en", data={
            "customer": "11010519491231002X", "customer_name": "张伟", "document_type": "supply_contract",
            "files": (handle, path.name)}, content_type="multipart/form-data")


def test_a_page_read_at_21_percent_is_flagged_with_a_link_not_reported_as_recognised(
    client: FlaskClient, login_as, web_archive: Archive, tmp_path: Path
) -> None:
    web_archive.__dict__["recognizer"] = PoorReading()
    login_as(client, "clerk")
    scan = write_scan(tmp_path / "poor.png", ["供用电合同"], format="PNG")
    first = capture_form(client, scan).get_data(as_text=True)
    assert "OCR running" in first and "All pages recognised." not in first.split('id="capture-form"')[0]
    clerk = users.resolve_actor(web_archive.uow(), username="clerk")
    document_id = int(first.split('href="/documents/', 1)[1].split('"', 1)[0])
    assert web_archive.jobs.run_until(
        lambda: ocr_progress(web_archive.uow(), [document_id], actor=clerk).finished, timeout=60)

    progress = client.get(f"/api/v1/documents/progress?ids={document_id}").get_json()["documents"][str(document_id)]
    assert progress["finished"] and progress["all_recognised"] is False
    assert progress["rescan_pages"] == [{"number": 1, "url": f"/documents/{document_id}#page-1"}]

    page = client.get(f"/documents/{document_id}?lang=en").get_data(as_text=True)
    assert 'id="page-1"' in page  # the link's anchor exists on the document page
