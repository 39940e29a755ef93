"""Re-redact text stored before the current redaction (archive/redaction.py): titles, file names,
dossier titles, customer names and OCR text. Resumable: a cursor kept after each batch lets an
interrupted run go on where it stopped; changed documents are re-indexed through the outbox.

The audit trail is append-only and is not rewritten: events recorded before keep what they said.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from archive import access, audit
from archive.actors import Actor
from archive.models import Customer, Document, Dossier, PageVersion, utcnow
from archive.permissions import permission_text_reredact
from archive.pii import identifier_hashes, redact
from archive.security.models import SecurityCounter
from archive.services.documents import document_key
from archive.services.indexing import queue_reindex
from archive.unit_of_work import UnitOfWork
from storage.base import StorageError

CURSOR = "job:reredact:cursor"
event_text_reredacted = "text.reredacted"


@dataclass(frozen=True)
class ReredactionReport:
    documents_checked: int
    documents_changed: int
    resumed_after: int  # the document id the run started after (0: from the beginning)


def _fix(obj: object, attribute: str) -> bool:
    value = getattr(obj, attribute)
    if not value:
        return False
    redacted = redact(value)
    if redacted == value:
        return False
    setattr(obj, attribute, redacted)
    return True


def _full_texts(uow: UnitOfWork, document: Document) -> dict[int, str]:
    """The pages' full OCR text (encrypted objects), by page id; nothing for a shredded document."""
    if document.is_shredded:
        return {}
    texts: dict[int, str] = {}
    data_key = None
    for page in document.pages:
        if not page.text_object_key:
            continue
        try:
            data_key = data_key or document_key(uow, document)
            with uow.store.open(page.text_object_key, data_key=data_key) as stream:
                texts[page.id] = stream.read().decode("utf-8")
        except StorageError:  # a missing or damaged object is `archive verify`'s to report, not ours
            continue
    return texts


def reredact_stored_text(uow: UnitOfWork, *, actor: Actor, batch: int = 200,
                         progress: Callable[[int, int], None] | None = None) -> ReredactionReport:
    """Run (or resume) the re-redaction over every document. Requires permission_text_reredact (held by
    no role: the operator's named system actor)."""
    access.require(actor, permission_text_reredact)
    checked = changed = 0
    with uow:
        cursor_row = uow.session.get(SecurityCounter, CURSOR)
        start = cursor_row.count if cursor_row else 0
    cursor = start
    while True:
        with uow:
            session = uow.session
            documents = session.scalars(
                select(Document).where(Document.id > cursor).order_by(Document.id).limit(batch)
            ).unique().all()
            if not documents:
                session.query(SecurityCounter).filter(SecurityCounter.key == CURSOR).delete()
                audit.record(session, actor, event_text_reredacted, documents_checked=checked,
                             documents_changed=changed, resumed_after=start)
                uow.commit()
                break
            for document in documents:
                touched = _fix(document, "title") | _fix(document, "source_filename")
                full_texts = _full_texts(uow, document)
                for page in document.pages:
                    if page.id in full_texts:  # redact the full text again rather than its old redaction
                        redacted = redact(full_texts[page.id])
                        if redacted != page.ocr_text:
                            page.ocr_text, touched = redacted, True
                    else:
                        touched |= _fix(page, "ocr_text")
                hashes = set(document.pii_hashes)
                for text in full_texts.values():  # numbers found only now become exact lookups too
                    hashes.update(identifier_hashes(text, uow.keyring))
                if hashes != set(document.pii_hashes):
                    document.pii_hashes, touched = sorted(hashes), True
                for version in session.scalars(select(PageVersion).where(PageVersion.document_id == document.id)):
                    touched |= _fix(version, "ocr_text")
                if document.dossier_id:
                    touched |= _fix(session.get(Dossier, document.dossier_id), "title")
                touched |= _fix(session.get(Customer, document.customer_id), "name")
                if touched:
                    changed += 1
                    queue_reindex(uow, document.id)
            checked += len(documents)
            cursor = documents[-1].id
            row = session.get(SecurityCounter, CURSOR)
            if row is None:
                session.add(SecurityCounter(key=CURSOR, count=cursor, window_started_at=utcnow(), last_at=utcnow()))
            else:
                row.count, row.last_at = cursor, utcnow()
            uow.commit()
        if progress:
            progress(checked, checked)
    return ReredactionReport(checked, changed, start)
