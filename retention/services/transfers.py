"""Transfer 移交: a records manager hands filed records over to another department, or to another fonds
(an archive outside this one, named by its 全宗号). The receipt lists each record with its content hash
and page count.

Within the fonds, a records manager of the receiving department confirms it, and only then do the
records belong to that department. To another fonds, the records manager writes a handover package to a
directory (each original decrypted and streamed, a JSON manifest with metadata, SHA-256 and page counts,
and the receipt PDF), hands it over, and records the receiving archive's confirmation: its reference and
the name of who signed for it. Either way the records pass the four-property check first."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import or_, select

from archive import access, audit
from archive.actors import Actor
from archive.compliance import fourcheck
from archive.compliance.checks import ERROR
from archive.errors import NotFoundError, ValidationError
from archive.models import Department, Document, User, as_utc
from archive.pii import redact
from archive.services.documents import document_key
from archive.unit_of_work import UnitOfWork
from retention.events import event_transfer_packaged, event_transfer_received, event_transfer_sent
from retention.models import Transfer, TransferItem
from retention.pdf import transfer_pdf
from retention.permissions import permission_transfer_manage
from retention.services.holds import held_document_ids
from retention.views import HandoverPackageView, TransferItemView, TransferView

FONDS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
MANIFEST = "manifest.json"
RECEIPT = "receipt.pdf"
ORIGINALS = "originals"
CHUNK = 1 << 20


def send_transfer(uow: UnitOfWork, *, actor: Actor, archive_codes: Sequence[str], to_department: str | None = None,
                  to_fonds: str | None = None, to_archive: str = "", note: str = "") -> int:
    """Hand the records over to another department, or to another fonds (its 全宗号 and the receiving
    archive's name); returns the transfer (receipt) id. The records must be filed, not shredded, not held,
    of the sender's department, and pass the four-property check 四性检测 (its report is stored; an
    error-severity problem refuses the handover). Requires permission_transfer_manage (and the check's
    permission_fourcheck_run, which records managers hold); audited as retention.transfer_sent."""
    codes = list(dict.fromkeys(code.strip() for code in archive_codes if code.strip()))
    if not codes:
        raise ValidationError("name the records to hand over", code="transfer_needs_records", field="archive_codes")
    to_department, to_fonds, to_archive = (to_department or "").strip(), (to_fonds or "").strip(), to_archive.strip()
    if bool(to_department) == bool(to_fonds):
        raise ValidationError("a transfer goes either to a department or to another fonds",
                              code="transfer_one_destination")
    with uow:
        _, documents = _handover(uow, actor, codes, to_department, to_fonds, to_archive)
        ids = [d.id for d in documents]
    report = fourcheck.check_records_for_handover(uow, actor=actor, document_ids=ids)
    if not report.ok:
        errors = [p for p in report.problems if p.severity == ERROR]
        shown = "; ".join(f"{p.archive_code or p.subject}: {p.sentence()}" for p in errors[:5])
        raise ValidationError(f"the records fail the four-property check (report {report.run_id}, "
                              f"{len(errors)} problems): {shown}", code="transfer_fails_fourcheck",
                              params={"report": report.run_id, "count": len(errors)})
    with uow:
        receiving_id, documents = _handover(uow, actor, codes, to_department, to_fonds, to_archive)
        transfer = Transfer(from_department_id=actor.department_id, to_department_id=receiving_id,
                            to_fonds=to_fonds or None, to_archive=redact(to_archive), note=redact(note.strip()),
                            sent_by_id=actor.user_id, sent_at=uow.clock.now())
        uow.session.add(transfer)
        uow.session.flush()
        for document in sorted(documents, key=lambda d: d.archive_code):
            uow.session.add(TransferItem(transfer_id=transfer.id, document_id=document.id,
                                         archive_code=document.archive_code, content_sha256=document.content_sha256,
                                         pages=len(document.pages)))
        destination = {"to_department": to_department} if to_department else {"to_fonds": to_fonds,
                                                                              "to_archive": transfer.to_archive}
        audit.record(uow.session, actor, event_transfer_sent, target_type="transfer", target_id=transfer.id,
                     records=len(documents), fourcheck_run=report.run_id, **destination)
        uow.commit()
        return transfer.id


def _handover(uow: UnitOfWork, actor: Actor, codes: list[str], to_department: str, to_fonds: str,
              to_archive: str) -> tuple[int | None, list[Document]]:
    """The receiving department's id (None for another fonds) and the records, once every rule for
    handing them over holds."""
    access.require(actor, permission_transfer_manage)
    receiving_id = None
    if to_department:
        receiving = uow.session.scalar(select(Department).where(Department.code == to_department))
        if receiving is None:
            raise NotFoundError(f"no department {to_department!r}")
        if receiving.id == actor.department_id:
            raise ValidationError("a transfer goes to another department", code="transfer_same_department",
                                  field="to_department")
        receiving_id = receiving.id
    else:
        if not FONDS.match(to_fonds):
            raise ValidationError(f"{to_fonds!r} is not a fonds number (全宗号, e.g. Z002)", code="not_a_fonds",
                                  params={"value": to_fonds}, field="to_fonds")
        if to_fonds == uow.settings.fonds:
            raise ValidationError(f"{to_fonds} is this archive's own fonds: transfer to a department instead",
                                  code="own_fonds", params={"value": to_fonds}, field="to_fonds")
        if not to_archive:
            raise ValidationError("name the receiving archive", code="receiving_archive_required", field="to_archive")
    documents = list(uow.session.scalars(select(Document).where(Document.archive_code.in_(codes))))
    missing = set(codes) - {d.archive_code for d in documents}
    if missing:
        raise NotFoundError(f"no document with archive code {', '.join(sorted(missing))}")
    held = held_document_ids(uow.session, [d.id for d in documents])
    for document in documents:
        access.require(actor, permission_transfer_manage, document)
        problem, reason = (("it is shredded", "shredded") if document.is_shredded
                           else ("it is not filed", "not_filed") if document.filed_at is None
                           else ("it is on hold", "held") if document.id in held else ("", ""))
        if problem:
            raise ValidationError(f"{document.archive_code} cannot be handed over: {problem}",
                                  code=f"transfer_refused_{reason}", params={"archive_code": document.archive_code})
    return receiving_id, documents


def receive_transfer(uow: UnitOfWork, *, actor: Actor, transfer_id: int) -> TransferView:
    """Confirm receipt, as a records manager of the receiving department: the records then belong to it.
    Requires permission_transfer_manage; audited as retention.transfer_received."""
    with uow:
        access.require(actor, permission_transfer_manage)
        transfer = uow.session.get(Transfer, transfer_id)
        if transfer is None:
            raise NotFoundError(f"no transfer {transfer_id}")
        if transfer.to_fonds is not None:
            raise ValidationError("a transfer to another fonds is confirmed with the receiving archive's reference",
                                  code="fonds_transfer_needs_reference")
        if transfer.to_department_id != actor.department_id:
            raise ValidationError("only the receiving department confirms a transfer", code="receiving_department_confirms")
        if transfer.received_at is not None:
            raise ValidationError(f"transfer {transfer_id} was already received", code="transfer_already_received",
                                  params={"id": transfer_id})
        transfer.received_by_id, transfer.received_at = actor.user_id, uow.clock.now()
        items = list(uow.session.scalars(select(TransferItem).where(TransferItem.transfer_id == transfer.id)))
        for document in uow.session.scalars(select(Document).where(Document.id.in_([i.document_id for i in items]))):
            document.department_id = transfer.to_department_id
        audit.record(uow.session, actor, event_transfer_received, target_type="transfer", target_id=transfer.id,
                     records=len(items))
        uow.commit()
    return get_transfer(uow, actor=actor, transfer_id=transfer_id)


def confirm_fonds_receipt(uow: UnitOfWork, *, actor: Actor, transfer_id: int, reference: str,
                          signed_by: str) -> TransferView:
    """Record the receiving archive's confirmation of a transfer to another fonds: its reference and who
    signed for it, as a records manager of the sending department. Requires permission_transfer_manage;
    audited as retention.transfer_received."""
    reference, signed_by = reference.strip(), signed_by.strip()
    if not reference or not signed_by:
        raise ValidationError("give the receiving archive's reference and the name of who signed for it",
                              code="receipt_reference_and_signer")
    with uow:
        access.require(actor, permission_transfer_manage)
        transfer = _sent_from(uow, actor, transfer_id)
        if transfer.to_fonds is None:
            raise ValidationError("a transfer within this fonds is confirmed by the receiving department",
                                  code="receiving_department_confirms")
        if transfer.received_at is not None:
            raise ValidationError(f"transfer {transfer_id} was already received", code="transfer_already_received",
                                  params={"id": transfer_id})
        transfer.received_by_id, transfer.received_at = actor.user_id, uow.clock.now()
        transfer.receiver_reference, transfer.received_signed_by = redact(reference)[:100], redact(signed_by)[:100]
        audit.record(uow.session, actor, event_transfer_received, target_type="transfer", target_id=transfer.id,
                     to_fonds=transfer.to_fonds, reference=transfer.receiver_reference,
                     signed_by=transfer.received_signed_by)
        uow.commit()
    return get_transfer(uow, actor=actor, transfer_id=transfer_id)


def write_handover_package(uow: UnitOfWork, *, actor: Actor, transfer_id: int,
                           directory: Path) -> HandoverPackageView:
    """Write a transfer to another fonds as a handover package into directory (new, or empty): each
    record's original under originals/, decrypted and streamed (never whole in memory) and checked against
    its content hash, then receipt.pdf, then manifest.json naming every file with its SHA-256. Requires
    permission_transfer_manage, as a records manager of the sending department; audited as
    retention.transfer_packaged."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ValidationError(f"{directory} must be a new or empty directory")
    receipt = get_transfer(uow, actor=actor, transfer_id=transfer_id)
    with uow:
        transfer = _sent_from(uow, actor, transfer_id)
        if transfer.to_fonds is None:
            raise ValidationError("a handover package is for a transfer to another fonds")
        items = list(uow.session.scalars(select(TransferItem).where(TransferItem.transfer_id == transfer.id)
                                         .order_by(TransferItem.archive_code)))
        documents = {d.id: d for d in uow.session.scalars(
            select(Document).where(Document.id.in_([i.document_id for i in items]))).unique()}
        sources = []
        for item in items:
            document = documents[item.document_id]
            access.require(actor, permission_transfer_manage, document)
            if document.is_shredded:
                raise ValidationError(f"{item.archive_code} was shredded since it was sent")
            sources.append((TransferItemView(item.archive_code, item.content_sha256, item.pages),
                            document.object_key, document_key(uow, document), _metadata(document)))
    (directory / ORIGINALS).mkdir(parents=True, exist_ok=True)
    records, written = [], 0
    for item, key, data_key, metadata in sources:  # outside the transaction: copying takes a while
        name = f"{ORIGINALS}/{_safe(item.archive_code)}{Path(str(metadata['source_filename'])).suffix.lower()}"
        with uow.store.open(key, data_key=data_key) as stream, (directory / name).open("wb") as target:
            size, sha256 = _copy(stream, target)
        if sha256 != item.content_sha256:
            raise ValidationError(f"{item.archive_code}: the original read back does not match its content hash")
        written += size
        records.append({**metadata, "archive_code": item.archive_code, "file": name, "size": size,
                        "sha256": sha256, "pages": item.pages})
    transfer_pdf(receipt, directory / RECEIPT)
    manifest = {
        "format": "customer-file-archive handover package 1",
        "transfer_id": receipt.id, "from_fonds": uow.settings.fonds, "from_department": receipt.from_department,
        "to_fonds": receipt.to_fonds, "to_archive": receipt.to_archive, "note": receipt.note,
        "sent_by": receipt.sent_by, "sent_at": as_utc(receipt.sent_at).isoformat(),
        "records": records,
        "receipt": {"file": RECEIPT, "sha256": _sha256_file(directory / RECEIPT)},
    }
    body = json.dumps(manifest, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    (directory / MANIFEST).write_bytes(body)
    manifest_sha256 = hashlib.sha256(body).hexdigest()
    with uow:
        audit.record(uow.session, actor, event_transfer_packaged, target_type="transfer", target_id=transfer_id,
                     to_fonds=receipt.to_fonds, records=len(records), bytes=written, manifest_sha256=manifest_sha256,
                     archive_codes=[r["archive_code"] for r in records])
        uow.commit()
    return HandoverPackageView(transfer_id, str(directory), len(records), written, manifest_sha256)


def get_transfer(uow: UnitOfWork, *, actor: Actor, transfer_id: int) -> TransferView:
    """The handover receipt, for a records manager of either side. Requires permission_transfer_manage."""
    with uow:
        access.require(actor, permission_transfer_manage)
        transfer = uow.session.get(Transfer, transfer_id)
        if transfer is None or actor.department_id not in (transfer.from_department_id, transfer.to_department_id):
            raise NotFoundError(f"no transfer {transfer_id}")
        return _view(uow, transfer, _department_codes(uow), _usernames(uow, [transfer]))


def list_transfers(uow: UnitOfWork, *, actor: Actor) -> list[TransferView]:
    """The transfers the actor's department sent or receives, newest first. Requires
    permission_transfer_manage."""
    with uow:
        access.require(actor, permission_transfer_manage)
        transfers = list(uow.session.scalars(select(Transfer).where(or_(
            Transfer.from_department_id == actor.department_id, Transfer.to_department_id == actor.department_id))
            .order_by(Transfer.id.desc())))
        departments, users = _department_codes(uow), _usernames(uow, transfers)
        return [_view(uow, transfer, departments, users) for transfer in transfers]


def _sent_from(uow: UnitOfWork, actor: Actor, transfer_id: int) -> Transfer:
    transfer = uow.session.get(Transfer, transfer_id)
    if transfer is None or transfer.from_department_id != actor.department_id:
        raise NotFoundError(f"no transfer {transfer_id} sent from your department")
    return transfer


def _department_codes(uow: UnitOfWork) -> dict[int, str]:
    return dict(uow.session.execute(select(Department.id, Department.code)).all())


def _usernames(uow: UnitOfWork, transfers: Sequence[Transfer]) -> dict[int, str]:
    ids = {i for t in transfers for i in (t.sent_by_id, t.received_by_id) if i is not None}
    return dict(uow.session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


def _view(uow: UnitOfWork, transfer: Transfer, departments: dict[int, str], users: dict[int, str]) -> TransferView:
    items = uow.session.scalars(select(TransferItem).where(TransferItem.transfer_id == transfer.id)
                                .order_by(TransferItem.archive_code))
    return TransferView(transfer.id, departments[transfer.from_department_id],
                        departments.get(transfer.to_department_id, "") if transfer.to_department_id else "",
                        transfer.note, users.get(transfer.sent_by_id, ""), transfer.sent_at,
                        users.get(transfer.received_by_id) if transfer.received_by_id else None, transfer.received_at,
                        [TransferItemView(i.archive_code, i.content_sha256, i.pages) for i in items],
                        transfer.to_fonds, transfer.to_archive, transfer.receiver_reference,
                        transfer.received_signed_by)


def _metadata(document: Document) -> dict[str, object]:
    """What the receiving archive needs to describe a record (PII masked: no customer identity)."""
    return {"title": redact(document.title), "document_type": document.document_type,
            "classification": document.classification, "department": document.department.code,
            "document_date": document.document_date.isoformat() if document.document_date else None,
            "filed_at": as_utc(document.filed_at).isoformat() if document.filed_at else None,
            "captured_at": as_utc(document.captured_at).isoformat(), "media_type": document.media_type,
            "source_filename": document.source_filename}


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def _copy(source: BinaryIO, target: BinaryIO) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        target.write(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
