"""Item 6 (ASVS 4.2, 8.3, 12.1, 12.2, 11.1, 14.4): records leak no existence, uploads carry no active
content, limits hold."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pikepdf
import pytest
from flask.testing import FlaskClient
from PIL import Image
from security_support import audit_events

from archive.actors import OPERATOR
from archive.identity import resident_id_check_digit
from archive.security.uploads import clean_filename
from archive.services import users

CUSTOMER = "11010519491231002" + resident_id_check_digit("11010519491231002")


def scan(tmp_path: Path, name: str = "scan.png", text: str = "供用电合同") -> Path:
    from archive.demo.samples import write_scan

    return write_scan(tmp_path / name, [text, "Supply contract 2024"], format="PNG")


def post(client: FlaskClient, path: Path, filename: str | None = None, **fields: str):
    data = {"customer": CUSTOMER, "customer_name": "张三", "document_type": "supply_contract", **fields}
    data["files"] = (io.BytesIO(path.read_bytes()), filename or path.name)
    return client.post("/api/v1/documents", data=data, content_type="multipart/form-data")


@pytest.fixture
def clerk_kf(web_archive) -> str:
    users.create_user(web_archive.uow(), actor=OPERATOR, username="clerk_kf", password="correct horse battery",
                      role="clerk", department="KF", clearance="secret")
    return "clerk_kf"


def test_a_duplicate_is_named_only_to_a_clerk_who_may_see_it(make_app, login_as, web_archive, tmp_path,
                                                            clerk_kf) -> None:
    app = make_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
    yx, kf = app.test_client(), app.test_client()
    login_as(yx, "clerk")
    login_as(kf, clerk_kf)
    file = scan(tmp_path)
    first = post(yx, file).get_json()["documents"][0]
    again = post(yx, file).get_json()["errors"][0]
    assert again["existing_document_id"] == first["document_id"] and first["archive_code"] in again["error"]
    other = post(kf, file).get_json()["errors"][0]
    assert other["existing_document_id"] is None
    assert "请咨询档案室" in other["error"] and first["archive_code"] not in other["error"]


def test_another_departments_customer_answers_like_a_missing_one(make_app, login_as, tmp_path, clerk_kf) -> None:
    app = make_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
    yx, kf = app.test_client(), app.test_client()
    login_as(yx, "clerk")
    customer_id = post(yx, scan(tmp_path)).get_json()["documents"][0]["customer_id"]
    login_as(kf, clerk_kf)
    theirs, missing = kf.get(f"/customers/{customer_id}"), kf.get("/customers/999999")
    assert theirs.status_code == missing.status_code == 404
    assert _without_csrf(theirs.get_data(as_text=True)).replace(f"/customers/{customer_id}", "/customers/999999") == \
        _without_csrf(missing.get_data(as_text=True))


def _without_csrf(page: str) -> str:
    """The page with its CSRF tokens blanked: a token carries the second it was signed in."""
    return re.sub(r'(name="csrf-token" content|name="csrf_token" value)="[^"]*"', r'\1=""', page)


def test_the_customer_page_lists_only_dossiers_and_types_the_viewer_may_open(make_app, login_as,
                                                                           tmp_path) -> None:
    app = make_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
    clerk, staff = app.test_client(), app.test_client()
    login_as(clerk, "clerk")
    result = post(clerk, scan(tmp_path), classification="confidential", dossier="窃电处罚案卷")
    customer_id = result.get_json()["documents"][0]["customer_id"]
    post(clerk, scan(tmp_path, "b.png", "用电申请书"), document_type="application_form",
         classification="internal", dossier="客户档案")
    assert "窃电处罚案卷" in clerk.get(f"/customers/{customer_id}").get_data(as_text=True)
    login_as(staff, "staff")  # internal clearance
    page = staff.get(f"/customers/{customer_id}?lang=en").get_data(as_text=True)
    assert "客户档案" in page
    assert "窃电处罚案卷" not in page


def _pdf_with_javascript(path: Path, *, html_first: bool = False) -> Path:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    js = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Action, S=pikepdf.Name.JavaScript,
                                              JS=pikepdf.String("app.alert('x')")))
    pdf.Root.OpenAction = js
    pdf.Root.Names = pikepdf.Dictionary(JavaScript=pikepdf.Dictionary(
        Names=pikepdf.Array([pikepdf.String("a"), js])))
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array())
    buffer = io.BytesIO()
    pdf.save(buffer)
    data = buffer.getvalue()
    if html_first:
        data = b"<html><script>alert(1)</script>" + data
    path.write_bytes(data)
    return path


def test_a_pdf_is_stored_without_javascript_actions_or_forms(client, login_as, tmp_path) -> None:
    login_as(client, "clerk")
    answer = post(client, _pdf_with_javascript(tmp_path / "contract.pdf"))
    assert answer.status_code == 201, answer.get_json()
    document_id = answer.get_json()["documents"][0]["document_id"]
    original = client.get(f"/documents/{document_id}/original").data
    with pikepdf.open(io.BytesIO(original)) as pdf:
        assert "/OpenAction" not in pdf.Root and "/AcroForm" not in pdf.Root
        assert "/JavaScript" not in pdf.Root.get("/Names", {})
    assert b"app.alert" not in original


def test_an_html_pdf_polyglot_is_refused(client, login_as, tmp_path) -> None:
    login_as(client, "clerk")
    answer = post(client, _pdf_with_javascript(tmp_path / "page.pdf", html_first=True))
    assert answer.status_code == 400
    assert "also" in answer.get_json()["errors"][0]["error"]


def test_download_names_lose_control_and_bidi_characters(client, login_as, tmp_path) -> None:
    login_as(client, "clerk")
    answer = post(client, scan(tmp_path), filename="invoice\u202egnp.exe\x07.png")
    assert answer.status_code == 201, answer.get_json()
    document_id = answer.get_json()["documents"][0]["document_id"]
    disposition = client.get(f"/documents/{document_id}/original").headers["Content-Disposition"]
    assert "%E2%80%AE" not in disposition and "\u202e" not in disposition and "\r" not in disposition
    assert clean_filename("a\u2067b\u200b\x00c.pdf") == "abc.pdf"


def test_an_image_over_the_pixel_limit_is_refused(client, login_as, web_archive, tmp_path) -> None:
    web_archive.settings = web_archive.settings.with_overrides(max_image_megapixels=1)
    path = tmp_path / "big.png"
    Image.new("L", (1200, 1000), 255).save(path)
    login_as(client, "clerk")
    answer = post(client, path)
    assert answer.status_code == 400 and "megapixels" in answer.get_json()["errors"][0]["error"]


def test_the_pixel_limit_defaults_to_100_megapixels() -> None:
    from archive.config import load_settings

    assert load_settings({"ARCHIVE_HOME": "/tmp/unused"}).max_image_megapixels == 100


def test_uploads_are_rate_limited_per_user_and_the_refusal_is_audited(client, login_as, web_archive,
                                                                    tmp_path) -> None:
    web_archive.settings = web_archive.settings.with_overrides(upload_rate_per_hour=2)
    login_as(client, "clerk")
    assert post(client, scan(tmp_path, "1.png", "一")).status_code == 201
    assert post(client, scan(tmp_path, "2.png", "二")).status_code == 201
    refused = post(client, scan(tmp_path, "3.png", "三"))
    assert refused.status_code == 429
    [event] = audit_events(web_archive, event_type="security.rate_limited", actor_name="clerk")
    assert event.outcome == "denied" and event.detail["action"] == "upload"


def test_an_id_copy_cannot_be_captured_as_public(client, login_as, web_archive, tmp_path) -> None:
    login_as(client, "clerk")
    answer = post(client, scan(tmp_path), document_type="id_copy", classification="public")
    assert answer.status_code == 400 and "的密级不得低于" in answer.get_json()["errors"][0]["error"]
    assert post(client, scan(tmp_path), document_type="id_copy").status_code == 201  # the default is fine
