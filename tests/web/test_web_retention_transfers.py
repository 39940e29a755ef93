"""The transfer page: records handed over to another fonds, the receipt and the handover package
downloaded, the receiving archive's confirmation recorded; and to another department, confirmed there."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from archive_fixtures import PASSWORD
from sqlalchemy import select

from archive.actors import OPERATOR
from archive.capture.services import CaptureRequest, capture_document
from archive.demo.samples import write_scan
from archive.models import AuditEvent, Document
from archive.services import users
from archive.services.filing import file_documents


@pytest.fixture
def filed(web_archive, tmp_path) -> str:  # noqa: ANN001
    """A filed application form of YX (its OCR marked done: OCR is not what this is about)."""
    for username, department in (("records", "YX"), ("records_kf", "KF")):
        users.create_user(web_archive.uow(), actor=OPERATOR, username=username, password=PASSWORD,
                          role="records_manager", department=department, clearance="internal")
    clerk = users.resolve_actor(web_archive.uow(), username="clerk")
    path = write_scan(tmp_path / "form.png", ["用电申请表"], format="PNG", dpi=100)
    result = capture_document(web_archive.uow(), actor=clerk, request=CaptureRequest(
        path=path, customer="11010519491231002X", customer_name="张三", document_type="application_form"))
    with web_archive.uow() as uow:
        document = uow.session.get(Document, result.document_id)
        for page in document.pages:
            page.ocr_status, page.ocr_text = "done", "用电申请表"
        document.refresh_status()
        uow.commit()
    assert file_documents(web_archive.uow(), actor=clerk, archive_codes=[result.archive_code]).filed
    return result.archive_code


def as_user(app, login_as, username):  # noqa: ANN001, ANN201
    client = app.test_client()
    login_as(client, username)
    return client


def test_a_transfer_to_another_fonds_is_sent_packaged_and_confirmed_through_the_page(
        app, web_archive, login_as, filed):  # noqa: ANN001
    records = as_user(app, login_as, "records")
    assert 'href="/retention/transfers"' in records.get("/retention/").get_data(as_text=True)
    refused = records.post("/retention/transfers", data={"archive_codes": filed, "destination": "fonds",
                                                         "to_fonds": "Z002"}, follow_redirects=True)
    assert "请填写接收档案馆" in refused.get_data(as_text=True) and "receiving archive" not in refused.get_data(as_text=True)
    records.post("/retention/transfers", data={"archive_codes": filed, "destination": "fonds", "to_fonds": "Z002",
                                               "to_archive": "某市档案馆", "note": "机构调整"})
    page = records.get("/retention/transfers").get_data(as_text=True)
    assert 'id="transfer-1"' in page and "Z002" in page and "/retention/transfers/1/package.zip" in page
    receipt = records.get("/retention/transfers/1.pdf")
    assert receipt.status_code == 200 and receipt.data.startswith(b"%PDF")
    package = records.get("/retention/transfers/1/package.zip")
    assert package.status_code == 200
    with zipfile.ZipFile(io.BytesIO(package.data)) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
        (record,) = manifest["records"]
        assert hashlib.sha256(bundle.read(record["file"])).hexdigest() == record["sha256"]
        assert "receipt.pdf" in bundle.namelist()
    assert records.post("/retention/transfers/1/receipt", data={"kind": "fonds", "reference": "Z002-2026-9",
                                                                "signed_by": "李娜"}).status_code == 302
    page = records.get("/retention/transfers?lang=en").get_data(as_text=True)
    assert "Z002-2026-9" in page and "李娜" in page and "Record the confirmation" not in page
    with web_archive.uow() as uow:
        kinds = list(uow.session.scalars(select(AuditEvent.event_type).where(
            AuditEvent.event_type.like("retention.transfer_%")).order_by(AuditEvent.id)))
    assert kinds == ["retention.transfer_sent", "retention.transfer_packaged", "retention.transfer_received"]


def test_a_transfer_to_another_department_is_confirmed_on_the_receiving_side_and_staff_are_refused(
        app, web_archive, login_as, filed):  # noqa: ANN001
    records = as_user(app, login_as, "records")
    records.post("/retention/transfers", data={"archive_codes": filed, "destination": "department",
                                               "to_department": "KF"})
    assert "Confirm receipt" not in records.get("/retention/transfers?lang=en").get_data(as_text=True)
    receiving = as_user(app, login_as, "records_kf")
    assert "Confirm receipt" in receiving.get("/retention/transfers?lang=en").get_data(as_text=True)
    assert receiving.post("/retention/transfers/1/receipt").status_code == 302
    with web_archive.uow() as uow:
        document = uow.session.scalar(select(Document).where(Document.archive_code == filed))
        assert document.department.code == "KF"
    staff = as_user(app, login_as, "staff")
    assert staff.get("/retention/transfers").status_code == 403
    assert staff.post("/retention/transfers", data={"archive_codes": filed, "destination": "fonds",
                                                    "to_fonds": "Z009", "to_archive": "x"}).status_code == 403
    assert staff.get("/retention/transfers/1/package.zip").status_code == 403
