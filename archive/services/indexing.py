"""Keep the search index in step with the database through the outbox."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from sqlalchemy import delete, select

from archive.batches import BATCH, in_batches
from archive.models import Document, SearchOutbox
from archive.unit_of_work import UnitOfWork
from search.base import IndexedDocument
from storage.envelope import Keyring, open_sealed

_writer_lock = threading.Lock()  # one index writer per process; the backend handles other processes


def indexed_document(document: Document, keyring: Keyring) -> IndexedDocument:
    """What the index holds for a document: redacted text, PII only as keyed hashes."""
    customer = document.customer
    keywords = [document.archive_code]
    if customer.id_type == "uscc":  # organisations' credit codes are public identifiers
        keywords.append(open_sealed(customer.identity_sealed, keyring))
    return IndexedDocument(
        document_id=document.id,
        title=document.title,
        text="\n".join(p.ocr_text or "" for p in document.pages),
        archive_code=document.archive_code,
        customer_id=customer.id,
        customer_name=customer.name,
        document_type=document.document_type,
        department=document.department.code,
        classification=document.classification,
        dossier=document.dossier.title if document.dossier else "",
        status=document.status,
        document_date=document.document_date or document.captured_at.date(),
        keywords=(*keywords, document.doc_type.name_zh),
        pii_hashes=tuple(document.pii_hashes),
    )


def drain_outbox(uow: UnitOfWork) -> int:
    """Apply queued index work; rows are removed only after the index accepted them."""
    done = 0
    with _writer_lock:
        while True:
            with uow:
                rows = uow.session.scalars(select(SearchOutbox).order_by(SearchOutbox.id).limit(BATCH)).all()
                if not rows:
                    return done
                ids = {r.document_id for r in rows}
                # A shredded document keeps its record but leaves the index.
                documents = uow.session.scalars(
                    select(Document).where(Document.id.in_(ids), ~Document.is_shredded)
                ).unique().all()
                found = {d.id for d in documents}
                uow.index.index([indexed_document(d, uow.keyring) for d in documents])
                if ids - found:
                    uow.index.delete(ids - found)
                uow.session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_([r.id for r in rows])))
                uow.commit()
                done += len(rows)


def all_documents(uow: UnitOfWork) -> Iterator[list[IndexedDocument]]:
    """Every document not shredded, in batches, for a full reindex."""
    return in_batches(uow, select(Document).where(~Document.is_shredded), Document.id,
                      lambda uow, rows: [indexed_document(row.Document, uow.keyring) for row in rows])


def reindex(uow: UnitOfWork) -> int:
    count = 0
    with _writer_lock:
        uow.index.clear()
        for docs in all_documents(uow):
            uow.index.index(docs)
            count += len(docs)
    return count
