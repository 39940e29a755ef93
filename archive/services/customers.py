"""Customers: registration by identity key, lookup, the customer page with what is missing."""

from __future__ import annotations

import re

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from archive import access, audit
from archive.actors import Actor
from archive.errors import NotFoundError, ValidationError
from archive.events import event_customer_registered, event_customer_viewed
from archive.identity import classify_identifier, mask
from archive.models import Customer, Document, Dossier
from archive.permissions import (
    permission_customer_register,
    permission_customer_view,
    permission_document_view,
)
from archive.pii import lookup_hash, redact
from archive.security import lookups
from archive.services.reference import required_document_types
from archive.unit_of_work import UnitOfWork
from archive.views import CustomerSummary, CustomerView, DocumentSummary, DossierView
from storage.envelope import Keyring, open_sealed, seal


def find_or_register(
    session: Session, keyring: Keyring, *, actor: Actor, identifier: tuple[str, str], name: str | None,
    phone: str | None = None,
) -> Customer:
    """Return the customer with this ID number or credit code (as identity.classify_identifier gives
    it: type and normalised number), registering it when new."""
    id_type, normalised = identifier
    identity_hash = lookup_hash(normalised, keyring)
    customer = session.scalar(select(Customer).where(Customer.identity_hash == identity_hash))
    if customer is not None:
        access.require(actor, permission_customer_view, customer)
        return customer
    access.require(actor, permission_customer_register)
    if not name or not name.strip():
        raise ValidationError("新客户需要客户名称 / a new customer needs a name (--customer-name)",
                              code="customer_name_required", field="customer_name")
    customer = Customer(
        kind="individual" if id_type == "resident_id" else "organisation",
        id_type=id_type,
        identity_sealed=seal(normalised, keyring),
        identity_hash=identity_hash,
        identity_masked=mask(normalised),
        name=redact(name.strip()),
        department_id=actor.department_id,
    )
    if phone:
        customer.phone_sealed = seal(phone, keyring)
        customer.phone_hash = lookup_hash(phone, keyring)
        customer.phone_masked = mask(phone)
    session.add(customer)
    session.flush()
    audit.record(session, actor, event_customer_registered, target_type="customer", target_id=customer.id)
    return customer


def shown_identity(customer: Customer, actor: Actor, keyring: Keyring) -> str:
    if access.may_see_pii(actor, customer):
        return open_sealed(customer.identity_sealed, keyring)
    return customer.identity_masked


def summarise_document(doc: Document) -> DocumentSummary:
    return DocumentSummary(
        id=doc.id, archive_code=doc.archive_code, title=doc.title, document_type=doc.document_type,
        classification=doc.classification, status=doc.status, page_count=len(doc.pages),
        captured_at=doc.captured_at, dossier=doc.dossier.title if doc.dossier else "",
    )


def list_customers(
    uow: UnitOfWork, *, actor: Actor, name: str = "", number: str = "", limit: int = 200
) -> list[CustomerSummary]:
    """Customers the actor may see, by name and/or by a number (ID number, credit code or phone).

    A number is looked up through its keyed hash, as a guarded identifier lookup (pii.view, the rate
    limit, the audit): the clear number is never compared, stored or logged.
    """
    with uow:
        number_hash = _number_hash(uow, actor, number) if number.strip() else None
        scope = access.visible(actor, permission_customer_view)
        documents = access.visible(actor, permission_document_view)
        counts = (  # only documents the actor may see: a count must not reveal the rest
            select(Document.customer_id, func.count(Document.id).label("n"))
            .where(documents.documents())
            .group_by(Document.customer_id)
            .subquery()
        )
        query = (
            select(Customer, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.customer_id == Customer.id)
            .where(scope.customers())
            .order_by(Customer.name)
            .limit(limit)
        )
        if name:
            query = query.where(Customer.name.contains(name))
        if number_hash is not None:
            query = query.where(or_(Customer.identity_hash == number_hash, Customer.phone_hash == number_hash))
        found = [
            CustomerSummary(
                id=c.id, name=c.name, kind=c.kind, identity=shown_identity(c, actor, uow.keyring),
                department=c.department.code, customer_class=c.customer_class, status=c.status,
                document_count=n,
            )
            for c, n in uow.session.execute(query)
        ]
        if number_hash is not None:
            uow.commit()  # the lookup's audit event
        return found


def _number_hash(uow: UnitOfWork, actor: Actor, number: str) -> str:
    compact = "".join(number.split()).replace("-", "")
    normalised = compact if re.fullmatch(r"1\d{10}", compact) else classify_identifier(compact)[1]
    if not lookups.guard_identifier_lookup(uow.session, uow.settings, uow.keyring, actor, [normalised]):
        uow.commit()  # keep the refusal in the audit trail
        raise lookups.refusal(actor, uow.settings)
    return lookup_hash(normalised, uow.keyring)


def get_customer(uow: UnitOfWork, *, actor: Actor, customer_id: int) -> CustomerView:
    """The customer page: dossiers, visible documents and missing required document types."""
    with uow:
        session = uow.session
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise NotFoundError(f"no customer {customer_id}")
        access.require(actor, permission_customer_view, customer)
        scope = access.visible(actor, permission_document_view)
        documents = session.scalars(
            select(Document).where(Document.customer_id == customer.id, scope.documents()).order_by(Document.id)
        ).unique().all()
        # Only dossiers and types the viewer may open: a title or a type can itself be confidential.
        opened = {d.dossier_id for d in documents}
        filled = set(session.scalars(select(Document.dossier_id).where(Document.customer_id == customer.id)))
        dossiers = [d for d in session.scalars(select(Dossier).where(Dossier.customer_id == customer.id))
                    if d.id in opened or d.id not in filled and d.department_id == actor.department_id]
        present = {d.document_type for d in documents}
        summary = CustomerSummary(
            id=customer.id, name=customer.name, kind=customer.kind,
            identity=shown_identity(customer, actor, uow.keyring), department=customer.department.code,
            customer_class=customer.customer_class, status=customer.status, document_count=len(documents),
        )
        phone = ""
        if customer.phone_sealed:
            phone = (open_sealed(customer.phone_sealed, uow.keyring) if access.may_see_pii(actor, customer)
                     else customer.phone_masked or "")
        view = CustomerView(
            summary=summary,
            phone=phone,
            dossiers=[
                DossierView(d.id, d.title, [summarise_document(x) for x in documents if x.dossier_id == d.id])
                for d in dossiers
            ],
            loose_documents=[summarise_document(x) for x in documents if x.dossier_id is None],
            missing_types=[t for t in required_document_types(session, customer.kind) if t not in present],
        )
        audit.record(session, actor, event_customer_viewed, target_type="customer", target_id=customer.id)
        uow.commit()
        return view
