"""The two ways into the files beside the customer (seed 002): by work order / business step and by
dossier. Only documents the actor may see (the access policy's filter) are listed, and only dossiers
holding one of them (a dossier's title can itself be confidential). Audited as documents.browsed."""

from __future__ import annotations

from sqlalchemy import select

from archive import access, audit
from archive.actors import Actor
from archive.events import event_documents_browsed
from archive.models import Document
from archive.permissions import permission_document_view
from archive.pii import redact
from archive.services.customers import summarise_document
from archive.unit_of_work import UnitOfWork
from archive.views import DocumentGroupView

LIMIT = 500


def documents_by_work_order(uow: UnitOfWork, *, actor: Actor, work_order: str = "", business_step: str = "",
                            limit: int = LIMIT) -> list[DocumentGroupView]:
    """The visible documents that name a work order, grouped by work order number and business step;
    optionally only one work order (exact) or business step (exact). Requires permission_document_view."""
    with uow:
        scope = access.visible(actor, permission_document_view)
        query = (select(Document).where(scope.documents(), Document.work_order.is_not(None))
                 .order_by(Document.work_order, Document.business_step, Document.id).limit(limit))
        if work_order:
            query = query.where(Document.work_order == work_order)
        if business_step:
            query = query.where(Document.business_step == business_step)
        groups: dict[tuple[str, str], list[Document]] = {}
        for document in uow.session.scalars(query).unique():
            groups.setdefault((document.work_order or "", document.business_step or ""), []).append(document)
        audit.record(uow.session, actor, event_documents_browsed, by="work_order", work_order=redact(work_order),
                     business_step=redact(business_step), documents=sum(len(d) for d in groups.values()))
        uow.commit()
        return [DocumentGroupView(key=order, label=step, documents=[summarise_document(d) for d in docs],
                                  customer_id=docs[0].customer_id)
                for (order, step), docs in groups.items()]


def documents_by_dossier(uow: UnitOfWork, *, actor: Actor, dossier_id: int | None = None,
                         limit: int = LIMIT) -> list[DocumentGroupView]:
    """The visible documents in dossiers, grouped by dossier (labelled with its customer); optionally one
    dossier. Requires permission_document_view."""
    with uow:
        scope = access.visible(actor, permission_document_view)
        query = (select(Document).where(scope.documents(), Document.dossier_id.is_not(None))
                 .order_by(Document.dossier_id, Document.id).limit(limit))
        if dossier_id is not None:
            query = query.where(Document.dossier_id == dossier_id)
        groups: dict[int, list[Document]] = {}
        for document in uow.session.scalars(query).unique():
            groups.setdefault(document.dossier_id or 0, []).append(document)
        audit.record(uow.session, actor, event_documents_browsed, by="dossier", dossier_id=dossier_id,
                     documents=sum(len(d) for d in groups.values()))
        uow.commit()
        return [DocumentGroupView(key=docs[0].dossier.title if docs[0].dossier else "", label=docs[0].customer.name,
                                  documents=[summarise_document(d) for d in docs], dossier_id=dossier,
                                  customer_id=docs[0].customer_id)
                for dossier, docs in sorted(groups.items(), key=lambda item: item[1][0].dossier.title
                                            if item[1][0].dossier else "")]
