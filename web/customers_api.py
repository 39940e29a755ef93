"""Customers and document metadata in the JSON API under /api/v1: registration (and the live key check),
metadata edits, superseding a wrong identity key. The same services as the pages; errors are
{"error": {"code", "message", "field"}}."""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from archive.errors import ValidationError
from archive.services import customers, metadata
from web.api_auth import protect_api
from web.customers import check_body, check_json, register, registration_form, supersede
from web.documents import metadata_edit
from web.support import current_actor, new_uow, require_login

bp = Blueprint("customers_api", __name__, url_prefix="/api/v1")
protect_api(bp)  # before require_login: a bearer token logs the user in
require_login(bp)


def _body() -> dict[str, str]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError("send a JSON object")
    return {name: "" if value is None else str(value) for name, value in body.items()}


@bp.post("/customers/check")
def check_identifier() -> ResponseReturnValue:
    """{"id_type": "resident_id"|"uscc", "identifier"} → {"valid", "code", "message", "registered",
    "customer_url", "customer_name"}. A valid key's registered check is a guarded, rate-limited, audited
    lookup (429 beyond); a POST keeps the number out of addresses and logs."""
    id_type, identifier = check_body()
    result = customers.check_identifier(new_uow(), actor=current_actor(), id_type=id_type, identifier=identifier)
    return jsonify(check_json(result))


@bp.post("/customers")
def register_customer() -> ResponseReturnValue:
    """{"id_type": "resident_id"|"uscc", "identifier", "name", "phone"?, "customer_class"?} → 201 {"id", "url"}.
    The customer belongs to the caller's department. 400 with the field at fault (e.g. code
    customer_already_registered, field identifier)."""
    customer_id = register(registration_form(_body()))
    return jsonify(id=customer_id, url=url_for("customers.show", customer_id=customer_id)), 201


@bp.patch("/documents/<int:document_id>/metadata")
def edit_document_metadata(document_id: int) -> ResponseReturnValue:
    """{"title"?, "document_type"?, "document_date"? (YYYY-MM-DD or ""), "dossier"? (title or ""),
    "original_or_copy"?, "box"?, "shelf"?, "work_order"?, "business_step"?} → {"changed": [field, ...]}.
    Absent fields stay as they are. Clerks of the document's department; audited with before and after."""
    changed = metadata.edit_document_metadata(new_uow(), actor=current_actor(),
                                              document_id=document_id,
                                              edit=metadata_edit(_body()))
    return jsonify(changed=changed)


@bp.post("/customers/<int:customer_id>/supersede")
def supersede_customer(customer_id: int) -> ResponseReturnValue:
    """{"id_type", "identifier" (the corrected key), "reason", "name"?} → 201 {"id", "url"} of the new
    customer; the old one turns abnormal and links to it, its dossiers and documents move (seed 004)."""
    new_id = supersede(customer_id, _body())
    return jsonify(id=new_id, url=url_for("customers.show", customer_id=new_id), superseded=customer_id), 201
