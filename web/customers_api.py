"""Customers and document metadata in the JSON API under /api/v1: the list and one customer's file,
registration (and the live key check), metadata edits, superseding a wrong identity key. The same services as the pages; errors are
{"error": {"code", "message", "field"}}."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field

from archive.services import customers, metadata
from archive.views import CustomerGap, CustomerSummary, CustomerView
from web.api_auth import protect_api
from web.customers import check_body, check_json, register, registration_form, supersede
from web.documents import metadata_edit
from web.openapi import operation
from web.pagination import CURSOR, cursor_for, offset_cursor, page_request
from web.support import current_actor, json_body, new_uow, require_login

bp = Blueprint("customers_api", __name__, url_prefix="/api/v1")
protect_api(bp)  # before require_login: a bearer token logs the user in
require_login(bp)


IdType = Literal["resident_id", "uscc"]
MAX_LIMIT = 200


class CustomersQuery(BaseModel):
    name: str = Field("", max_length=100, description="part of the name")
    number: str = Field("", max_length=40, description="an ID number, credit code or phone: a guarded, "
                        "rate-limited, audited lookup by keyed hash")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    cursor: str = CURSOR


class CustomersAnswer(BaseModel):
    customers: list[CustomerSummary]
    next_cursor: str | None


class GapsQuery(BaseModel):
    limit: int = Field(20, ge=1, le=MAX_LIMIT)
    cursor: str = CURSOR


class GapsAnswer(BaseModel):
    total: int = Field(description="customers with at least one required document type missing")
    customers: list[CustomerGap]
    next_cursor: str | None


class OneCustomer(BaseModel):
    customer: CustomerView


class KeyCheck(BaseModel):
    id_type: IdType
    identifier: str = Field(max_length=40)


class KeyCheckAnswer(BaseModel):
    valid: bool
    code: str = Field(description="why the key is not valid; empty when it is")
    message: str = Field(description="the check's outcome in the user's language")
    registered: bool
    customer_url: str | None = Field(description="only when the user may see that customer")
    customer_name: str


class NewCustomer(BaseModel):
    id_type: IdType
    identifier: str = Field(max_length=40)
    name: str = Field(max_length=200)
    phone: str = Field("", max_length=40)
    customer_class: str = Field("", max_length=40)


class CreatedCustomer(BaseModel):
    id: int
    url: str


class MetadataChange(BaseModel):
    """Absent fields stay as they are."""

    title: str | None = None
    document_type: str | None = None
    document_date: str | None = Field(None, description="YYYY-MM-DD, or empty for none")
    dossier: str | None = Field(None, description="the dossier's title, or empty for none")
    original_or_copy: str | None = None
    box: str | None = None
    shelf: str | None = None
    work_order: str | None = None
    business_step: str | None = None


class ChangedFields(BaseModel):
    changed: list[str]


class Supersede(BaseModel):
    id_type: IdType
    identifier: str = Field(max_length=40, description="the corrected key")
    reason: str = Field(max_length=500)
    name: str = Field("", max_length=200)


class SupersededCustomer(CreatedCustomer):
    superseded: int = Field(description="the old customer, now abnormal 非正常")


def _body() -> dict[str, str]:
    """The JSON object's values as text (None: empty), as the registration forms hold them."""
    return {name: "" if value is None else str(value) for name, value in json_body().items()}


@bp.get("/customers")
@operation("Customers", query=CustomersQuery, response=CustomersAnswer, errors=(400, 401, 403, 429))
def list_customers() -> ResponseReturnValue:
    """The customers the caller may see, by name; ID numbers masked unless the caller may see them.
    `number` finds the customer of an ID number, credit code or phone (429 beyond the lookup limit)."""
    page = page_request(default_limit=50, max_limit=MAX_LIMIT)
    offset = page.position or 0
    found = customers.list_customers(new_uow(), actor=current_actor(), name=request.args.get("name", "").strip()[:100],
                                     number=request.args.get("number", "").strip()[:40], limit=page.limit + 1,
                                     offset=offset)
    next_cursor = cursor_for(offset + page.limit) if len(found) > page.limit else None
    return jsonify(customers=[asdict(c) for c in found[:page.limit]], next_cursor=next_cursor)


