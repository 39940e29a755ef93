"""The user's own personal API tokens as a page: list, create (the secret is shown once) and revoke, with
the services of archive/api_tokens (each create and revoke audited there)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from archive.api_tokens import services
from archive.errors import ValidationError
from web.errors import translated
from web.support import current_actor, get_archive, new_uow, require_login

bp = Blueprint("account_tokens", __name__, url_prefix="/account/tokens")
require_login(bp)

SCOPE_LABELS = {"read": _l("Read only (GET requests)"), "write": _l("Read and write")}


class NewTokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    scope = SelectField(_l("Scope"), choices=list(SCOPE_LABELS.items()), default="read")
    days = IntegerField(_l("Valid for (days)"), default=90,
                        validators=[DataRequired(), NumberRange(min=1, max=services.MAX_DAYS)])


def _page(form: NewTokenForm, status: int = 200, secret: str | None = None) -> ResponseReturnValue:
    tokens = services.list_api_tokens(new_uow(), actor=current_actor())
    return render_template("account/tokens.html", form=form, tokens=tokens, secret=secret,
                           scopes=SCOPE_LABELS, now=get_archive().clock.now()), status


@bp.get("")
def index() -> ResponseReturnValue:
    return _page(NewTokenForm())


@bp.post("")
def create() -> ResponseReturnValue:
    """Make a token and show its secret on this answer only (it is kept as a hash, never shown again)."""
    form = NewTokenForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        created = services.create_api_token(new_uow(), actor=current_actor(), name=form.name.data or "",
                                            scope=form.scope.data, days=form.days.data or 0)
    except ValidationError as error:
        form.form_errors.append(translated(error))
        return _page(form, 400)
    return _page(NewTokenForm(formdata=None), secret=created.secret)


@bp.post("/<int:token_id>/revoke")
def revoke(token_id: int) -> ResponseReturnValue:
    """Revoke one of the user's tokens (CSRFProtect checks the form's token, as on every POST)."""
    view = services.revoke_api_token(new_uow(), actor=current_actor(), token_id=token_id)
    flash(_("The token %(name)s was revoked.", name=view.name), "ok")
    return redirect(url_for("account_tokens.index"))
