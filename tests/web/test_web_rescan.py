"""The rescan loop in the web UI and the API: the list, replacing a page, earlier versions, word boxes,
and a failed document's reason where the clerk looks."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from archive.bootstrap import Archive
from archive.capture.recognition import ocr_progress
from archive.demo.samples import write_scan
from archive.models import Page
from archive.services import audit_log, indexing, users

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LINES = ("供用电合同", "电费结算方式 银行代扣", "Supply contract 2024")


def audit_events(archive: Archive, **filters: str) -> list:
    auditor = users.resolve_actor(archive.uow(), username="auditor")
    return audit_log.list_audit_events(archive.uow(), actor=auditor, **filters)


def recognise(archive: Archive, ids: list[int]) -> None:
    clerk = users.resolve_actor(archive.uow(), username="clerk")
    assert archive.jobs.run_until(
        lambda: ocr_progress(archive.uow(), ids, actor=clerk).finished and archive.jobs.pending() == 0, timeout=120)
    indexing.drain_outbox(archive.uow())


@pytest.fixture
def blurred(tmp_path: Path) -> Path:
    """A scan tesseract reads far below the default threshold (60)."""
    return write_scan(tmp_path / "blurred.png", list(LINES), format="PNG", blur=6)


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    return write_scan(tmp_path / "rescan.png", list(LINES), format="PNG")


@pytest.fixture
def flagged(client: FlaskClient, login_as, upload, blurred: Path, web_archive: Archive) -> int:
    """The clerk (logged in on `client`) captured a blurred scan; it is recognised and flagged."""
    login_as(client, "clerk")
    [document] = upload(blurred, classification="internal")["documents"]
    recognise(web_archive, [document["document_id"]])
    return document["document_id"]


def post_replacement(client: FlaskClient, url: str, path: Path, **fields: str):  # noqa: ANN201
    with path.open("rb") as handle:
        return client.post(url, data={"file": (handle, path.name), **fields}, content_type="multipart/form-data")


def other(app: Flask, login_as: Callable[..., None], username: str) -> FlaskClient:
    browser = app.test_client()
    login_as(browser, username)
    return browser


def test_the_menu_shows_no_rescan_count_while_nothing_is_flagged(client: FlaskClient, login_as) -> None:
    login_as(client, "clerk")
    assert "rescan-count" not in client.get("/rescan/").get_data(as_text=True).split("</nav>")[0]


def test_the_menu_shows_how_many_pages_need_a_rescan(client: FlaskClient, flagged: int) -> None:
    nav = client.get("/rescan/?lang=en").get_data(as_text=True).split("</nav>")[0]
    assert '<span class="count rescan-count" aria-label="1 pages to rescan">1</span>' in nav


def test_the_clerk_sees_the_flagged_page_in_the_rescan_list_linked_from_the_navigation(
        client: FlaskClient, flagged: int) -> None:
    html = client.get("/rescan/?lang=en").get_data(as_text=True)
    assert 'href="/rescan/"' in html.split("</nav>")[0]
    assert "Pages to rescan" in html and f'id="rescan-{flagged}-1"' in html
    assert f'action="/documents/{flagged}/pages/1/replace"' in html
    body = client.get("/api/v1/rescan").get_json()
    assert body["total"] == 1 and body["threshold"] == 60
    [item] = body["items"]
    assert (item["document_id"], item["number"], item["ocr_status"]) == (flagged, 1, "done")
    assert item["ocr_confidence"] < 60 and item["replace_url"] == f"/api/v1/documents/{flagged}/pages/1"


def test_staff_have_no_rescan_list_and_asking_for_it_is_refused_and_audited(
        app: Flask, login_as, flagged: int, web_archive: Archive) -> None:
    staff = other(app, login_as, "staff")
    assert 'href="/rescan/"' not in staff.get("/search/").get_data(as_text=True)
    assert staff.get("/rescan/").status_code == 403
    assert staff.get("/api/v1/rescan").status_code == 403
    denials = audit_events(web_archive, event_type="access.denied", actor_name="staff")
    assert len(denials) == 2 and all(e.detail["permission"] == "page.rescan" for e in denials)


def test_a_replacement_uploaded_from_the_list_becomes_the_page_and_the_list_empties(
        client: FlaskClient, flagged: int, clean: Path, web_archive: Archive) -> None:
    response = post_replacement(client, f"/documents/{flagged}/pages/1/replace?lang=en", clean, next="rescan")
    assert response.status_code == 302 and response.location == "/rescan/"
    listing = client.get("/rescan/?lang=en").get_data(as_text=True)
    assert "replaced (version 2); OCR is running." in listing
    recognise(web_archive, [flagged])
    assert "No page needs a rescan." in client.get("/rescan/?lang=en").get_data(as_text=True)

    page = client.get(f"/documents/{flagged}?lang=en").get_data(as_text=True)
    assert "version 2" in page and f'href="/documents/{flagged}/pages/1/versions/1"' in page
    assert "银行代扣" in page
    [replaced] = audit_events(web_archive, event_type="page.replaced", actor_name="clerk")
    assert replaced.detail["version"] == 2 and replaced.detail["filename"] == "rescan.png"


def test_a_replacement_through_the_api_answers_201_and_the_document_lists_the_earlier_version(
        client: FlaskClient, flagged: int, clean: Path) -> None:
    response = post_replacement(client, f"/api/v1/documents/{flagged}/pages/1", clean)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["document_id"], body["number"], body["version"]) == (flagged, 1, 2)
    document = client.get(f"/api/v1/documents/{flagged}").get_json()
    [page] = document["pages"]
    assert page["version"] == 2 and page["ocr_status"] == "pending"
    assert [v["url"] for v in page["earlier_versions"]] == [f"/api/v1/documents/{flagged}/pages/1/versions/1"]


def test_the_earlier_version_is_viewable_by_staff_who_may_see_the_document_and_each_view_is_audited(
        client: FlaskClient, app: Flask, login_as, flagged: int, clean: Path, web_archive: Archive) -> None:
    post_replacement(client, f"/documents/{flagged}/pages/1/replace", clean)
    staff = other(app, login_as, "staff")
    html = staff.get(f"/documents/{flagged}/pages/1/versions/1?lang=en").get_data(as_text=True)
    assert "An earlier version, replaced by a rescan" in html and "by clerk" in html
    assert f'src="/documents/{flagged}/pages/1/versions/1.png"' in html
    assert 'name="file"' not in staff.get(f"/documents/{flagged}").get_data(as_text=True)  # staff may not replace
    image = staff.get(f"/documents/{flagged}/pages/1/versions/1.png")
    assert image.status_code == 200 and image.data.startswith(PNG_MAGIC)
    assert image.headers["Cache-Control"] == "private, no-store"
    shown = Image.open(io.BytesIO(image.data))
    assert f'width="{shown.width}" height="{shown.height}">' in html  # its place kept while it loads
    current = staff.get(f"/documents/{flagged}/pages/1.png")
    assert current.data != image.data
    api = staff.get(f"/api/v1/documents/{flagged}/pages/1/versions/1").get_json()
    assert api["version"] == 1 and api["current_version"] == 2 and api["superseded_by"] == "clerk"
    assert api["image_url"] == f"/documents/{flagged}/pages/1/versions/1.png"

    assert len(audit_events(web_archive, event_type="page.version_viewed", actor_name="staff")) == 2
    images = audit_events(web_archive, event_type="page.image_viewed", actor_name="staff")
    assert {"page": 1, "version": 1} in [e.detail for e in images]
    assert staff.get(f"/documents/{flagged}/pages/1/versions/5").status_code == 404


def test_the_earlier_version_is_refused_to_another_department_and_the_denial_is_audited(
        client: FlaskClient, app: Flask, login_as, flagged: int, clean: Path, web_archive: Archive) -> None:
    post_replacement(client, f"/documents/{flagged}/pages/1/replace", clean)
    outsider = other(app, login_as, "staff_kf")
    assert outsider.get(f"/documents/{flagged}/pages/1/versions/1").status_code == 404
    assert outsider.get(f"/documents/{flagged}/pages/1/versions/1.png").status_code == 404
    assert outsider.get(f"/api/v1/documents/{flagged}/pages/1/versions/1").status_code == 404
    denials = audit_events(web_archive, event_type="access.denied", actor_name="staff_kf")
    assert len(denials) == 3 and {e.target for e in denials} == {f"document:{flagged}"}
    assert audit_events(web_archive, event_type="page.version_viewed") == []


def test_staff_cannot_replace_a_page_and_nothing_changes(
        client: FlaskClient, app: Flask, login_as, flagged: int, clean: Path, web_archive: Archive) -> None:
    staff = other(app, login_as, "staff")
    assert post_replacement(staff, f"/documents/{flagged}/pages/1/replace", clean).status_code == 403
    assert post_replacement(staff, f"/api/v1/documents/{flagged}/pages/1", clean).status_code == 403
    assert client.get(f"/api/v1/documents/{flagged}").get_json()["pages"][0]["version"] == 1
    assert audit_events(web_archive, event_type="page.replaced") == []
    assert len(audit_events(web_archive, event_type="access.denied", actor_name="staff")) == 2


def test_a_refused_replacement_says_why_on_the_page_it_came_from(client: FlaskClient, flagged: int,
                                                                  tmp_path: Path) -> None:
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"not a scan at all")
    response = post_replacement(client, f"/documents/{flagged}/pages/1/replace?lang=en", bad)
    assert response.status_code == 302 and response.location == f"/documents/{flagged}#page-1"
    html = client.get(f"/documents/{flagged}?lang=en").get_data(as_text=True)
    assert "Replacement refused: notes.png" in html and "unsupported" in html
    empty = client.post(f"/documents/{flagged}/pages/1/replace?lang=en", data={"next": "rescan"})
    assert empty.location == "/rescan/"
    assert "Choose the new scan of the page." in client.get("/rescan/?lang=en").get_data(as_text=True)
    api = client.post(f"/api/v1/documents/{flagged}/pages/1", data={"file": (io.BytesIO(b"x"), "x.png")},
                      content_type="multipart/form-data")
    assert api.status_code == 400 and "error" in api.get_json()


def test_word_boxes_come_from_the_api_for_the_clerk_and_not_for_staff(
        client: FlaskClient, app: Flask, login_as, upload, clean: Path, web_archive: Archive) -> None:
    login_as(client, "clerk")
    document_id = upload(clean, classification="internal")["documents"][0]["document_id"]
    recognise(web_archive, [document_id])
    body = client.get(f"/api/v1/documents/{document_id}/pages/1/words").get_json()
    assert body["version"] == 1 and body["width"] > 0
    assert "Supply" in [word["text"] for word in body["words"]]
    assert {"text", "confidence", "left", "top", "width", "height"} == set(body["words"][0])
    assert other(app, login_as, "staff").get(f"/api/v1/documents/{document_id}/pages/1/words").status_code == 403


def test_a_document_whose_page_failed_shows_failed_with_the_reason_on_its_page_and_in_the_progress(
        client: FlaskClient, login_as, upload, scan, web_archive: Archive) -> None:
    login_as(client, "clerk")
    [document] = upload(scan())["documents"]
    document_id = document["document_id"]
    with web_archive.uow() as uow:  # the stored page image is damaged before OCR reads it
        key = uow.session.scalar(select(Page.object_key).where(Page.document_id == document_id))
    with web_archive.object_store.open(key) as stream:
        data = bytearray(stream.read())
    data[-40] ^= 0x01
    web_archive.object_store.put(key, io.BytesIO(bytes(data)))
    recognise(web_archive, [document_id])

    progress = client.get(f"/api/v1/documents/progress?ids={document_id}").get_json()["documents"][str(document_id)]
    assert progress["status"] == "failed" and progress["finished"] and progress["pages_failed"] == 1
    assert progress["failure_reason"].startswith("page 1: the page image does not decrypt")
    html = client.get(f"/documents/{document_id}?lang=en").get_data(as_text=True)
    assert "Failed — page 1: the page image does not decrypt" in html
    assert f'id="rescan-{document_id}-1"' in client.get("/rescan/").get_data(as_text=True)
