"""Keep the search index in step with the database through the outbox.

Every change to what the index holds writes a SearchOutbox row in the change's own transaction;
`drain_outbox` applies the rows and removes them only once the index has accepted them, so a crash
between commit and indexing loses nothing.

`reindex` rebuilds without downtime: it fills a new index beside the live one (which keeps serving),
catches up on the outbox rows written meanwhile, and publishes the new index in one atomic step.
While a rebuild runs, draining keeps its rows (the change may have reached only the index being
replaced); the rebuild's catch-up and the drain after it apply them to the new index.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence

from sqlalchemy import Row, delete, func, select

from archive import registry
from archive.batches import BATCH, in_batches
from archive.models import Document, SearchOutbox
from archive.services import job_outbox
from archive.unit_of_work import UnitOfWork
from search.base import IndexBuild, IndexedDocument, IndexState
from storage.envelope import Keyring, open_sealed

log = logging.getLogger(__name__)
_writer_lock = threading.Lock()  # one index writer per process; the backend handles other processes

Progress = Callable[[int, int], None]
DRAIN_OUTBOX = "drain_outbox"  # the queued task that runs drain_outbox (archive/tasks.py)


def queue_reindex(uow: UnitOfWork, document_id: int, *, action: str = "index") -> None:
    """Inside an open unit of work: (re)index the document, or with action "delete" remove it from the
    index, once the transaction commits. The outbox row is written in the same transaction."""
    uow.session.add(SearchOutbox(document_id=document_id, action=action))
    uow.after_commit(lambda: _kick_drain(uow))


def _kick_drain(uow: UnitOfWork) -> None:
    """Queue a drain; if the queue is down the outbox row waits for the next drain (every consumer
    queues one as it starts, and every minute while the outbox holds rows)."""
    try:
        uow.jobs.enqueue(DRAIN_OUTBOX)
    except Exception as error:  # the queue's client raises its own errors (redis, sqlite3)
        log.warning("job queue unavailable; the search outbox keeps the change: %s", error)
        return
    job_outbox.flush_backlog(uow)  # the queue is back: what waited while it was down goes too


def outbox_waiting(uow: UnitOfWork) -> bool:
    """Say whether the search outbox holds rows (a drain is due)."""
    with uow:
        return uow.session.scalar(select(SearchOutbox.id).limit(1)) is not None


def indexed_document(document: Document, keyring: Keyring, lent_to: tuple[int, ...] = ()) -> IndexedDocument:
    """What the index holds for a document: redacted text, PII only as keyed hashes, its borrowers."""
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
        lent_to=lent_to,
    )


def _indexed(uow: UnitOfWork, documents: Sequence[Document]) -> list[IndexedDocument]:
    """The documents as the index holds them, each tagged with the users it is lent to now."""
    lending = registry.lending()
    lent = lending.borrowers(uow.session, [d.id for d in documents], uow.clock.now()) if lending and documents else {}
    return [indexed_document(d, uow.keyring, lent.get(d.id, ())) for d in documents]


def _pending(uow: UnitOfWork, after: int) -> Sequence[Row[tuple[int, int]]]:
    """The next batch of outbox rows (id, document_id) past `after`, oldest first."""
    return uow.session.execute(
        select(SearchOutbox.id, SearchOutbox.document_id)
        .where(SearchOutbox.id > after).order_by(SearchOutbox.id).limit(BATCH)
    ).all()


def _current(uow: UnitOfWork, rows: Sequence[Row[tuple[int, int]]]) -> tuple[list[IndexedDocument], set[int]]:
    """The documents the rows name as they are now, and the ids that must leave the index."""
    ids = {r.document_id for r in rows}
    # A shredded document keeps its record but leaves the index.
    documents = uow.session.scalars(
        select(Document).where(Document.id.in_(ids), ~Document.is_shredded)
    ).unique().all()
    return _indexed(uow, documents), ids - {d.id for d in documents}


def _settled(before: IndexState, after: IndexState) -> bool:
    """Say whether a change applied between the two states surely reached the index that stays."""
    return before == after and before.building is None


def drain_outbox(uow: UnitOfWork) -> int:
    """Apply queued index work; rows are removed only after the index accepted them.

    During a rebuild the rows are applied to the live index and kept for the new one.
    """
    done, last = 0, 0
    with _writer_lock:
        while True:
            with uow:
                before = uow.index.state()
                rows = _pending(uow, last)
                if not rows:
                    return done
                found, gone = _current(uow, rows)
                uow.index.index(found)
                if gone:
                    uow.index.delete(gone)
                if _settled(before, uow.index.state()):
                    uow.session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_([r.id for r in rows])))
                uow.commit()
                last = rows[-1].id
                done += len(rows)


def all_documents(uow: UnitOfWork) -> Iterator[list[IndexedDocument]]:
    """Every document not shredded, in batches, for a full reindex."""
    return in_batches(uow, select(Document).where(~Document.is_shredded), Document.id,
                      lambda uow, rows: _indexed(uow, [row.Document for row in rows]))


def reindex(uow: UnitOfWork, progress: Progress | None = None) -> int:
    """Rebuild the index from the database beside the live one, then swap; return the documents indexed.

    Searches are served by the old index until the new one is complete. A failure (or a crash)
    leaves the old index live; the next rebuild removes the unfinished one.
    """
    build = uow.index.begin_rebuild()  # from here on, drains keep their rows
    try:
        with uow:
            # Rows up to here describe changes already committed, which the walk below reads.
            start = uow.session.scalar(select(func.max(SearchOutbox.id))) or 0
            total = uow.session.scalar(select(func.count()).select_from(Document).where(~Document.is_shredded))
        count = 0
        for documents in all_documents(uow):
            build.add(documents)
            count += len(documents)
            if progress is not None:
                progress(count, max(total or 0, count))
        _catch_up(uow, build, after=start)
        build.publish()
    except BaseException:
        build.discard()
        raise
    drain_outbox(uow)  # what was written while publishing reaches the new index and leaves the outbox
    return count


def _catch_up(uow: UnitOfWork, build: IndexBuild, *, after: int) -> None:
    """Apply to the build every change committed since the rebuild started."""
    last = after
    while True:
        with uow:
            rows = _pending(uow, last)
            if not rows:
                return
            found, gone = _current(uow, rows)
        build.index(found)
        build.delete(gone)
        last = rows[-1].id
