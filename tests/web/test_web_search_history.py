"""A time-limited document past its end date is still found, and marked 历史 / history in the search page
and in the API's hits."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient

from archive.bootstrap import Archive
from archive.capture.services import CaptureRequest, capture_document
from archive.demo.samples import write_scan
from archive.identity import resident_id_check_digit
from archive.models import Document, SearchOutbox
from archive.ports import FixedClock
from archive.services import indexing, users

ID_NUMBER = "11010519491231002" + resident_id_check_digit("11010519491231002")


def capture_contract(web_archive: Archive, tmp_path, name: str, ends: date | None) -> int:  # noqa: ANN001
    clerk = users.resolve_actor(web_archive.uow(), username="clerk")
    path = write_scan(tmp_path / f"{name}.png", [name], format="PNG", dpi=100)
    document_id = capture_document(web_archive.uow(), actor=clerk, request=CaptureRequest(
        path=path, customer=ID_NUMBER, customer_name="张三", document_type="supply_contract",
        contract_end_date=ends)).document_id
    with web_archive.uow() as uow:
        document = uow.session.get(Document, document_id)
        for page in document.pages:
            page.ocr_text, page.ocr_status = f"供电合同 {name}", "done"
        uow.session.add(SearchOutbox(document_id=document_id, action="index"))
        uow.commit()
    indexing.drain_outbox(web_archive.uow())
    return document_id


def test_a_contract_past_its_end_is_found_and_marked_history_on_the_page_and_in_the_api(
        client: FlaskClient, login_as, web_archive, tmp_path):
    ended = capture_contract(web_archive, tmp_path, "ended", date(2030, 12, 31))
    running = capture_contract(web_archive, tmp_path, "running", date(2040, 12, 31))
    web_archive.clock = FixedClock(date(2031, 1, 1))
    login_as(client, "clerk")
    hits = {hit["document_id"]: hit for hit in client.get("/api/v1/search?q=供电合同").get_json()["hits"]}
    assert (hits[ended]["history"], hits[running]["history"]) == (True, False)
    for language, marker in (("zh", "历史"), ("en", "history")):
        page = client.get(f"/search/?q=供电合同&lang={language}").get_data(as_text=True)
        articles = page.split('<article class="hit">')[1:]
        assert len(articles) == 2
        marked = [a for a in articles if 'class="badge history"' in a]
        assert len(marked) == 1 and f"/documents/{ended}" in marked[0] and f">{marker}</span>" in marked[0]
