"""Master-key rotation: add a key, re-wrap every data key under it, retire keys nothing uses.

Objects are never re-encrypted: each document's data key is unwrapped with its old master key and
wrapped again under the active one, and customers' sealed ID and phone numbers are re-sealed. The work
runs in batches, one commit per batch, each batch touching only rows still under another key, so an
interrupted run is resumed by running `rewrap_data_keys` again.

A process that loaded the keyring before a rotation keeps wrapping new data keys under the old key
until it restarts; `retire_unused_keys` retires only keys no row uses at that moment, so restart
servers and workers after rotating and before retiring.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Row, and_, func, not_, or_, select, update

from archive import access, audit, registry
from archive.actors import Actor
from archive.batches import BATCH, in_batches
from archive.errors import KeyManagementError
from archive.events import event_keys_retired, event_keys_rewrapped, event_keys_rotated
from archive.models import Customer, Document
from archive.permissions import permission_keys_manage
from archive.unit_of_work import UnitOfWork
from storage.base import KeyUnavailableError
from storage.envelope import Keyring, WrappedKey, open_sealed, seal

Progress = Callable[[int, int], None]  # (records re-wrapped so far, records to re-wrap in all)

ENV_KEYS_MESSAGE = (
    "the master keys come from ARCHIVE_MASTER_KEYS, which this program cannot change: add a new key to "
    "ARCHIVE_MASTER_KEYS (id:base64 of 32 random bytes, e.g. `k2:$(head -c32 /dev/urandom | base64)`), mark it "
    "active with a leading '*', restart every process, then run `archive keys rewrap`"
)


@dataclass(frozen=True)
class RotationResult:
    key_id: str  # the new active master key
    previous_key_id: str
    documents_rewrapped: int
    customers_resealed: int


class KeyStatus(NamedTuple):
    key_id: str
    active: bool
    documents_using: int


def rotate_master_key(uow: UnitOfWork, *, actor: Actor, progress: Progress | None = None) -> RotationResult:
    """Add a master key to the key file, make it active and re-wrap every data key under it.

    Requires permission_keys_manage; audited as keys.rotated then keys.rewrapped per batch. Raises
    KeyManagementError when the keys come from the environment. If interrupted, the new key is
    already saved: finish with `rewrap_data_keys`.
    """
    with uow:
        access.require(actor, permission_keys_manage)
        if uow.settings.master_keys:
            raise KeyManagementError(f"cannot rotate: {ENV_KEYS_MESSAGE}")
        # The file, not this process's copy, is the truth: another process may have rotated since.
        keyring = Keyring.load(uow.settings.key_file)
        previous = keyring.active_id
        key_id = keyring.add_key()
        # Saved before any row refers to it, so no data key is ever wrapped under a key we could lose.
        keyring.save(uow.settings.key_file)
        uow.keyring.adopt(keyring)
        audit.record(uow.session, actor, event_keys_rotated, target_type="master_key", target_id=key_id,
                     previous_key_id=previous)
        uow.commit()
    documents, customers = _rewrap(uow, actor, progress, BATCH)
    return RotationResult(key_id, previous, documents, customers)


def rewrap_data_keys(uow: UnitOfWork, *, actor: Actor, progress: Progress | None = None,
                     batch_size: int | None = None) -> int:
    """Re-wrap every data key (and re-seal every sealed PII value) not under the active master key.

    Returns the number of documents re-wrapped. Requires permission_keys_manage; each batch commits
    with its keys.rewrapped audit event, so re-running resumes where an interrupted run stopped.
    Raises KeyManagementError if a record is protected by a key this keyring no longer holds.
    """
    with uow:
        access.require(actor, permission_keys_manage)
    return _rewrap(uow, actor, progress, batch_size or BATCH)[0]


def retire_unused_keys(uow: UnitOfWork, *, actor: Actor) -> list[str]:
    """Retire every master key, other than the active one, that no document or sealed value uses.

    Returns the retired key ids. Requires permission_keys_manage; audited as keys.retired per key.
    With keys from the environment, raises KeyManagementError naming the keys to remove there.
    """
    with uow:
        access.require(actor, permission_keys_manage)
        from_env = bool(uow.settings.master_keys)
        keyring = uow.keyring if from_env else Keyring.load(uow.settings.key_file)
        unused = [k for k in keyring.key_ids if k != keyring.active_id and not _in_use(uow, k)]
        if not unused:
            return []
        if from_env:
            raise KeyManagementError(f"master keys {', '.join(unused)} are no longer used: remove them from "
                                     "ARCHIVE_MASTER_KEYS and restart every process")
        documents_left = uow.session.scalar(select(func.count(Document.id)).where(_not_under(keyring.active_id)))
        for key_id in unused:
            keyring.retire(key_id)
        keyring.save(uow.settings.key_file)
        uow.keyring.adopt(keyring)
        for key_id in unused:
            audit.record(uow.session, actor, event_keys_retired, target_type="master_key", target_id=key_id,
                         active_key_id=keyring.active_id, documents_under_other_keys=documents_left)
        uow.commit()
        return unused


def key_status(uow: UnitOfWork, *, actor: Actor) -> list[KeyStatus]:
    """Each master key held, whether it is active and how many documents' data keys it wraps.

    Requires permission_keys_manage.
    """
    with uow:
        access.require(actor, permission_keys_manage)
        counts: dict[str, int] = dict(uow.session.execute(  # type: ignore[arg-type]
            select(Document.key_id, func.count(Document.id)).group_by(Document.key_id)).all())
        keyring = uow.keyring
        return [KeyStatus(k, k == keyring.active_id, counts.get(k, 0)) for k in keyring.key_ids]


# --- helpers ----------------------------------------------------------------------------------------


def _not_under(active: str) -> ColumnElement[bool]:
    return and_(Document.key_id != active, ~Document.is_shredded)


def _sealed_not_under(active: str) -> ColumnElement[bool]:
    prefix = f"{active}:"
    return or_(
        not_(Customer.identity_sealed.startswith(prefix, autoescape=True)),
        and_(Customer.phone_sealed.is_not(None), not_(Customer.phone_sealed.startswith(prefix, autoescape=True))),
    )


def _in_use(uow: UnitOfWork, key_id: str) -> bool:
    prefix = f"{key_id}:"
    by_document = select(Document.id).where(Document.key_id == key_id).limit(1)
    by_customer = select(Customer.id).where(or_(Customer.identity_sealed.startswith(prefix, autoescape=True),
                                                Customer.phone_sealed.startswith(prefix, autoescape=True))).limit(1)
    return (uow.session.scalar(by_document) is not None or uow.session.scalar(by_customer) is not None
            or any(holder.uses(uow.session, key_id) for holder in registry.key_holders()))


def _rewrap(uow: UnitOfWork, actor: Actor, progress: Progress | None, batch_size: int) -> tuple[int, int]:
    """Re-wrap documents, then re-seal customers, one committed and audited batch at a time."""
    keyring = uow.keyring
    active = keyring.active_id
    with uow:
        total = (uow.session.scalar(select(func.count(Document.id)).where(_not_under(active))) or 0) + (
            uow.session.scalar(select(func.count(Customer.id)).where(_sealed_not_under(active))) or 0)
    walks = (
        (select(Document.id, Document.key_id, Document.cipher, Document.wrapped_key).where(_not_under(active)),
         Document.id, _rewrap_documents),
        (select(Customer.id, Customer.identity_sealed, Customer.phone_sealed).where(_sealed_not_under(active)),
         Customer.id, _reseal_customers),
    )
    counts = []
    for query, key, rewrap_batch in walks:
        counts.append(0)
        for changed in in_batches(uow, query, key, partial(rewrap_batch, actor=actor, keyring=keyring),
                                  size=batch_size):
            counts[-1] += changed
            if progress:
                progress(sum(counts), max(total, sum(counts)))
    documents, customers = counts
    # The features' own wrapped keys (few rows: retention's register snapshots), in one audited commit.
    with uow:
        others = sum(holder.rewrap(uow.session, keyring.rewrap, active) for holder in registry.key_holders())
        if others:
            _commit_batch(uow, actor, keyring, set(), documents=0, customers=0, other_keys=others)
    return documents, customers


def _rewrap_documents(uow: UnitOfWork, rows: Sequence[Row[Any]], *, actor: Actor, keyring: Keyring) -> int:
    changed, from_keys = 0, set()
    for row in rows:
        try:
            wrapped = keyring.rewrap(WrappedKey(row.key_id, row.cipher, row.wrapped_key))
        except KeyUnavailableError as error:
            raise KeyManagementError(f"document {row.id}: {error}; restore that key to the keyring, "
                                     "then run `archive keys rewrap` again") from None
        # Only if unchanged meanwhile: a document shredded since we read it must stay shredded.
        result = uow.session.execute(
            update(Document)
            .where(Document.id == row.id, Document.key_id == row.key_id, Document.wrapped_key == row.wrapped_key)
            .values(key_id=wrapped.key_id, wrapped_key=wrapped.wrapped)
        )
        changed += result.rowcount
        from_keys.add(row.key_id)
    _commit_batch(uow, actor, keyring, from_keys, documents=changed, customers=0,
                  first_document_id=rows[0].id, last_document_id=rows[-1].id)
    return changed


def _reseal_customers(uow: UnitOfWork, rows: Sequence[Row[Any]], *, actor: Actor, keyring: Keyring) -> int:
    changed, from_keys = 0, set()
    for row in rows:
        values = {}
        for column in ("identity_sealed", "phone_sealed"):
            token = getattr(row, column)
            if token and not token.startswith(f"{keyring.active_id}:"):
                from_keys.add(token.partition(":")[0])
                values[column] = _reseal(keyring, token, f"customer {row.id}")
        # Only if unchanged meanwhile, as for documents.
        result = uow.session.execute(
            update(Customer)
            .where(Customer.id == row.id, Customer.identity_sealed == row.identity_sealed,
                   Customer.phone_sealed.is_(None) if row.phone_sealed is None
                   else Customer.phone_sealed == row.phone_sealed)
            .values(**values)
        )
        changed += result.rowcount
    _commit_batch(uow, actor, keyring, from_keys, documents=0, customers=changed,
                  first_customer_id=rows[0].id, last_customer_id=rows[-1].id)
    return changed


def _commit_batch(uow: UnitOfWork, actor: Actor, keyring: Keyring, from_keys: set[str], **detail: int) -> None:
    audit.record(uow.session, actor, event_keys_rewrapped, target_type="master_key", target_id=keyring.active_id,
                 from_keys=sorted(from_keys), **detail)
    uow.commit()


def _reseal(keyring: Keyring, token: str, what: str) -> str:
    try:
        return seal(open_sealed(token, keyring), keyring)
    except KeyUnavailableError as error:
        raise KeyManagementError(f"{what}: {error}; restore that key to the keyring, then run "
                                 "`archive keys rewrap` again") from None
