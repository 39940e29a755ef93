"""Transfer 移交: a records manager hands filed records over to another department; the receipt lists each
record with its content hash and page count; the records pass the four-property check first. A records manager of the receiving department confirms it,
and only then do the records belong to that department."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from archive import access, audit
from archive.actors import Actor
from archive.compliance import fourcheck
from archive.compliance.checks import ERROR
from archive.errors import NotFoundError, ValidationError
from archive.models import Department, Document, User
from archive.pii import redact
from archive.unit_of_work import UnitOfWork
from retention.events import event_transfer_received, event_transfer_sent
from retention.models import Transfer, TransferItem
from retention.permissions import permission_transfer_manage
from retention.services.holds import held_document_ids
from retention.views import TransferItemView, TransferView


def send_transfer(uow: UnitOfWork, *, actor: Actor, archive_codes: Sequence[str], to_department: str,
                  note: str = "") -> int:
    """Hand the records over to another department; returns the transfer (receipt) id. The records must be
    filed, not shredded, not held, of the sender's department, and pass the four-property check 四性检测
    (its report is stored; an error-severity problem refuses the handover). Requires
    permission_transfer_manage (and the check's permission_fourcheck_run, which records managers hold);
    audited as retention.transfer_sent."""
    codes = list(dict.fromkeys(code.strip() for code in archive_codes if code.strip()))
    if not codes:
        raise ValidationError("name the records to hand over")
    with uow:
        _, documents = _handover(uow, actor, codes, to_department)
        ids = [d.id for d in documents]
    report = fourcheck.check_records_for_handover(uow, actor=actor, document_ids=ids)
    if not report.ok:
        errors = [p for p in report.problems if p.severity == ERROR]
        shown = "; ".join(f"{p.archive_code or p.subject}: {p.sentence()}" for p in errors[:5])
        raise ValidationError(f"the records fail the four-property check (report {report.run_id}, "
                              f"{len(errors)} problems): {shown}")
    with uow:
        receiving, documents = _handover(uow, actor, codes, to_department)
        transfer = Transfer(from_department_id=actor.department_id, to_department_id=receiving.id,
                            note=redact(note.strip()), sent_by_id=actor.user_id, sent_at=uow.clock.now())
        uow.session.add(transfer)
        uow.session.flush()
        for document in sorted(documents, key=lambda d: d.archive_code):
            uow.session.add(TransferItem(transfer_id=transfer.id, document_id=document.id,
                                         archive_code=document.archive_code, content_sha256=document.content_sha256,
                                         pages=len(document.pages)))
        audit.record(uow.session, actor, event_transfer_sent, target_type="transfer", target_id=transfer.id,
                     to_department=to_department, records=len(documents), fourcheck_run=report.run_id)
        uow.commit()
        return transfer.id


def _handover(uow: UnitOfWork, actor: Actor, codes: list[str], to_department: str) -> tuple[Department, list[Document]]:
    """The receiving department and the records, once every rule for handing them over holds."""
    access.require(actor, permission_transfer_manage)
    receiving = uow.session.scalar(select(Department).where(Department.code == to_department))
    if receiving is None:
        raise NotFoundError(f"no department {to_department!r}")
    if receiving.id == actor.department_id:
        raise ValidationError("a transfer goes to another department")
    documents = list(uow.session.scalars(select(Document).where(Document.archive_code.in_(codes))))
    missing = set(codes) - {d.archive_code for d in documents}
    if missing:
        raise NotFoundError(f"no document with archive code {', '.join(sorted(missing))}")
    held = held_document_ids(uow.session, [d.id for d in documents])
    for document in documents:
        access.require(actor, permission_transfer_manage, document)
        problem = ("it is shredded" if document.is_shredded else "it is not filed" if document.filed_at is None
                   else "it is on hold" if document.id in held else "")
        if problem:
            raise ValidationError(f"{document.archive_code} cannot be handed over: {problem}")
    return receiving, documents


def receive_transfer(uow: UnitOfWork, *, actor: Actor, transfer_id: int) -> TransferView:
    """Confirm receipt, as a records manager of the receiving department: the records then belong to it.
    Requires permission_transfer_manage; audited as retention.transfer_received."""
    with uow:
        access.require(actor, permission_transfer_manage)
        transfer = uow.session.get(Transfer, transfer_id)
        if transfer is None:
            raise NotFoundError(f"no transfer {transfer_id}")
        if transfer.to_department_id != actor.department_id:
            raise ValidationError("only the receiving department confirms a transfer")
        if transfer.received_at is not None:
            raise ValidationError(f"transfer {transfer_id} was already received")
        transfer.received_by_id, transfer.received_at = actor.user_id, uow.clock.now()
        items = list(uow.session.scalars(select(TransferItem).where(TransferItem.transfer_id == transfer.id)))
        for document in uow.session.scalars(select(Document).where(Document.id.in_([i.document_id for i in items]))):
            document.department_id = transfer.to_department_id
        audit.record(uow.session, actor, event_transfer_received, target_type="transfer", target_id=transfer.id,
                     records=len(items))
        uow.commit()
    return get_transfer(uow, actor=actor, transfer_id=transfer_id)


def get_transfer(uow: UnitOfWork, *, actor: Actor, transfer_id: int) -> TransferView:
    """The handover receipt, for a records manager of either side. Requires permission_transfer_manage."""
    with uow:
        access.require(actor, permission_transfer_manage)
        transfer = uow.session.get(Transfer, transfer_id)
        if transfer is None or actor.department_id not in (transfer.from_department_id, transfer.to_department_id):
            raise NotFoundError(f"no transfer {transfer_id}")
        departments = dict(uow.session.execute(select(Department.id, Department.code)).all())
        users = dict(uow.session.execute(select(User.id, User.username).where(
            User.id.in_([transfer.sent_by_id, transfer.received_by_id]))).all())
        items = uow.session.scalars(select(TransferItem).where(TransferItem.transfer_id == transfer.id)
                                    .order_by(TransferItem.archive_code))
        return TransferView(transfer.id, departments[transfer.from_department_id], departments[transfer.to_department_id],
                            transfer.note, users.get(transfer.sent_by_id, ""), transfer.sent_at,
                            users.get(transfer.received_by_id) if transfer.received_by_id else None,
                            transfer.received_at,
                            [TransferItemView(i.archive_code, i.content_sha256, i.pages) for i in items])
