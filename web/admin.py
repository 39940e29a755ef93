"""Accounts: the user list and the create-user form."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from archive import registry
from archive.errors import ValidationError
from archive.services import accounts, reference, users
from web.errors import translated
from web.support import (
    classification_choices,
    classification_names,
    current_actor,
    label,
    new_uow,
    require_login,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")
require_login(bp)


@bp.context_processor
def _choices() -> dict[str, object]:
    return {"roles": registry.roles(), "clearances": list(classification_names().items()),
            "departments": [code for _id, code, _name in reference.list_departments(new_uow(), active_only=True)]}


class CreateUserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=100)])
    display_name = StringField(_l("Display name"), validators=[Length(max=100)])
    role = SelectField(_l("Role"))
    department = SelectField(_l("Department"))
    clearance = SelectField(_l("Clearance"))


def _form() -> CreateUserForm:
    form = CreateUserForm()
    form.role.choices = [(role, label(role)) for role in registry.roles()]
    form.department.choices = [("", _("(none)"))] + [
        (code, f"{code} {name}") for _id, code, name in reference.list_departments(new_uow(), active_only=True)
    ]
    form.clearance.choices = list(classification_choices().items())
    return form


@bp.route("/users", methods=["GET", "POST"], endpoint="users")
def users_page() -> ResponseReturnValue:
    form = _form()
    status = 200
    if form.validate_on_submit():
        try:
            created = accounts.create_account(
                new_uow(), actor=current_actor(), username=form.username.data.strip(), role=form.role.data,
                department=form.department.data or None, clearance=form.clearance.data,
                display_name=(form.display_name.data or "").strip(),
            )
        except ValidationError as error:
            form.form_errors.append(translated(error))
            status = 400
        else:
            # The one-time password is shown in this answer only (a flash would keep it in the session store).
            listed = users.list_users(new_uow(), actor=current_actor())
            return render_template("admin/users.html", users=listed, form=_form(), one_time=created.one_time_password,
                                   one_time_user=form.username.data.strip(),
                                   pending=created.change_request_id is not None)
    elif form.is_submitted():
        status = 400
    listed = users.list_users(new_uow(), actor=current_actor())
    return render_template("admin/users.html", users=listed, form=form), status



@bp.post("/users/<int:user_id>/unlock")
def unlock(user_id: int) -> ResponseReturnValue:
    """Forget the account's failed logins (it need not wait out the growing delay)."""
    users.unlock_user(new_uow(), actor=current_actor(), user_id=user_id)
    flash(_("The account may log in again."), "ok")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/deactivate")
def deactivate(user_id: int) -> ResponseReturnValue:
    """Deactivate the account; its sessions end at once."""
    try:
        users.set_user_active(new_uow(), actor=current_actor(), user_id=user_id, active=False)
    except ValidationError as error:
        flash(translated(error), "error")
    else:
        flash(_("The account is deactivated and its sessions have ended."), "ok")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/reset-password")
def reset_password(user_id: int) -> ResponseReturnValue:
    """A one-time password, shown once: it only lets the user choose their own."""
    one_time = accounts.reset_password(new_uow(), actor=current_actor(), user_id=user_id)
    # Shown in this answer only (not flashed: that would keep it in the session store).
    listed = users.list_users(new_uow(), actor=current_actor())
    return render_template("admin/users.html", users=listed, form=_form(), one_time=one_time,
                           one_time_user=next((u.username for u in listed if u.id == user_id), ""))


@bp.post("/users/<int:user_id>/change")
def change_account(user_id: int) -> ResponseReturnValue:
    """Change role and clearance: above staff/internal it waits for a security administrator."""
    request_id = accounts.request_account_change(new_uow(), actor=current_actor(), user_id=user_id,
                                                 role=request.form.get("role", ""),
                                                 clearance=request.form.get("clearance", ""))
    if request_id is None:
        flash(_("The account was changed."), "ok")
    else:
        flash(_("The change waits for a security administrator's approval."), "ok")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/department")
def change_department(user_id: int) -> ResponseReturnValue:
    """Move the account to another department (audited with before and after)."""
    try:
        request_id = accounts.change_department(new_uow(), actor=current_actor(), user_id=user_id,
                                                department=request.form.get("department") or None)
    except ValidationError as error:
        flash(translated(error), "error")
    else:
        flash(_("The move waits for a security administrator's approval.") if request_id
              else _("The department was changed."), "ok")
    return redirect(url_for("admin.users"))


@bp.get("/approvals", endpoint="approvals")
def approvals() -> ResponseReturnValue:
    """Pending role and clearance changes, for security administrators."""
    pending = accounts.list_change_requests(new_uow(), actor=current_actor())
    return render_template("admin/approvals.html", requests=pending)


@bp.post("/approvals/<int:request_id>/<any(approve, reject):decision>")
def decide(request_id: int, decision: str) -> ResponseReturnValue:
    accounts.decide_change_request(new_uow(), actor=current_actor(), request_id=request_id,
                                   approve=decision == "approve")
    flash(_("Approved.") if decision == "approve" else _("Rejected."), "ok")
    return redirect(url_for("admin.approvals"))


@bp.get("/reference", endpoint="reference")
def reference_page() -> ResponseReturnValue:
    """Departments, document types, classification levels, retention periods and the checklists."""
    data = reference.list_reference_data(new_uow(), actor=current_actor())
    return render_template("admin/reference.html", data=data, kinds=reference.CUSTOMER_KINDS)


@bp.post("/reference/<any(department, document_type, classification_level, retention_period):kind>/<code>/active")
def set_reference_active(kind: str, code: str) -> ResponseReturnValue:
    """Deactivate (active=0) or reactivate (active=1) a row: records keep it, new use is refused."""
    active = request.form.get("active") == "1"
    reference.set_reference_active(new_uow(), actor=current_actor(), kind=kind, code=code, active=active)
    flash(_("Reactivated.") if active else _("Deactivated: records keep it, it is no longer offered for new use."),
          "ok")
    return redirect(url_for("admin.reference"))


@bp.post("/reference/<any(department, document_type, classification_level, retention_period, checklist):kind>")
def save_reference(kind: str) -> ResponseReturnValue:
    """Add or edit one row of reference data (the service audits before and after)."""
    values = {**request.form.to_dict(), "document_types": request.form.getlist("document_types")}
    try:
        reference.save_reference_row(new_uow(), actor=current_actor(), kind=kind, values=values)
    except ValidationError as error:
        flash(translated(error), "error")
        return redirect(url_for("admin.reference"))
    flash(_("Saved."), "ok")
    return redirect(url_for("admin.reference"))