@bp.get("/customers/gaps")
@operation("Customers missing a required document", query=GapsQuery, response=GapsAnswer)
def customer_gaps() -> ResponseReturnValue:
    """The home page's panel: customers (normal status) lacking a document type their checklist requires,
    counting only the documents the caller may see; by name."""
    page = page_request(default_limit=20, max_limit=MAX_LIMIT)
    offset = page.position or 0
    gaps = customers.list_customers_missing_documents(new_uow(), actor=current_actor(), limit=page.limit,
                                                      offset=offset)
    return jsonify(total=gaps.total, customers=[asdict(g) for g in gaps.items],
                   next_cursor=offset_cursor(offset, len(gaps.items), gaps.total))


@bp.get("/customers/<int:customer_id>")
@operation("A customer's file", response=OneCustomer)
def show_customer(customer_id: int) -> ResponseReturnValue:
    """The customer (the phone only to who may see PII), their dossiers and visible documents, the required
    document types still missing, the supersession links and `actions` (the caller's permissions on it)."""
    view = customers.get_customer(new_uow(), actor=current_actor(), customer_id=customer_id)
    return jsonify(customer=asdict(view))


@bp.post("/customers/check")
@operation("Check an identity key before registering", body=KeyCheck, response=KeyCheckAnswer,
           errors=(400, 401, 403, 429))
def check_identifier() -> ResponseReturnValue:
    """{"id_type": "resident_id"|"uscc", "identifier"} → {"valid", "code", "message", "registered",
    "customer_url", "customer_name"}. A valid key's registered check is a guarded, rate-limited, audited
    lookup (429 beyond); a POST keeps the number out of addresses and logs."""
    id_type, identifier = check_body()
    result = customers.check_identifier(new_uow(), actor=current_actor(), id_type=id_type, identifier=identifier)
    return jsonify(check_json(result))


@bp.post("/customers")
@operation("Register a customer", body=NewCustomer, response=CreatedCustomer, status=201,
           errors=(400, 401, 403, 429))
def register_customer() -> ResponseReturnValue:
    """{"id_type": "resident_id"|"uscc", "identifier", "name", "phone"?, "customer_class"?} → 201 {"id", "url"}.
    The customer belongs to the caller's department. 400 with the field at fault (e.g. code
    customer_already_registered, field identifier)."""
    customer_id = register(registration_form(_body()))
    return jsonify(id=customer_id, url=url_for("customers.show", customer_id=customer_id)), 201


@bp.patch("/documents/<int:document_id>/metadata")
@operation("Correct a document's metadata", body=MetadataChange, response=ChangedFields)
def edit_document_metadata(document_id: int) -> ResponseReturnValue:
    """{"title"?, "document_type"?, "document_date"? (YYYY-MM-DD or ""), "dossier"? (title or ""),
    "original_or_copy"?, "box"?, "shelf"?, "work_order"?, "business_step"?} → {"changed": [field, ...]}.
    Absent fields stay as they are. Clerks of the document's department; audited with before and after."""
    changed = metadata.edit_document_metadata(new_uow(), actor=current_actor(),
                                              document_id=document_id,
                                              edit=metadata_edit(_body()))
    return jsonify(changed=changed)


@bp.post("/customers/<int:customer_id>/supersede")
@operation("Supersede a customer's wrong identity key", body=Supersede, response=SupersededCustomer, status=201,
           errors=(400, 401, 403, 404, 429))
def supersede_customer(customer_id: int) -> ResponseReturnValue:
    """{"id_type", "identifier" (the corrected key), "reason", "name"?} → 201 {"id", "url"} of the new
    customer; the old one turns abnormal and links to it, its dossiers and documents move (seed 004)."""
    new_id = supersede(customer_id, _body())
    return jsonify(id=new_id, url=url_for("customers.show", customer_id=new_id), superseded=customer_id), 201
