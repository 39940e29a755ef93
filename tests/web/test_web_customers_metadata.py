"""The registration form and its live key check, the capture link from missing documents, metadata
edits and their history on the document page, the views by work order and by dossier, superseding a
wrong key, and the same through the JSON API."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from archive.bootstrap import Archive
from archive.models import AuditEvent, Customer, Document

RIGHT = "110105198001010016"
USCC = "91350100M000100Y43"


def captured(client: FlaskClient, login_as, upload, scan, **fields: str) -> dict:  # noqa: ANN001
    login_as(client, "clerk")
    [document] = upload(scan(), **fields)["documents"]
    return document


def events(archive: Archive, event_type: str) -> list[AuditEvent]:
    with archive.session_factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.event_type == event_type)))


def test_the_live_check_answers_in_the_readers_language_and_tells_registered(
        client: FlaskClient, login_as, upload, scan, customer_id: str) -> None:
    document = captured(client, login_as, upload, scan)
    bad = client.post("/customers/check?lang=zh_CN",
                      json={"id_type": "resident_id", "identifier": f"{customer_id[:-1]}1"}).get_json()
    assert not bad["valid"] and bad["code"] == "resident_id_check" and "GB 11643" in bad["message"]
    assert "校验" in bad["message"]  # translated
    known = client.post("/customers/check", json={"id_type": "resident_id", "identifier": customer_id}).get_json()
    assert known["registered"] and known["customer_url"] == f"/customers/{document['customer_id']}"
    fresh = client.post("/customers/check", json={"id_type": "uscc", "identifier": USCC}).get_json()
    assert fresh["valid"] and not fresh["registered"]


def test_the_live_check_is_refused_to_staff(client: FlaskClient, login_as, web_archive: Archive) -> None:
    login_as(client, "staff")
    response = client.post("/customers/check", json={"id_type": "uscc", "identifier": USCC},
                           headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert events(web_archive, "documents.identifier_lookup") == []


def test_the_registration_form_registers_and_shows_errors_by_field(
        client: FlaskClient, login_as, web_archive: Archive) -> None:
    login_as(client, "clerk")
    page = client.get("/customers/new?lang=zh_CN").get_data(as_text=True)
    assert "customers.js" in page and 'data-check-url="/customers/check"' in page and "<script>" not in page
    refused = client.post("/customers/new", data={"id_type": "uscc", "identifier": USCC[:-1] + "0", "name": "某公司"})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert 'id="identifier-error"' in html and "GB 32100" in html and "某公司" in html  # kept what was typed
    no_name = client.post("/customers/new", data={"id_type": "uscc", "identifier": USCC, "name": ""})
    assert 'id="name-error"' in no_name.get_data(as_text=True)
    done = client.post("/customers/new", data={"id_type": "uscc", "identifier": USCC, "name": "某公司",
                                               "phone": "138 0013 8000", "customer_class": "高压"})
    assert done.status_code == 302
    with web_archive.session_factory() as session:
        customer = session.scalar(select(Customer))
        assert (customer.kind, customer.customer_class, customer.phone_masked) == ("organisation", "高压",
                                                                                  "138****8000")
    again = client.post("/customers/new?lang=zh_CN", data={"id_type": "uscc", "identifier": USCC, "name": "另一家"})
    assert again.status_code == 400 and "已有客户登记了此证件号码" in again.get_data(as_text=True)


def test_staff_cannot_register(client: FlaskClient, login_as, web_archive: Archive) -> None:
    login_as(client, "staff")
    assert client.post("/customers/new", data={"id_type": "uscc", "identifier": USCC, "name": "x"}).status_code == 403
    assert "register-link" not in client.get("/customers/").get_data(as_text=True)
    with web_archive.session_factory() as session:
        assert session.scalar(select(Customer)) is None


def test_a_missing_document_links_to_the_capture_page_filled_in(
        client: FlaskClient, login_as, upload, scan, customer_id: str) -> None:
    document = captured(client, login_as, upload, scan)
    page = client.get(f"/customers/{document['customer_id']}").get_data(as_text=True)
    link = f"/capture/?customer_id={document['customer_id']}&amp;document_type=application_form"
    assert link in page
    form = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert f'value="{customer_id}"' in form and 'value="application_form" selected' in form and "张三" in form


def test_a_clerk_edits_metadata_on_the_document_page_and_the_history_shows_before_and_after(
        client: FlaskClient, login_as, upload, scan, web_archive: Archive) -> None:
    document = captured(client, login_as, upload, scan)
    url = f"/documents/{document['document_id']}"
    assert 'id="metadata"' in client.get(url).get_data(as_text=True)
    saved = client.post(f"{url}/metadata", data={"title": "供用电合同（正本）", "box": "B-07", "shelf": "3-2",
                                                 "work_order": "GD2024001", "business_step": "高压新装",
                                                 "original_or_copy": "original", "dossier": "高压新装 GD2024001"})
    assert saved.status_code == 302
    client.post("/logout")
    login_as(client, "staff_secret")  # a reader of the department sees the history, not the form
    html = client.get(f"{url}?lang=en").get_data(as_text=True)
    assert 'id="metadata"' not in html and 'id="history"' in html
    assert "B-07" in html and "Original" in html and "GD2024001" in html and "/work-orders/?work_order=GD2024001" in html
    assert client.post(f"{url}/metadata", data={"title": "x"}).status_code == 403
    with web_archive.session_factory() as session:
        assert session.get(Document, document["document_id"]).title == "供用电合同（正本）"


def test_an_invalid_edit_is_refused_with_the_field_named(
        client: FlaskClient, login_as, upload, scan, web_archive: Archive) -> None:
    document = captured(client, login_as, upload, scan)
    url = f"/documents/{document['document_id']}"
    response = client.post(f"{url}/metadata?lang=en", data={"title": ""}, follow_redirects=True)
    assert "Title" in response.get_data(as_text=True) and "needs a title" in response.get_data(as_text=True)
    assert events(web_archive, "document.metadata_changed") == []


def test_the_views_by_work_order_and_by_dossier_list_the_documents_and_are_in_the_nav(
        client: FlaskClient, login_as, upload, scan) -> None:
    document = captured(client, login_as, upload, scan, dossier="增容 GD9")
    client.post(f"/documents/{document['document_id']}/metadata", data={"work_order": "GD9", "business_step": "增容"})
    nav = client.get("/customers/?lang=en").get_data(as_text=True)
    assert 'href="/work-orders/"' in nav and 'href="/dossiers/"' in nav
    by_order = client.get("/work-orders/?work_order=GD9").get_data(as_text=True)
    assert document["archive_code"] in by_order and "增容" in by_order
    assert document["archive_code"] not in client.get("/work-orders/?work_order=GD1").get_data(as_text=True)
    by_dossier = client.get("/dossiers/").get_data(as_text=True)
    assert "增容 GD9" in by_dossier and document["archive_code"] in by_dossier
    client.post("/logout")
    login_as(client, "staff_kf")  # another department sees neither
    assert document["archive_code"] not in client.get("/work-orders/").get_data(as_text=True)
    assert "增容 GD9" not in client.get("/dossiers/").get_data(as_text=True)


def test_superseding_on_the_customer_page_links_both_customers(
        client: FlaskClient, login_as, upload, scan, web_archive: Archive) -> None:
    document = captured(client, login_as, upload, scan)
    old = document["customer_id"]
    refused = client.post(f"/customers/{old}/supersede", data={"id_type": "resident_id", "identifier": RIGHT})
    assert refused.status_code == 400 and 'id="reason-error"' in refused.get_data(as_text=True)
    done = client.post(f"/customers/{old}/supersede?lang=en",
                       data={"id_type": "resident_id", "identifier": RIGHT, "reason": "证件号码采集有误"})
    assert done.status_code == 302
    new = int(done.headers["Location"].rsplit("/", 1)[1])
    old_page = client.get(f"/customers/{old}?lang=en").get_data(as_text=True)
    assert 'id="superseded-by"' in old_page and f"/customers/{new}" in old_page and "Abnormal" in old_page
    assert 'id="supersede"' not in old_page  # superseded once
    new_page = client.get(f"/customers/{new}").get_data(as_text=True)
    assert f"/customers/{old}" in new_page and document["archive_code"] in new_page
    assert len(events(web_archive, "customer.superseded")) == 1


def test_the_api_registers_edits_and_supersedes(client: FlaskClient, login_as, upload, scan,
                                                web_archive: Archive) -> None:
    document = captured(client, login_as, upload, scan)
    created = client.post("/api/v1/customers", json={"id_type": "uscc", "identifier": USCC, "name": "某公司"})
    assert created.status_code == 201 and created.get_json()["url"].startswith("/customers/")
    twice = client.post("/api/v1/customers", json={"id_type": "uscc", "identifier": USCC, "name": "某公司"})
    assert twice.status_code == 400
    assert twice.get_json()["error"]["code"] == "customer_already_registered"
    assert twice.get_json()["error"]["field"] == "identifier"
    check = client.post("/api/v1/customers/check", json={"id_type": "uscc", "identifier": USCC}).get_json()
    assert check["registered"]
    edited = client.patch(f"/api/v1/documents/{document['document_id']}/metadata", json={"shelf": "9-1"})
    assert edited.status_code == 200 and edited.get_json() == {"changed": ["shelf"]}
    bad = client.patch(f"/api/v1/documents/{document['document_id']}/metadata", json={"original_or_copy": "x"})
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "original_or_copy"
    moved = client.post(f"/api/v1/customers/{document['customer_id']}/supersede",
                        json={"id_type": "resident_id", "identifier": RIGHT, "reason": "wrong digit"})
    assert moved.status_code == 201
    with web_archive.session_factory() as session:
        assert session.get(Document, document["document_id"]).customer_id == moved.get_json()["id"]


def test_the_api_refuses_staff_and_changes_nothing(client: FlaskClient, login_as, upload, scan,
                                                   web_archive: Archive) -> None:
    document = captured(client, login_as, upload, scan)
    client.post("/logout")
    login_as(client, "staff")
    assert client.post("/api/v1/customers", json={"id_type": "uscc", "identifier": USCC,
                                                  "name": "x"}).status_code == 403
    assert client.patch(f"/api/v1/documents/{document['document_id']}/metadata",
                        json={"shelf": "9-1"}).status_code == 403
    assert client.post(f"/api/v1/customers/{document['customer_id']}/supersede",
                       json={"id_type": "resident_id", "identifier": RIGHT, "reason": "x"}).status_code == 403
    with web_archive.session_factory() as session:
        assert len(session.scalars(select(Customer)).all()) == 1
        assert session.get(Document, document["document_id"]).shelf is None


def test_the_capture_form_takes_the_work_order_and_business_step(
        client: FlaskClient, login_as, upload, scan) -> None:
    document = captured(client, login_as, upload, scan, work_order="GD2024077", business_step="变更用电")
    html = client.get(f"/documents/{document['document_id']}").get_data(as_text=True)
    assert "GD2024077" in html and "变更用电" in html
    assert document["archive_code"] in client.get("/work-orders/?step=变更用电").get_data(as_text=True)


def test_the_live_check_needs_the_csrf_token(make_app, login_as) -> None:  # noqa: ANN001
    client = make_app({"TESTING": True}).test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    client.post("/login", data={"username": "clerk", "password": "correct horse battery", "csrf_token": token})
    body = {"id_type": "uscc", "identifier": USCC}
    assert client.post("/customers/check", json=body).status_code == 400  # no X-CSRFToken header
    token = client.get("/customers/new").get_data(as_text=True).split('name="csrf-token" content="', 1)[1].split('"')[0]
    assert client.post("/customers/check", json=body, headers={"X-CSRFToken": token}).get_json()["valid"]
