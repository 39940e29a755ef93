"""Fixity: prove every stored object is present, decrypts and matches its recorded hash; sweep leftovers.

A capture stores its objects under a fresh prefix `documents/<uuid>/` before the short transaction that
records the document; so does a rescan that replaces a page. A crash between the two leaves objects no
document references: `verify_archive` reports them as orphaned and `sweep_orphans` removes them once
they are older than a grace period, so a capture still in flight is never swept. A document references
the prefixes of its original and of every page image, current or an earlier version; each of those
objects is checked, and a page image also against its recorded SHA-256. A shredded document references
no objects: whatever of its objects outlived the shredding is an orphan too (undecryptable, and swept
like any other).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, or_, select

from archive import access, audit
from archive.actors import Actor
from archive.batches import in_batches
from archive.events import event_integrity_swept, event_integrity_verified
from archive.models import Document, FixityRun, Page, PageVersion, as_utc
from archive.permissions import permission_audit_view, permission_integrity_verify
from archive.unit_of_work import UnitOfWork
from archive.views import FixityProblem, FixityReport, FixityRunView
from storage.base import (
    DecryptionError,
    IncompleteWrites,
    ObjectInfo,
    ObjectNotFoundError,
    StorageUnavailableError,
)
from storage.envelope import WrappedKey

DOCUMENTS = "documents/"
CHUNK = 1024 * 1024

Progress = Callable[[int, int], None]  # (documents checked so far, documents in all)


@dataclass
class _Document:
    """What the check needs of one document, read in a batch so no ORM object outlives the session."""

    id: int
    archive_code: str
    object_key: str
    size_bytes: int
    content_sha256: str
    wrapped: WrappedKey
    # Every page object (current and earlier versions: image, text, word boxes) with its recorded
    # SHA-256 when there is one.
    page_objects: list[tuple[str, str | None]] = field(default_factory=list)

    def prefixes(self) -> set[str]:
        return {object_prefix(self.object_key), *(object_prefix(key) for key, _ in self.page_objects)}


def object_prefix(key: str) -> str:
    """`documents/<uuid>/pages/0001.png` -> `documents/<uuid>`: the unit one capture writes."""
    return "/".join(key.split("/", 2)[:2])


def verify_archive(
    uow: UnitOfWork, *, actor: Actor, progress: Progress | None = None,
    orphans_older_than: timedelta = timedelta(0),
) -> FixityReport:
    """Stream every object, check decryption, size and SHA-256; report missing, corrupted, orphaned.

    Requires permission_integrity_verify. The run is recorded in fixity_run and audited as
    integrity.verified (outcome failed when anything is wrong). Objects younger than
    `orphans_older_than` are not reported as orphaned (a capture may be writing them).
    """
    started = datetime.now(UTC)
    with uow:
        access.require(actor, permission_integrity_verify)
        total = uow.session.scalar(select(func.count(Document.id)).where(~Document.is_shredded)) or 0
    problems: list[FixityProblem] = []
    referenced: set[str] = set()
    documents_checked = objects_checked = 0
    try:
        for batch in _document_batches(uow):
            for document in batch:
                referenced.update(document.prefixes())
                checked, found = _check_document(uow, document)
                objects_checked += checked
                problems.extend(found)
                documents_checked += 1
                if progress:
                    progress(documents_checked, max(total, documents_checked))
        cutoff = started - orphans_older_than
        for prefix, objects in _unreferenced(uow, referenced).items():
            for info in objects:
                if orphans_older_than and (info.modified is None or info.modified > cutoff):
                    continue
                problems.append(FixityProblem("orphaned", info.key, None, "",
                                              f"no document references {prefix}/ ({info.size} bytes)"))
    except StorageUnavailableError as error:  # the run stops and says so: nothing after it was checked
        problems.append(FixityProblem("unreachable", "", None, "", f"the object store is unreachable: {error}"))
    finished = datetime.now(UTC)
    with uow:
        run = FixityRun(started_at=started, finished_at=finished, documents_checked=documents_checked,
                        objects_checked=objects_checked, problems=[asdict(p) for p in problems],
                        ok=not problems)
        uow.session.add(run)
        uow.session.flush()
        report = FixityReport(run.id, started, finished, documents_checked, objects_checked, problems)
        audit.record(uow.session, actor, event_integrity_verified, outcome="ok" if report.ok else "failed",
                     target_type="fixity_run", target_id=run.id, documents_checked=documents_checked,
                     objects_checked=objects_checked,
                     **{kind: report.count(kind) for kind in ("missing", "corrupted", "orphaned")})
        uow.commit()
        return report


def last_fixity_run(uow: UnitOfWork, *, actor: Actor) -> FixityRunView | None:
    """The newest recorded fixity run, or None. Requires permission_audit_view (compliance)."""
    with uow:
        access.require(actor, permission_audit_view)
        run = uow.session.scalar(select(FixityRun).order_by(FixityRun.id.desc()).limit(1))
        if run is None:
            return None
        return FixityReport(run.id, as_utc(run.started_at), as_utc(run.finished_at), run.documents_checked,
                            run.objects_checked, [FixityProblem(**p) for p in run.problems or []])


def sweep_orphans(uow: UnitOfWork, *, actor: Actor, older_than: timedelta = timedelta(hours=1)) -> list[str]:
    """Delete objects under documents/ that no document references, once all of their prefix is older
    than `older_than` (a capture in flight is younger). Returns the deleted keys.

    Requires permission_integrity_verify; audited as integrity.swept.
    """
    with uow:
        access.require(actor, permission_integrity_verify)
    cutoff = datetime.now(UTC) - older_than
    referenced: set[str] = set()
    for batch in _document_batches(uow):
        for document in batch:
            referenced.update(document.prefixes())
    removed: list[str] = []
    for objects in _unreferenced(uow, referenced).values():
        # A prefix goes as a whole, and only when its newest object is past the grace period.
        if older_than > timedelta(0) and any(o.modified is None or o.modified > cutoff for o in objects):
            continue
        for info in objects:
            uow.object_store.delete(info.key)
            removed.append(info.key)
    store = uow.object_store
    leftovers = store.discard_incomplete_writes(DOCUMENTS, older_than) if isinstance(store, IncompleteWrites) else []
    with uow:
        audit.record(uow.session, actor, event_integrity_swept, objects_removed=len(removed),
                     incomplete_writes_removed=len(leftovers), older_than_seconds=int(older_than.total_seconds()),
                     keys=removed[:100])
        uow.commit()
    return removed


# --- helpers ----------------------------------------------------------------------------------------


def _document_batches(uow: UnitOfWork) -> Iterator[list[_Document]]:
    """Every document not shredded, in id order, each batch read in its own short transaction."""
    query = select(Document.id, Document.archive_code, Document.object_key, Document.size_bytes,
                   Document.content_sha256, Document.key_id, Document.cipher, Document.wrapped_key
                   ).where(~Document.is_shredded)
    return in_batches(uow, query, Document.id, _load_documents)


def _load_documents(uow: UnitOfWork, rows: Sequence[Row[Any]]) -> list[_Document]:
    batch = {
        r.id: _Document(r.id, r.archive_code, r.object_key, r.size_bytes, r.content_sha256,
                        WrappedKey(r.key_id, r.cipher, r.wrapped_key))
        for r in rows
    }
    for table in (Page, PageVersion):
        query = select(table.document_id, table.object_key, table.image_sha256, table.text_object_key,
                       table.words_object_key).where(table.document_id.in_(batch))
        if table is Page:  # a page a worker has yet to render has no objects
            query = query.where(Page.image_ready.is_(True))
        pages = uow.session.execute(query.order_by(table.document_id, table.number, table.version))
        for document_id, image_key, image_sha256, text_key, words_key in pages:
            objects = batch[document_id].page_objects
            objects.append((image_key, image_sha256))
            objects.extend((key, None) for key in (text_key, words_key) if key)
    return list(batch.values())


def _check_document(uow: UnitOfWork, document: _Document) -> tuple[int, list[FixityProblem]]:
    """Check the original against its recorded size and hash, and that every page object decrypts and
    matches its recorded hash where one is recorded (page images)."""
    problems: list[FixityProblem] = []

    def problem(kind: str, key: str, detail: str) -> None:
        problems.append(FixityProblem(kind, key, document.id, document.archive_code, detail))

    try:
        data_key = uow.keyring.unwrap(document.wrapped)
    except DecryptionError as error:
        keys = [document.object_key, *(key for key, _ in document.page_objects)]
        for key in keys:
            problem("corrupted", key, f"data key cannot be unwrapped: {error}")
        return len(keys), problems
    size, digest, failure = _read(uow, document.object_key, data_key)
    if failure:
        problem(*failure)
    elif digest != document.content_sha256:
        problem("corrupted", document.object_key, f"SHA-256 {digest} differs from the recorded "
                                                  f"{document.content_sha256}")
    elif size != document.size_bytes:
        problem("corrupted", document.object_key, f"{size} bytes, {document.size_bytes} recorded")
    for key, expected in document.page_objects:
        _, digest, failure = _read(uow, key, data_key)
        if failure:
            problem(*failure)
        elif expected and digest != expected:
            problem("corrupted", key, f"SHA-256 {digest} differs from the recorded {expected}")
    return 1 + len(document.page_objects), problems


def _read(uow: UnitOfWork, key: str, data_key: bytes) -> tuple[int, str, tuple[str, str, str] | None]:
    """Stream and decrypt one object: (plaintext size, SHA-256, (kind, key, detail) of a failure or None)."""
    digest, size = hashlib.sha256(), 0
    try:
        with uow.store.open(key, data_key=data_key) as stream:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except ObjectNotFoundError:
        return size, "", ("missing", key, "not in the object store")
    except DecryptionError as error:
        return size, "", ("corrupted", key, f"does not decrypt: {error or type(error).__name__}")
    return size, digest.hexdigest(), None


def _unreferenced(uow: UnitOfWork, referenced: set[str]) -> dict[str, list[ObjectInfo]]:
    """Objects under documents/ grouped by prefix, for prefixes no document referenced.

    A document committed after `referenced` was gathered is looked up again before anything is
    reported, so a capture finishing during the run is not mistaken for an orphan.
    """
    candidates: dict[str, list[ObjectInfo]] = defaultdict(list)
    for info in uow.object_store.list(DOCUMENTS):
        prefix = object_prefix(info.key)
        if prefix not in referenced:
            candidates[prefix].append(info)
    for chunk in _chunks(sorted(candidates), 100):
        with uow:
            for column in (Document.object_key, Page.object_key, PageVersion.object_key):
                query = select(column).where(~Document.is_shredded,
                                             or_(*(column.startswith(p + "/", autoescape=True) for p in chunk)))
                if column is not Document.object_key:
                    query = query.join(Document, Document.id == column.class_.document_id)
                for key in uow.session.scalars(query):
                    candidates.pop(object_prefix(key), None)
    return dict(candidates)


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]

