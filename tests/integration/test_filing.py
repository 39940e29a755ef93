"""Filing 归档: a recognised document with its metadata becomes an archived record; late capture 补录 of an
earlier year's document needs a reason, kept and shown."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive import registry
from archive.bootstrap import Archive
from archive.capture.services import CaptureRequest, capture_document
from archive.cli import cli
from archive.demo.samples import write_scan
from archive.errors import AccessDenied, ValidationError
from archive.identity import resident_id_check_digit
from archive.models import AuditEvent, Document
from archive.services import documents
from archive.services.filing import file_documents
from archive.views import FilingProblem

ID_NUMBER = "11010519491231002" + resident_id_check_digit("11010519491231002")


def capture(archive: Archive, actor, tmp_path: Path, name: str, **fields) -> tuple[int, str]:  # noqa: ANN001
    path = write_scan(tmp_path / f"{name}.png", [f"{name} 用电申请书"], format="PNG", dpi=100)
    result = capture_document(archive.uow(), actor=actor, request=CaptureRequest(
        path=path, filename=path.name, customer=ID_NUMBER, customer_name="张伟", document_type="application_form",
        **fields))
    return result.document_id, result.archive_code


def recognised(archive: Archive, document_id: int) -> None:
    """Mark the pages read (OCR itself is tested elsewhere)."""
    with archive.uow() as uow:
        document = uow.session.get(Document, document_id)
        for page in document.pages:
            page.ocr_status, page.ocr_text = "done", "用电申请书"
        document.refresh_status()
        uow.commit()


def events(archive: Archive, event_type: str) -> list[tuple[str, str, dict]]:
    with archive.uow() as uow:
        rows = uow.session.scalars(select(AuditEvent).where(AuditEvent.event_type == event_type).order_by(AuditEvent.id))
        return [(e.actor_name, e.target_id, e.detail) for e in rows]


def test_a_document_is_filed_only_once_recognised_and_the_filing_is_audited(archive, people, tmp_path):
    document_id, code = capture(archive, people["clerk"], tmp_path, "form")
    assert file_documents(archive.uow(), actor=people["clerk"], archive_codes=[code]).refused == {
        code: "OCR has not finished"}
    recognised(archive, document_id)
    result = file_documents(archive.uow(), actor=people["clerk"], archive_codes=[code])
    assert (result.filed, result.refused) == ([code], {})
    assert documents.get_document(archive.uow(), actor=people["clerk"], document_id=document_id).filed_at is not None
    assert file_documents(archive.uow(), actor=people["clerk"], archive_codes=[code]).refused == {code: "already filed"}
    assert [(who, target) for who, target, _ in events(archive, "document.filed")] == [("clerk", str(document_id))]
    assert events(archive, "document.filing_refused")[0][2]["problems"] == ["OCR has not finished"]


def test_a_registered_filing_check_can_refuse_a_document(archive, people, tmp_path, monkeypatch):
    class FourProperties:
        def problems(self, uow, document, *, actor):  # noqa: ANN001, ANN201
            return [FilingProblem("fourcheck_problem", "usability: page 1 does not render")]

    monkeypatch.setattr(registry, "filing_checks", lambda: [FourProperties()])
    document_id, code = capture(archive, people["clerk"], tmp_path, "form")
    recognised(archive, document_id)
    assert file_documents(archive.uow(), actor=people["clerk"], archive_codes=[code]).refused == {
        code: "usability: page 1 does not render"}


def test_only_a_clerk_of_the_department_files_and_a_refusal_changes_nothing(archive, people, tmp_path):
    document_id, code = capture(archive, people["clerk"], tmp_path, "form")
    recognised(archive, document_id)
    for name in ("staff", "approver", "admin", "auditor"):
        with pytest.raises(AccessDenied):
            file_documents(archive.uow(), actor=people[name], archive_codes=[code])
    with archive.uow() as uow:
        assert uow.session.get(Document, document_id).filed_at is None
    assert [detail["permission"] for _, _, detail in events(archive, "access.denied")] == ["document.file"] * 4


def test_late_capture_of_an_earlier_years_document_needs_a_reason_which_is_kept_and_shown(archive, people, tmp_path):
    last_year = date(date.today().year - 1, 3, 15)
    with pytest.raises(ValidationError, match="补录"):
        capture(archive, people["clerk"], tmp_path, "old", document_date=last_year)
    assert events(archive, "document.capture_refused")[0][2]["reason"].startswith("补录")
    document_id, _ = capture(archive, people["clerk"], tmp_path, "old", document_date=last_year,
                             late_reason="原件在营业厅遗失后找回，联系人 13812345678")
    view = documents.get_document(archive.uow(), actor=people["staff"], document_id=document_id)
    assert view.late_capture_reason == "原件在营业厅遗失后找回，联系人 138****5678"  # kept, PII masked
    this_year = capture(archive, people["clerk"], tmp_path, "new", document_date=date.today())
    assert documents.get_document(archive.uow(), actor=people["clerk"],
                                  document_id=this_year[0]).late_capture_reason is None


def test_the_cli_files_documents_and_exits_1_when_one_is_refused(archive, people, tmp_path):
    first, first_code = capture(archive, people["clerk"], tmp_path, "a")
    _, second_code = capture(archive, people["clerk"], tmp_path, "b")
    recognised(archive, first)
    archive.settings = archive.settings.with_overrides(cli_trusted=True)  # `--as` without a credential
    result = CliRunner().invoke(cli, ["file", first_code, second_code, "--as", "clerk", "--json"],
                                obj={"archive": archive})
    assert result.exit_code == 1
    assert json.loads(result.output) == {"filed": [first_code], "refused": {second_code: "OCR has not finished"}}
