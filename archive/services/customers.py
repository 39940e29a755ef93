"""Customers: registration by identity key, lookup, the customer page with what is missing."""

from __future__ import annotations

import re

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from archive import access, audit
from archive.actors import Actor
from archive.errors import NotFoundError, ValidationError
from archive.events import (
    event_customer_registered,
    event_customer_superseded,
    event_customer_viewed,
    event_documents_browsed,
)
from archive.identity import classify_identifier, mask, validate_identifier
from archive.models import Customer, Document, Dossier, RequiredDocument
from archive.permissions import (
    permission_customer_register,
    permission_customer_supersede,
    permission_customer_view,
    permission_document_view,
)
from archive.pii import lookup_hash, redact
from archive.security import lookups
from archive.services import indexing
from archive.services.reference import required_document_types
from archive.unit_of_work import UnitOfWork
from archive.views import (
    CustomerGap,
    CustomerGaps,
    CustomerLink,
    CustomerSummary,
    CustomerView,
    DocumentSummary,
    DossierView,
    IdentifierCheck,
)
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
        if customer.superseded_by_id is not None:  # 非正常: its file continues under the corrected key
            raise ValidationError("this customer's identity key was superseded: capture for the corrected one",
                                  code="customer_superseded", field="customer")
        return customer
    access.require(actor, permission_customer_register)
    if not name or not name.strip():
        raise ValidationError("新客户需要客户名称 / a new customer needs a name (--customer-name)",
                              code="customer_name_required", field="customer_name")
    return _new_customer(session, keyring, actor, identifier, name=name, phone=phone)


def _new_customer(session: Session, keyring: Keyring, actor: Actor, identifier: tuple[str, str], *, name: str,
                  phone: str | None, customer_class: str = "", **detail: object) -> Customer:
    """Add the customer (the caller checked the key is new and the actor may register) and audit it."""
    id_type, normalised = identifier
    customer = Customer(
        kind="individual" if id_type == "resident_id" else "organisation",
        id_type=id_type,
        identity_sealed=seal(normalised, keyring),
        identity_hash=lookup_hash(normalised, keyring),
        identity_masked=mask(normalised),
        name=redact(name.strip()),
        customer_class=customer_class.strip(),
        department_id=actor.department_id,
    )
    if phone:
        customer.phone_sealed = seal(phone, keyring)
        customer.phone_hash = lookup_hash(phone, keyring)
        customer.phone_masked = mask(phone)
    session.add(customer)
    session.flush()
    audit.record(session, actor, event_customer_registered, target_type="customer", target_id=customer.id, **detail)
    return customer


def _phone(value: str) -> str | None:
    compact = "".join(value.split()).replace("-", "")
    if not compact:
        return None
    if not re.fullmatch(r"1[3-9]\d{9}|0\d{9,11}", compact):
        raise ValidationError(f"{value!r} is not a mobile or landline number", code="phone_format", field="phone")
    return compact


def check_identifier(uow: UnitOfWork, *, actor: Actor, id_type: str, identifier: str) -> IdentifierCheck:
    """Check an ID number or credit code as the registration form is filled in: its format and check
    character, then whether a customer already has it.

    The format check is plain arithmetic. Whether it is registered goes through the guarded
    identifier lookup (pii.view, rate limit, audit), so the check cannot enumerate numbers beyond
    what the lookup allows: the refusal is raised. A registered customer outside the actor's access
    is reported as registered, without its id.
    """
    with uow:  # a refusal leaving the unit of work is audited
        access.require(actor, permission_customer_register)
        try:
            normalised = validate_identifier(id_type, identifier)
        except ValidationError as error:
            return IdentifierCheck(valid=False, code=error.code, message=str(error))
        identity_hash = _guarded_hash(uow, actor, normalised)
        customer = uow.session.scalar(select(Customer).where(Customer.identity_hash == identity_hash))
        uow.commit()  # the lookup's audit event
        if customer is None:
            return IdentifierCheck(valid=True, normalised=normalised)
        shown = access.allows(actor, permission_customer_view, customer)
        return IdentifierCheck(valid=True, normalised=normalised, registered=True,
                               customer_id=customer.id if shown else None,
                               customer_name=customer.name if shown else "")


