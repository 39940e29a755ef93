"""Crypto-shredding: destroy a document's data key so none of its objects can be read again, anywhere.

Every object of a document (the original; each page's image, OCR text and word boxes, of the current
version and of every earlier version a rescan replaced) is encrypted under the document's own data key,
and that key exists only wrapped in the database. Overwriting the wrapped key makes every copy of those objects — in the store,
its replicas and its backups — undecryptable, even for whoever holds the master keys. (A database
backup taken before the shred still holds the wrapped key: expire database backups within the
retention schedule's grace period.) The objects are then deleted as a courtesy, best effort.
"""

from __future__ import annotations

import logging

from archive import access, audit
from archive.actors import Actor
from archive.errors import NotFoundError, RecordHeldError, ValidationError
from archive.events import event_document_shredded
from archive.models import Document
from archive.permissions import permission_document_shred
from archive.services.indexing import queue_reindex
from archive.unit_of_work import UnitOfWork
from storage.base import StorageError

log = logging.getLogger(__name__)


def shred_document(uow: UnitOfWork, *, actor: Actor, document_id: int, reason: str) -> None:
    """Destroy the document's data key, drop it from search and delete its objects; keep its record.

    Requires permission_document_shred (held by no role: retention's disposal job acts as a system
    actor). Audited as document.shredded with the reason. Shredding a shredded document only retries
    deleting its objects. Asks the disposition guard inside the transaction: a held record is refused
    (RecordHeldError). Raises NotFoundError, ValidationError (no reason), AccessDenied.
    """
    with uow:
        document = uow.session.get(Document, document_id)
        if document is None:
            raise NotFoundError(f"no document {document_id}")
        shred(uow, actor=actor, document=document, reason=reason)
        uow.commit()


def shred(uow: UnitOfWork, *, actor: Actor, document: Document, reason: str) -> None:
    """Inside an open unit of work, as shred_document: the caller commits, and the objects are deleted
    once it has (so a destruction can write its register entry in the same transaction)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError("say why the document is shredded (e.g. the disposition decision)",
                              code="shred_reason_required", field="reason")
    access.require(actor, permission_document_shred, document)
    if document.id in uow.disposition_guard.held(uow.session, [document.id]):
        raise RecordHeldError(document.id, document.archive_code)
    already = document.is_shredded
    key_id = document.key_id
    thumbnails = [f"{c.object_key}.thumb" for c in (*document.pages, *document.page_versions)]
    object_keys = document.shred() + [key for key in thumbnails if uow.store.exists(key)]  # the viewer's
    if not already:
        queue_reindex(uow, document.id, action="delete")
        audit.record(uow.session, actor, event_document_shredded, target_type="document",
                     target_id=document.id, archive_code=document.archive_code, reason=reason,
                     sha256=document.content_sha256, master_key_id=key_id, objects=len(object_keys))
    uow.after_commit(lambda: _delete_objects(uow, object_keys))


def _delete_objects(uow: UnitOfWork, keys: list[str]) -> None:
    """Delete what we can: an object left behind can no longer be decrypted anyway."""
    for key in keys:
        try:
            uow.store.delete(key)
        except StorageError as error:
            log.warning("shredded object %s not deleted: %s", key, error)
