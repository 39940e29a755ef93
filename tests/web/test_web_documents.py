"""Capturing through the API and the form, then reading customers, documents and page images."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient

from archive.bootstrap import Archive
from archive.identity import resident_id_check_digit
from archive.services import audit_log, users

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def audit_events(archive: Archive, **filters: str) -> list:
    auditor = users.resolve_actor(archive.uow(), username="auditor")
    return audit_log.list_audit_events(archive.uow(), actor=auditor, **filters)


def captured(client: FlaskClient, login_as, upload, scan: Callable[..., Path], **fields: str) -> int:
    login_as(client, "clerk")
    body = upload(scan(), **fields)
    [document] = body["documents"]
    return document["document_id"]


def test_an_upload_through_the_api_creates_a_document_shown_on_the_customer_page(
    client: FlaskClient, login_as, upload, scan, customer_id: str
) -> None:
    login_as(client, "clerk")
    body = upload(scan(), dossier="高压新装 2024-001")
    [document] = body["documents"]
    assert body["errors"] == []
    assert document["page_count"] == 1
    assert document["url"] == f"/documents/{document['document_id']}"

    page = client.get(f"/customers/{document['customer_id']}", headers={"Accept-Language": "zh-CN"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "张三" in html
    assert document["archive_code"] in html
    assert "高压新装 2024-001" in html
    assert "缺失文件" in html and "用电申请书" in html  # the application form is still missing
    assert customer_id in html  # a clerk of the department may see the full ID number


def test_the_customer_list_filters_by_name(client: FlaskClient, login_as, upload, scan) -> None:
    captured(client, login_as, upload, scan)
    assert "张三" in client.get("/customers/?name=张").get_data(as_text=True)
    assert "张三" not in client.get("/customers/?name=李").get_data(as_text=True)


def test_the_customer_list_finds_a_customer_by_id_number_through_its_hash(
    client: FlaskClient, login_as, upload, scan, web_archive: Archive, customer_id: str
) -> None:
    captured(client, login_as, upload, scan)
    spaced = f"{customer_id[:6]} {customer_id[6:14]} {customer_id[14:]}"
    assert "张三" in client.get(f"/customers/?number={spaced}").get_data(as_text=True)
    other = "11010519800101003" + resident_id_check_digit("11010519800101003")  # valid, not registered
    assert "张三" not in client.get(f"/customers/?number={other}").get_data(as_text=True)
    events = audit_events(web_archive, event_type="documents.identifier_lookup", actor_name="clerk")
    assert len(events) == 2 and all(customer_id not in str(e.detail) for e in events)
    bad = client.get(f"/customers/?number={customer_id[:-1]}0", headers={"Accept": "application/json"})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "resident_id_check"


def test_a_number_lookup_in_the_customer_list_is_refused_to_staff_and_audited(
    client: FlaskClient, login_as, upload, scan, web_archive: Archive, customer_id: str
) -> None:
    captured(client, login_as, upload, scan)
    client.post("/logout")
    login_as(client, "staff")
    assert client.get(f"/customers/?number={customer_id}").status_code == 403
    assert audit_events(web_archive, event_type="documents.identifier_lookup_refused", actor_name="staff")


def test_the_clerk_sees_the_document_page_and_its_page_image(
    client: FlaskClient, login_as, upload, scan, web_archive: Archive
) -> None:
    document_id = captured(client, login_as, upload, scan)
    page = client.get(f"/documents/{document_id}?lang=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'src="/documents/{document_id}/pages/1.png"' in html
    assert "Download original" in html

    image = client.get(f"/documents/{document_id}/pages/1.png")
    assert image.status_code == 200
    assert image.mimetype == "image/png"
    assert image.data.startswith(PNG_MAGIC)
    assert image.headers["Cache-Control"] == "private, no-store"
    assert audit_events(web_archive, event_type="page.image_viewed", actor_name="clerk")

    original = client.get(f"/documents/{document_id}/original")
    assert original.status_code == 200
    assert original.data.startswith(PNG_MAGIC)
    assert "attachment" in original.headers["Content-Disposition"]


def test_a_missing_page_is_404(client: FlaskClient, login_as, upload, scan) -> None:
    document_id = captured(client, login_as, upload, scan)
    assert client.get(f"/documents/{document_id}/pages/9.png").status_code == 404
    assert client.get("/documents/999999").status_code == 404


def test_staff_of_another_department_gets_404_as_if_absent_and_the_denial_is_audited(
    client: FlaskClient, app, login_as, upload, scan, web_archive: Archive
) -> None:
    document_id = captured(client, login_as, upload, scan)
    outsider = app.test_client()
    login_as(outsider, "staff_kf")
    assert outsider.get(f"/documents/{document_id}").status_code == 404
    assert outsider.get(f"/documents/{document_id}/pages/1.png").status_code == 404
    api = outsider.get(f"/api/v1/documents/{document_id}")
    assert api.status_code == 404
    assert api.get_json() == client.get("/api/v1/documents/999999").get_json()
    denials = audit_events(web_archive, event_type="access.denied", actor_name="staff_kf")
    assert len(denials) == 3
    assert {e.target for e in denials} == {f"document:{document_id}"}


def test_staff_without_download_permission_sees_no_download_link_and_a_masked_id(
    client: FlaskClient, app, login_as, upload, scan, customer_id: str
) -> None:
    document_id = captured(client, login_as, upload, scan, classification="internal")
    colleague = app.test_client()
    login_as(colleague, "staff")
    html = colleague.get(f"/documents/{document_id}?lang=en").get_data(as_text=True)
    assert "Download original" not in html
    assert customer_id not in html
    assert colleague.get(f"/documents/{document_id}/original").status_code == 403


def test_the_administrator_cannot_read_documents(client: FlaskClient, app, login_as, upload, scan) -> None:
    document_id = captured(client, login_as, upload, scan)
    admin = app.test_client()
    login_as(admin, "admin")
    assert admin.get(f"/documents/{document_id}").status_code == 403
    assert admin.get(f"/documents/{document_id}/pages/1.png").status_code == 403
    assert admin.get("/customers/").status_code == 403
    assert admin.get("/api/v1/search?q=合同").status_code == 403


def test_the_same_file_twice_is_refused_with_a_clear_message(client: FlaskClient, login_as, upload, scan) -> None:
    first = captured(client, login_as, upload, scan)
    body = upload(scan(), expect=400)
    assert body["documents"] == []
    [error] = body["errors"]
    assert "duplicate" in error["error"]
    assert error["existing_document_id"] == first


def test_an_invalid_id_number_is_refused_with_its_reason(client: FlaskClient, login_as, upload, scan) -> None:
    login_as(client, "clerk")
    body = upload(scan(), expect=400, customer="110105194912310020")
    assert "GB 11643" in body["errors"][0]["error"]


def test_staff_may_not_capture(client: FlaskClient, login_as, scan, customer_id: str) -> None:
    login_as(client, "staff")
    with scan().open("rb") as handle:
        response = client.post("/api/v1/documents", data={
            "customer": customer_id, "customer_name": "张三", "document_type": "supply_contract",
            "files": (handle, "scan.png"),
        })
    assert response.status_code == 403
    assert 'href="/capture/"' not in client.get("/search/").get_data(as_text=True)


def test_the_plain_capture_form_uploads_several_files_without_javascript(
    client: FlaskClient, login_as, scan, customer_id: str
) -> None:
    login_as(client, "clerk")
    one, two = scan("a.png", ("供用电合同 甲",)), scan("b.png", ("供用电合同 乙",))
    with one.open("rb") as a, two.open("rb") as b:
        response = client.post("/capture/?lang=en", data={
            "customer": customer_id, "customer_name": "张三", "document_type": "supply_contract",
            "files": [(a, "a.png"), (b, "b.png")],
        })
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "a.png" in html and "b.png" in html and "Refused" not in html
    assert html.count('href="/documents/') == 2


def test_the_capture_form_without_files_says_so(client: FlaskClient, login_as, customer_id: str) -> None:
    login_as(client, "clerk")
    response = client.post("/capture/?lang=en", data={"customer": customer_id, "document_type": "supply_contract"})
    assert response.status_code == 400
    assert "Choose at least one file." in response.get_data(as_text=True)


def test_the_progress_endpoint_reports_ocr_pages_per_document(
    client: FlaskClient, login_as, upload, scan, web_archive: Archive
) -> None:
    document_id = captured(client, login_as, upload, scan)
    before = client.get(f"/api/v1/documents/progress?ids={document_id}").get_json()
    assert before["documents"][str(document_id)]["pages_total"] == 1
    assert before["finished"] is False

    from archive.capture.recognition import ocr_progress

    assert web_archive.jobs.run_until(lambda: ocr_progress(web_archive.uow(), [document_id], actor=users.resolve_actor(web_archive.uow(), username="clerk")).finished, timeout=120)
    after = client.get(f"/api/v1/documents/progress?ids={document_id}").get_json()
    assert after == {
        "documents": {str(document_id): {"pages_total": 1, "pages_done": 1, "pages_failed": 0, "finished": True,
                                         "status": "ready", "failure_reason": None, "all_recognised": True,
                                         "rescan_pages": []}},
        "finished": True,
    }
    assert client.get("/api/v1/documents/progress?ids=x").status_code == 400


def test_the_api_returns_a_document_with_page_image_urls(client: FlaskClient, login_as, upload, scan) -> None:
    document_id = captured(client, login_as, upload, scan)
    body = client.get(f"/api/v1/documents/{document_id}").get_json()
    assert body["id"] == document_id
    assert body["pages"][0]["image_url"] == f"/documents/{document_id}/pages/1.png"
    assert body["download_url"] == f"/documents/{document_id}/original"


def test_an_upload_over_the_size_limit_is_refused_with_413(make_app, login_as, scan) -> None:
    client = make_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "MAX_CONTENT_LENGTH": 1024}).test_client()
    login_as(client, "clerk")
    with scan().open("rb") as handle:
        response = client.post("/api/v1/documents", data={"files": (handle, "big.png")})
    assert response.status_code == 413
    assert "error" in response.get_json()
