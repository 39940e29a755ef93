"""Correcting a document's metadata: who may (access policy), with before and after in the audit
(修改有痕迹, seed 002), and the edit history read back from the audit trail. Identity keys, the archive
code, the classification (its own approval: services/classification.py) and the content are never
edited here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import access, audit
from archive.actors import Actor
from archive.errors import NotFoundError, ValidationError
from archive.events import event_document_metadata_changed
from archive.models import AuditEvent, Document, DocumentType, Dossier, as_utc
from archive.permissions import permission_document_edit
from archive.pii import redact
from archive.services import indexing
from archive.services.classification import rank
from archive.unit_of_work import UnitOfWork
from archive.views import MetadataChangeView

EDITABLE = ("title", "document_type", "document_date", "dossier", "original_or_copy", "box", "shelf",
            "work_order", "business_step")
LIMITS = {"title": 300, "dossier": 200, "box": 50, "shelf": 50, "work_order": 64, "business_step": 100}


@dataclass(frozen=True)
class MetadataEdit:
    """The new values; None leaves a field as it is, "" clears an optional one."""

    title: str | None = None
    document_type: str | None = None
    document_date: date | str | None = None  # a date, or "" to clear
    dossier: str | None = None  # the title of one of the customer's dossiers (opened if new), "" for none
    original_or_copy: str | None = None
    box: str | None = None
    shelf: str | None = None
    work_order: str | None = None
    business_step: str | None = None


def _current(document: Document) -> dict[str, str]:
    """The editable fields as text, as the audit records them."""
    return {
        "title": document.title, "document_type": document.document_type,
        "document_date": document.document_date.isoformat() if document.document_date else "",
        "dossier": document.dossier.title if document.dossier else "",
        "original_or_copy": document.original_or_copy, "box": document.box or "", "shelf": document.shelf or "",
        "work_order": document.work_order or "", "business_step": document.business_step or "",
    }


def _cleaned(edit: MetadataEdit) -> dict[str, str]:
    """The fields the edit sets, trimmed, PII redacted from free text, checked for length."""
    wanted: dict[str, str] = {}
    for name in EDITABLE:
        value = getattr(edit, name)
        if value is None:
            continue
        text = value.isoformat() if isinstance(value, date) else str(value).strip()
        if name in LIMITS:
            text = redact(text)
            if len(text) > LIMITS[name]:
                raise ValidationError(f"{name} is longer than {LIMITS[name]} characters", code="too_long",
                                      params={"limit": LIMITS[name]}, field=name)
        wanted[name] = text
    if "title" in wanted and not wanted["title"]:
        raise ValidationError("a document needs a title", code="title_required", field="title")
    if wanted.get("original_or_copy", "copy") not in ("original", "copy"):
        raise ValidationError("original or copy", code="original_or_copy", field="original_or_copy")
    if wanted.get("document_date"):
        try:
            date.fromisoformat(wanted["document_date"])
        except ValueError:
            raise ValidationError(f"{wanted['document_date']!r} is not a date (YYYY-MM-DD)", code="not_a_date",
                                  field="document_date") from None
    return wanted


def _dossier(session: Session, document: Document, title: str) -> Dossier | None:
    if not title:
        return None
    dossier = session.scalar(select(Dossier).where(Dossier.customer_id == document.customer_id,
                                                   Dossier.title == title))
    if dossier is None:
        dossier = Dossier(customer_id=document.customer_id, title=title,
                          department_id=document.customer.department_id)
        session.add(dossier)
        session.flush()
    elif rank(session, dossier.classification or "public") > rank(session, document.classification):
        raise ValidationError("a document is never below its dossier's level", code="dossier_above_document",
                              field="dossier")
    return dossier


def _check_type(session: Session, document: Document, code: str) -> None:
    """A type change keeps the archive code and the retention right: only before filing, and only to a
    type of the same category (门类) and retention period, both of which the archive code spells."""
    new, old = session.get(DocumentType, code), document.doc_type
    if new is None:
        raise ValidationError(f"unknown document type {code!r}", code="unknown_document_type",
                              params={"value": code}, field="document_type")
    if not new.active:  # a deactivated type names the records that have it, but takes no new ones
        raise ValidationError(f"document type {code!r} is no longer in use", code="inactive_reference",
                              params={"value": code}, field="document_type")
    if document.filed_at is not None:
        raise ValidationError("a filed record keeps its type", code="type_fixed_after_filing",
                              field="document_type")
    if (new.category, new.retention_code) != (old.category, document.retention):
        raise ValidationError("the new type has another category or retention period than the archive code",
                              code="type_changes_archive_code", field="document_type")
    if new.minimum_classification and rank(session, new.minimum_classification) > rank(session,
                                                                                          document.classification):
        raise ValidationError("the document's classification is below the new type's minimum",
                              code="type_above_classification", field="document_type")


def edit_document_metadata(uow: UnitOfWork, *, actor: Actor, document_id: int, edit: MetadataEdit) -> list[str]:
    """Apply the edit; the names of the fields that changed. Requires permission_document_edit on the
    document (clerks of its department, up to their clearance). Raises ValidationError (code, field).
    Audited as document.metadata_changed with before and after; the document is re-indexed."""
    wanted = _cleaned(edit)
    with uow:
        session = uow.session
        document = session.get(Document, document_id)
        if document is None:
            raise NotFoundError(f"no document {document_id}")
        access.require(actor, permission_document_edit, document)
        if document.is_shredded:
            raise ValidationError("a shredded document keeps its trace as it is", code="document_shredded_edit")
        before = _current(document)
        changed = [name for name, value in wanted.items() if value != before[name]]
        if not changed:
            return []
        values = {name: wanted[name] for name in changed}
        if "document_type" in values:
            _check_type(session, document, values["document_type"])
        if "dossier" in values:
            document.dossier = _dossier(session, document, values["dossier"])
        for name in ("title", "document_type", "original_or_copy"):
            if name in values:
                setattr(document, name, values[name])
        for name in ("box", "shelf", "work_order", "business_step"):
            if name in values:
                setattr(document, name, values[name] or None)
        if "document_date" in values:
            document.document_date = date.fromisoformat(values["document_date"]) if values["document_date"] else None
        audit.record(session, actor, event_document_metadata_changed, target_type="document", target_id=document.id,
                     archive_code=document.archive_code, before={n: before[n] for n in changed}, after=values)
        indexing.queue_reindex(uow, document.id)
        uow.commit()
        return changed


def metadata_history(session: Session, document_id: int) -> list[MetadataChangeView]:
    """The document's metadata edits, newest first, from the audit trail (the values were redacted when
    recorded). The caller has checked the reader may see the document."""
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.event_type == event_document_metadata_changed,
                                 AuditEvent.target_type == "document", AuditEvent.target_id == str(document_id))
        .order_by(AuditEvent.id.desc())
    )
    return [
        MetadataChangeView(
            occurred_at=as_utc(e.occurred_at), actor=e.actor_name,
            changes={name: (str(e.detail.get("before", {}).get(name, "")), str(value))
                     for name, value in e.detail.get("after", {}).items()},
        )
        for e in events
    ]
