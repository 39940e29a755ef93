"""Filing 归档: a captured document becomes an archived record. Its archive code is fixed from then on and
its retention clock starts where the schedule counts from the filing date.

Filing checks the document against its metadata: recognised (no page waiting or failed), every page
present, the required metadata elements of DA/T 22 set (archive code, title, type, classification,
retention, department); then every registered filing check (registry.Feature.filing_checks: compliance's
four-property checks plug in there). A document that fails is refused with the reasons; the others of the
same batch are filed, and the features listening (retention: disposition dates) act in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import access, audit, registry
from archive.actors import Actor
from archive.errors import NotFoundError
from archive.events import event_document_filed, event_document_filing_refused
from archive.models import Document
from archive.permissions import permission_document_file
from archive.unit_of_work import UnitOfWork
from archive.views import FilingProblem, FilingResult

REQUIRED = ("archive_code", "title", "document_type", "classification", "retention", "department_id")


def metadata_problems(session: Session, document: Document) -> list[FilingProblem]:
    """What keeps the document from being filed, by the archive's own rules."""
    problems = []
    if document.is_shredded:
        problems.append(FilingProblem("filing_shredded", "the document was shredded"))
    elif document.status == "processing":
        problems.append(FilingProblem("filing_ocr_running", "OCR has not finished"))
    elif document.status == "failed":
        problems.append(FilingProblem("filing_ocr_failed", f"OCR failed ({document.failure_reason}): rescan the page first",
                                      {"reason": document.failure_reason or ""}))
    if not document.pages:
        problems.append(FilingProblem("filing_no_page", "it has no page"))
    missing = [name for name in REQUIRED if not getattr(document, name)]
    if missing:
        problems.append(FilingProblem("filing_metadata_missing", f"required metadata missing: {', '.join(missing)}",
                                      {"fields": ",".join(missing)}))
    return problems


def file_documents(uow: UnitOfWork, *, actor: Actor, archive_codes: Sequence[str]) -> FilingResult:
    """File the documents named by archive code, in one transaction. Requires permission_document_file
    on each (the clerk's department and clearance). Each filing is audited as document.filed, each
    refusal as document.filing_refused with its reasons. Raises NotFoundError for an unknown code,
    AccessDenied (audited) for a document the actor may not file."""
    codes = list(dict.fromkeys(code.strip() for code in archive_codes if code.strip()))
    with uow:
        access.require(actor, permission_document_file)
        documents = {d.archive_code: d for d in uow.session.scalars(
            select(Document).where(Document.archive_code.in_(codes)))}
        checks = registry.filing_checks()
        filed: list[str] = []
        refused: dict[str, list[FilingProblem]] = {}
        for code in codes:
            document = documents.get(code)
            if document is None:
                raise NotFoundError(f"no document with archive code {code}")
            access.require(actor, permission_document_file, document)
            if document.filed_at is not None:
                refused[code] = [FilingProblem("filing_already_filed", "already filed")]
                continue
            problems = metadata_problems(uow.session, document)
            for check in checks:
                problems += check.problems(uow, document, actor=actor)
            if problems:
                refused[code] = problems
                audit.record(uow.session, actor, event_document_filing_refused, outcome="failed",
                             target_type="document", target_id=document.id, archive_code=code,
                             problems=[p.message for p in problems])
                continue
            document.filed_at, document.filed_by_id = uow.clock.now(), actor.user_id
            filed.append(code)
            audit.record(uow.session, actor, event_document_filed, target_type="document", target_id=document.id,
                         archive_code=code)
        if filed:
            uow.session.flush()
            for listener in registry.filing_listeners():
                listener(uow, actor, [documents[code].id for code in filed])
        uow.commit()
    return FilingResult(filed, refused)
