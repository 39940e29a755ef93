"""Logging in and out."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from archive.errors import AuthenticationError
from archive.services import users
from web.extensions import layout_context
from web.support import WebUser, current_actor, new_uow

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=100)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


def index() -> ResponseReturnValue:
    """Send the user to the first page their role may use."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    nav = layout_context()["nav"]
    if nav:
        return redirect(url_for(nav[0][0]))  # type: ignore[index]
    return render_template("auth/home.html")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    error = ""
    if form.validate_on_submit():
        try:
            actor = users.authenticate(
                new_uow(), username=form.username.data.strip(), password=form.password.data,
                remote_addr=request.remote_addr or "",
            )
        except AuthenticationError as failure:
            error = str(failure)
        else:
            _fresh_session()
            login_user(WebUser(actor))
            return redirect(_safe_next(request.args.get("next")) or url_for("index"))
    status = 401 if error else 200
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    users.log_out(new_uow(), actor=current_actor())
    logout_user()
    _fresh_session()
    return redirect(url_for("auth.login"))


def _fresh_session() -> None:
    """Start a new session (no fixation) but keep the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _safe_next(target: str | None) -> str | None:
    """Only follow a redirect back into this site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target
