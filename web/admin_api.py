"""Administration in the JSON API under /api/v1/admin: accounts (list, create, unlock, deactivate, reset
the password, change role and clearance), the security administrator's approvals, and the reference data.
The same services as the pages (archive.services.users, accounts, reference) check the duties (三员分立)
and audit every change."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field

from archive.errors import ValidationError
from archive.services import accounts, reference, users
from archive.services.accounts import ChangeRequestView
from archive.services.reference import ReferenceData
from archive.views import UserView
from web.api_auth import protect_api
from web.openapi import operation
from web.pagination import PageQuery, cursor_for, list_page, page_request
from web.support import current_actor, json_body, new_uow, require_login

bp = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin")
protect_api(bp)  # before require_login: a bearer token logs the user in
require_login(bp)

MAX_LIMIT = 200



class UsersAnswer(BaseModel):
    users: list[UserView]
    next_cursor: str | None


class NewUser(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    display_name: str = Field("", max_length=100)
    role: str = Field(description="a role of the registry; above staff it waits for approval")
    department: str = Field("", max_length=32, description="the department's code; empty for none")
    clearance: str = Field("internal", max_length=32, description="above internal it waits for approval")


class CreatedUser(BaseModel):
    id: int
    one_time_password: str = Field(description="shown once: it only opens the user's own password change")
    change_request_id: int | None = Field(description="the role or clearance waiting for approval, if any")


class OneTimePassword(BaseModel):
    one_time_password: str


class AccountChange(BaseModel):
    role: str
    clearance: str


class ChangeAnswer(BaseModel):
    change_request_id: int | None = Field(description="null: changed at once; else the request waiting")


class ApprovalsAnswer(BaseModel):
    requests: list[ChangeRequestView]
    next_cursor: str | None


class ReferenceRow(BaseModel):
    """The fields of one kind: department (code, name); document_type (code, name_zh, name_en, category,
    retention_code, default_classification, minimum_classification); classification_level (code,
    name_zh, name_en); retention_period (code, name_zh, name_en, years, archive_code); checklist
    (customer_kind, document_types)."""

    code: str | None = Field(None, max_length=64)
    name: str | None = Field(None, max_length=200)
    name_zh: str | None = Field(None, max_length=100)
    name_en: str | None = Field(None, max_length=100)
    category: str | None = Field(None, max_length=16)
    retention_code: str | None = Field(None, max_length=32)
    default_classification: str | None = Field(None, max_length=32)
    minimum_classification: str | None = Field(None, max_length=32)
    years: int | None = Field(None, ge=1, le=1000, description="absent or null: permanent")
    archive_code: str | None = Field(None, max_length=8)
    customer_kind: str | None = Field(None, max_length=32)
    document_types: list[str] | None = None



def _text(body: dict[str, Any], name: str, default: str = "") -> str:
    value = body.get(name)
    return default if value is None else str(value).strip()


@bp.get("/users")
@operation("Accounts", query=PageQuery, response=UsersAnswer)
def list_users() -> ResponseReturnValue:
    """Every account by user name. System administrators (`user.manage`)."""
    page = page_request(default_limit=50, max_limit=MAX_LIMIT)
    offset = page.position or 0
    found = users.list_users(new_uow(), actor=current_actor(), limit=page.limit + 1, offset=offset)
    more = len(found) > page.limit
    return jsonify(users=[asdict(u) for u in found[:page.limit]],
                   next_cursor=cursor_for(offset + page.limit) if more else None)


@bp.post("/users")
@operation("Create an account", body=NewUser, response=CreatedUser, status=201)
def create_user() -> ResponseReturnValue:
    """{"username", "role", "department"?, "clearance"?, "display_name"?} → 201 {"id", "one_time_password",
    "change_request_id"}. The account starts as staff/internal; a higher role or clearance waits for a
    security administrator's approval."""
    body = json_body()
    created = accounts.create_account(
        new_uow(), actor=current_actor(), username=_text(body, "username"), role=_text(body, "role"),
        department=_text(body, "department") or None, clearance=_text(body, "clearance", "internal"),
        display_name=_text(body, "display_name"))
    return jsonify(id=created.user_id, one_time_password=created.one_time_password,
                   change_request_id=created.change_request_id), 201


@bp.post("/users/<int:user_id>/unlock")
@operation("Unlock an account", status=204)
def unlock_user(user_id: int) -> ResponseReturnValue:
    """Forget the account's failed logins (it need not wait out the growing delay)."""
    users.unlock_user(new_uow(), actor=current_actor(), user_id=user_id)
    return "", 204


