"""The four-property check's reports on the compliance pages: a list with PDF and Excel downloads, for the
auditor and the records manager only; in Chinese by default."""

from __future__ import annotations

from flask.testing import FlaskClient

from archive.bootstrap import Archive
from archive.compliance import fourcheck
from archive.compliance.permissions import FOURCHECK_ACTOR


def test_the_auditor_lists_the_reports_and_downloads_them_as_pdf_and_excel(
    client: FlaskClient, login_as, upload, scan, web_archive: Archive
) -> None:
    login_as(client, "clerk")
    upload(scan())
    report = fourcheck.run_fourcheck(web_archive.uow(), actor=FOURCHECK_ACTOR)
    auditor = client.application.test_client()
    login_as(auditor, "auditor")
    html = auditor.get("/compliance/checks?lang=en").get_data(as_text=True)
    assert "Four-property checks" in html and f"/compliance/checks/{report.run_id}.pdf" in html
    assert "system:fourcheck" in html and "1 passed, 0 failed" in html
    pdf = auditor.get(f"/compliance/checks/{report.run_id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    xlsx = auditor.get(f"/compliance/checks/{report.run_id}.xlsx")
    assert xlsx.status_code == 200 and xlsx.data.startswith(b"PK")
    assert auditor.get(f"/compliance/checks/{report.run_id}.exe").status_code == 404
    chinese = auditor.get("/compliance/checks?lang=zh_CN").get_data(as_text=True)
    assert "四性检测" in chinese and "真实性" in chinese


def test_staff_cannot_see_the_reports(client: FlaskClient, login_as, web_archive: Archive) -> None:
    report = fourcheck.run_fourcheck(web_archive.uow(), actor=FOURCHECK_ACTOR)
    login_as(client, "staff")
    assert client.get("/compliance/checks").status_code == 403
    assert client.get(f"/compliance/checks/{report.run_id}.pdf").status_code == 403