def register_customer(  # noqa: PLR0913 - the registration form's fields
    uow: UnitOfWork, *, actor: Actor, id_type: str, identifier: str, name: str, phone: str = "",
    customer_class: str = "",
) -> int:
    """Register a new customer of the actor's department; its id. Requires permission_customer_register.

    Raises ValidationError with code and field (the key's format or check character, a missing name, a
    malformed phone, a key already registered: code customer_already_registered). Telling that a key is
    registered is a guarded identifier lookup, as in check_identifier.
    """
    with uow:
        access.require(actor, permission_customer_register)
        normalised = validate_identifier(id_type, identifier)
        if not name.strip():
            raise ValidationError("a new customer needs a name", code="customer_name_required", field="name")
        shown_phone = _phone(phone)
        identity_hash = lookup_hash(normalised, uow.keyring)
        if uow.session.scalar(select(Customer.id).where(Customer.identity_hash == identity_hash)) is not None:
            _guarded_hash(uow, actor, normalised)
            uow.commit()
            raise ValidationError("a customer with this key is already registered",
                                  code="customer_already_registered", field="identifier")
        customer = _new_customer(uow.session, uow.keyring, actor, (id_type, normalised), name=name,
                                 phone=shown_phone, customer_class=customer_class[:50])
        uow.commit()
        return customer.id


def supersede_customer(  # noqa: PLR0913 - the correction's fields
    uow: UnitOfWork, *, actor: Actor, customer_id: int, id_type: str, identifier: str, reason: str,
    name: str = "",
) -> int:
    """Replace a customer whose identity key was captured wrong (seed 004): the key is never edited.

    A new customer gets the corrected key (and the old one's name unless another is given, its phone,
    class and department); the old one turns abnormal 非正常 and links to it; its dossiers and documents
    move to the new customer (re-indexed), so the file continues under the right key. Returns the new
    customer's id. Requires permission_customer_supersede on the old customer. Refused when the old one
    is already superseded, the new key is registered (told through the guarded lookup), or a record of
    the old one is on hold (moving it would carry it out of the hold). Audited as customer.superseded (with the documents moved) and
    customer.registered.
    """
    normalised = validate_identifier(id_type, identifier)
    if not reason.strip():
        raise ValidationError("say why the key is wrong", code="supersede_reason_required", field="reason")
    with uow:
        session = uow.session
        old = session.get(Customer, customer_id)
        if old is None:
            raise NotFoundError(f"no customer {customer_id}")
        access.require(actor, permission_customer_supersede, old)
        if old.superseded_by_id is not None or old.status != "normal":
            raise ValidationError("this customer is already superseded or abnormal",
                                  code="customer_already_superseded", field=None)
        identity_hash = lookup_hash(normalised, uow.keyring)
        if session.scalar(select(Customer.id).where(Customer.identity_hash == identity_hash)) is not None:
            _guarded_hash(uow, actor, normalised)  # telling it is registered is a guarded lookup
            uow.commit()
            raise ValidationError("a customer with this key is already registered",
                                  code="customer_already_registered", field="identifier")
        # Locked: a page's OCR job may be adding its hashes; customer_id is a unique column (keys).
        documents = list(session.scalars(Document.locked(Document.customer_id == old.id, keys=True)).unique())
        if uow.disposition_guard.held(session, [d.id for d in documents]):
            raise ValidationError("a record of this customer is on hold: release the hold first",
                                  code="customer_records_held", field=None)
        phone = open_sealed(old.phone_sealed, uow.keyring) if old.phone_sealed else None
        new = _new_customer(session, uow.keyring, actor, (id_type, normalised), name=name.strip() or old.name,
                            phone=phone, customer_class=old.customer_class, supersedes=old.id)
        new.department_id = old.department_id
        for dossier in session.scalars(select(Dossier).where(Dossier.customer_id == old.id)):
            dossier.customer_id = new.id
        for document in documents:
            document.customer_id = new.id
            document.pii_hashes = sorted({*document.pii_hashes, new.identity_hash})
            indexing.queue_reindex(uow, document.id)
        old.status, old.superseded_by_id, old.superseded_at = "abnormal", new.id, uow.clock.now()
        audit.record(session, actor, event_customer_superseded, target_type="customer", target_id=old.id,
                     superseded_by=new.id, reason=redact(reason.strip())[:500],
                     documents=[d.id for d in documents])
        uow.commit()
        return new.id


def capture_prefill(uow: UnitOfWork, *, actor: Actor, customer_id: int) -> tuple[str, str]:
    """(ID number or credit code, name) to fill the capture form for this customer: the full key only
    to an actor who may see it (pii.view), else empty. Requires permission_customer_view on the customer
    (the capture page offers it to who may capture). Audited as customer.viewed (purpose capture)."""
    with uow:
        customer = uow.session.get(Customer, customer_id)
        if customer is None:
            raise NotFoundError(f"no customer {customer_id}")
        access.require(actor, permission_customer_view, customer)
        key = open_sealed(customer.identity_sealed, uow.keyring) if access.may_see_pii(actor, customer) else ""
        audit.record(uow.session, actor, event_customer_viewed, target_type="customer", target_id=customer.id,
                     purpose="capture")
        uow.commit()
        return key, customer.name