@bp.post("/users/<int:user_id>/deactivate")
@operation("Deactivate an account", status=204)
def deactivate_user(user_id: int) -> ResponseReturnValue:
    """Its sessions end at once; 400 for one's own account."""
    users.set_user_active(new_uow(), actor=current_actor(), user_id=user_id, active=False)
    return "", 204


@bp.post("/users/<int:user_id>/reset-password")
@operation("Reset an account's password", response=OneTimePassword)
def reset_password(user_id: int) -> ResponseReturnValue:
    """A one-time password, answered once, that only opens the password change; the sessions end and a
    role or clearance above staff/internal waits for approval again."""
    return jsonify(one_time_password=accounts.reset_password(new_uow(), actor=current_actor(), user_id=user_id))


@bp.post("/users/<int:user_id>/change")
@operation("Change an account's role and clearance", body=AccountChange, response=ChangeAnswer)
def change_user(user_id: int) -> ResponseReturnValue:
    """{"role", "clearance"} → {"change_request_id"}: at once within staff/internal, else a request for a
    security administrator."""
    body = json_body()
    request_id = accounts.request_account_change(new_uow(), actor=current_actor(), user_id=user_id,
                                                 role=_text(body, "role"), clearance=_text(body, "clearance"))
    return jsonify(change_request_id=request_id)


class DepartmentMove(BaseModel):
    department: str | None = Field(None, max_length=20, description="a department code; null for a role of none")


@bp.post("/users/<int:user_id>/department")
@operation("Move an account to another department", body=DepartmentMove, response=ChangeAnswer)
def move_user(user_id: int) -> ResponseReturnValue:
    """{"change_request_id"}: null when moved at once (audited with before and after, the sessions end);
    an account above staff/internal moves once a security administrator approves the request."""
    request_id = accounts.change_department(new_uow(), actor=current_actor(), user_id=user_id,
                                            department=_text(json_body(), "department") or None)
    return jsonify(change_request_id=request_id)


@bp.get("/approvals")
@operation("Pending role and clearance changes", query=PageQuery, response=ApprovalsAnswer)
def list_approvals() -> ResponseReturnValue:
    """Oldest first. Security administrators (`account.change.approve`)."""
    pending, next_cursor = list_page(accounts.list_change_requests(new_uow(), actor=current_actor()),
                                     page_request(default_limit=50, max_limit=MAX_LIMIT))
    return jsonify(requests=[asdict(r) for r in pending], next_cursor=next_cursor)


@bp.post("/approvals/<int:request_id>/<any(approve, reject):decision>")
@operation("Approve or reject a pending change", status=204)
def decide(request_id: int, decision: str) -> ResponseReturnValue:
    """A second person decides: never one's own request nor one's own account (403)."""
    accounts.decide_change_request(new_uow(), actor=current_actor(), request_id=request_id,
                                   approve=decision == "approve")
    return "", 204


@bp.get("/reference")
@operation("Reference data", response=ReferenceData)
def reference_data() -> ResponseReturnValue:
    """Departments, document types, classification levels, retention periods and the checklists
    (`reference.manage`). A few dozen rows in all, answered whole."""
    return jsonify(asdict(reference.list_reference_data(new_uow(), actor=current_actor())))


@bp.put("/reference/<any(department, document_type, classification_level, retention_period, checklist):kind>")
@operation("Add or edit one row of reference data", body=ReferenceRow, status=204)
def save_reference(kind: str) -> ResponseReturnValue:
    """Adds the row, or edits the one with that code (codes stay); audited with before and after."""
    reference.save_reference_row(new_uow(), actor=current_actor(), kind=kind, values=json_body())
    return "", 204


class Activation(BaseModel):
    active: bool


@bp.put("/reference/<any(department, document_type, classification_level, retention_period):kind>/<code>/active")
@operation("Deactivate or reactivate a row of reference data", body=Activation, status=204)
def set_reference_active(kind: str, code: str) -> ResponseReturnValue:
    """Nothing is deleted: records keep the row; a deactivated one takes no new use. Audited with before
    and after."""
    active = json_body().get("active")
    if not isinstance(active, bool):
        raise ValidationError("active must be true or false", code="not_a_boolean", field="active")
    reference.set_reference_active(new_uow(), actor=current_actor(), kind=kind, code=code, active=active)
    return "", 204
