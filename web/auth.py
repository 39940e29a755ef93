"""Logging in and out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from archive.errors import AuthenticationError, ValidationError
from archive.security import unlock
from archive.services import users
from web.security import safe_next
from web.sessions import current_session_id
from web.support import WebUser, current_actor, get_archive, new_uow

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=100)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    code = StringField(_l("Authenticator code (if enabled)"), validators=[Length(max=10)])


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    error = ""
    if form.validate_on_submit():
        try:
            actor = users.authenticate(
                new_uow(), username=form.username.data.strip(), password=form.password.data,
                remote_addr=request.remote_addr or "", totp_code=form.code.data or None,
            )
        except AuthenticationError as failure:
            error = str(failure)
        else:
            _fresh_session()
            login_user(WebUser(actor))
            if actor.must_change_password:
                return redirect(url_for("auth.change_password"))
            return redirect(safe_next(request.args.get("next")) or url_for("index"))
    status = 401 if error else 200
    return render_template("auth/login.html", form=form, error=error,
                           may_unlock_by_email=bool(get_archive().settings.smtp_host)), status


class UnlockForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])


@bp.route("/login/unlock", methods=["GET", "POST"])
def request_unlock() -> ResponseReturnValue:
    """Ask for an unlock link by e-mail; the answer is the same whatever the name (no enumeration)."""
    form = UnlockForm()
    if form.validate_on_submit():
        unlock.request_unlock(new_uow(), username=form.username.data, remote_addr=request.remote_addr or "")
        flash(_("If the account exists and has an e-mail address, a link to unlock it was sent there."), "ok")
        return redirect(url_for("auth.login"))
    return render_template("auth/unlock.html", form=form)


@bp.get("/login/unlock/<token>")
def confirm_unlock(token: str) -> ResponseReturnValue:
    try:
        unlock.confirm_unlock(new_uow(), token=token, remote_addr=request.remote_addr or "")
    except ValidationError as error:
        flash(str(error), "error")
        return redirect(url_for("auth.request_unlock"))
    flash(_("Your account is unlocked: you can log in now."), "ok")
    return redirect(url_for("auth.login"))


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
    if hasattr(session, "regenerate"):  # server-side session: the old token's row is deleted
        session.regenerate()
    if lang:
        session["lang"] = lang


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField(_l("New password again"), validators=[DataRequired(), Length(max=1024)])


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    """Choose a new password (forced after an administrator set a one-time one); other sessions end."""
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        if form.new.data != form.confirm.data:
            form.form_errors.append(_("The two new passwords differ."))
            status = 400
        else:
            try:
                users.change_password(new_uow(), actor=current_actor(), current=form.current.data,
                                      new=form.new.data, keep_session=current_session_id(session))
            except (AuthenticationError, ValidationError) as error:
                form.form_errors.append(str(error))
                status = 400
            else:
                flash(_("Your password was changed; your other sessions have ended."), "ok")
                return redirect(url_for("index"))
    elif form.is_submitted():
        status = 400
    return render_template("auth/password.html", form=form), status


class TotpForm(FlaskForm):
    code = StringField(_l("Code shown by the authenticator app"), validators=[DataRequired(), Length(max=10)])


@bp.route("/account/totp", methods=["GET", "POST"])
@login_required
def enable_totp() -> ResponseReturnValue:
    """Turn on a TOTP second factor: the new secret waits in the (server-side) session until confirmed."""
    import pyotp

    form = TotpForm()
    status = 200
    if form.validate_on_submit() and session.get("totp_secret"):
        try:
            users.enable_totp(new_uow(), actor=current_actor(), secret=session["totp_secret"], code=form.code.data)
        except ValidationError as error:
            form.form_errors.append(str(error))
            status = 400
        else:
            session.pop("totp_secret", None)
            flash(_("The second factor is on: give its code at every login."), "ok")
            return redirect(url_for("index"))
    if not session.get("totp_secret"):
        session["totp_secret"] = pyotp.random_base32()
    uri = pyotp.TOTP(session["totp_secret"]).provisioning_uri(name=current_actor().username, issuer_name="客户档案")
    return render_template("auth/totp.html", form=form, secret=session["totp_secret"], uri=uri), status