def shown_identity(customer: Customer, actor: Actor, keyring: Keyring) -> str:
    if access.may_see_pii(actor, customer):
        return open_sealed(customer.identity_sealed, keyring)
    return customer.identity_masked


def summarise_document(doc: Document) -> DocumentSummary:
    return DocumentSummary(
        id=doc.id, archive_code=doc.archive_code, title=doc.title, document_type=doc.document_type,
        classification=doc.classification, status=doc.status, page_count=len(doc.pages),
        captured_at=doc.captured_at, dossier=doc.dossier.title if doc.dossier else "",
        work_order=doc.work_order or "", business_step=doc.business_step or "",
    )


def list_customers(
    uow: UnitOfWork, *, actor: Actor, name: str = "", number: str = "", limit: int = 200, offset: int = 0
) -> list[CustomerSummary]:
    """Customers the actor may see, by name and/or by a number (ID number, credit code or phone), by
    name; `offset` skips the first ones (the API's pages).

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
            .order_by(Customer.name, Customer.id)
            .offset(offset)
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
    return _guarded_hash(uow, actor, normalised)


def _guarded_hash(uow: UnitOfWork, actor: Actor, normalised: str) -> str:
    """The keyed hash of a number to look up, once the guarded lookup allowed it (else its refusal,
    committed to the audit trail, is raised)."""
    if not lookups.guard_identifier_lookup(uow.session, uow.settings, uow.keyring, actor, [normalised]):
        uow.commit()  # keep the refusal in the audit trail
        raise lookups.refusal(actor, uow.settings)
    return lookup_hash(normalised, uow.keyring)


def _link(customer: Customer | None, actor: Actor) -> CustomerLink | None:
    """The other side of a supersession, named only to who may see that customer."""
    if customer is None:
        return None
    if not access.allows(actor, permission_customer_view, customer):
        return CustomerLink(id=None, name="", identity="")
    return CustomerLink(id=customer.id, name=customer.name, identity=customer.identity_masked)


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
            superseded_by=_link(session.get(Customer, customer.superseded_by_id) if customer.superseded_by_id else None,
                                actor),
            supersedes=[link for c in session.scalars(select(Customer).where(Customer.superseded_by_id == customer.id))
                        if (link := _link(c, actor)) is not None],
            superseded_at=customer.superseded_at,
            actions=access.allowed_actions(actor, customer),
        )
        audit.record(session, actor, event_customer_viewed, target_type="customer", target_id=customer.id)
        uow.commit()
        return view


def list_customers_missing_documents(uow: UnitOfWork, *, actor: Actor, limit: int = 20,
                                     offset: int = 0) -> CustomerGaps:
    """Customers the actor may see (normal status) who lack a document type their kind's checklist
    requires, counting only documents the actor may see (as the customer page does); by name, `offset`
    skipping the first ones. Requires permission_customer_view."""
    with uow:
        session = uow.session
        scope = access.visible(actor, permission_customer_view)
        documents = access.visible(actor, permission_document_view)
        present = (select(Document.id)
                   .where(Document.customer_id == Customer.id,
                          Document.document_type == RequiredDocument.document_type_code, documents.documents())
                   .correlate(Customer, RequiredDocument))
        gap = exists(select(RequiredDocument.id).where(RequiredDocument.customer_kind == Customer.kind, ~exists(present))
                     .correlate(Customer))
        wanted = (scope.customers(), Customer.status == "normal", gap)
        total = session.scalar(select(func.count(Customer.id)).where(*wanted)) or 0
        customers = list(session.scalars(select(Customer).where(*wanted).order_by(Customer.name, Customer.id)
                                         .offset(offset).limit(min(max(limit, 1), 200))))
        held: dict[int, set[str]] = {}
        if customers:
            rows = session.execute(select(Document.customer_id, Document.document_type).distinct().where(
                Document.customer_id.in_([c.id for c in customers]), documents.documents()))
            for customer_id, document_type in rows:
                held.setdefault(customer_id, set()).add(document_type)
        checklists = {kind: required_document_types(session, kind) for kind in {c.kind for c in customers}}
        items = [CustomerGap(id=c.id, name=c.name, department=c.department.code,
                             missing_types=[t for t in checklists[c.kind] if t not in held.get(c.id, set())])
                 for c in customers]
        audit.record(session, actor, event_documents_browsed, by="customer_gaps", customers=len(items))
        uow.commit()
    return CustomerGaps(total=total, items=items)
