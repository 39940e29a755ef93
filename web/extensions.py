"""Login, CSRF and translation, each attached to the app with init_app."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import Babel, get_locale
from flask_babel import gettext as _
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from archive import permissions
from archive.capture.permissions import permission_document_capture
from archive.compliance.permissions import permission_fourcheck_view
from archive.errors import NotFoundError
from archive.services import users
from web.support import (
    WebUser,
    classification_names,
    document_type_names,
    get_archive,
    label,
    may,
    mode_label,
    wants_json,
)

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()

LANGUAGES = ("zh_CN", "en")


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.before_request(remember_language_choice)
    app.context_processor(layout_context)
    app.add_template_filter(label, "label")
    app.add_template_filter(mode_label, "mode_label")
    app.add_template_filter(lambda code: document_type_names().get(code, code), "type_name")
    app.add_template_filter(lambda code: classification_names().get(code, code), "classification_name")
    app.add_template_filter(filter_value, "filter_value")


@login_manager.user_loader
def load_user(user_id: str) -> WebUser | None:
    """Snapshot the user as a fresh Actor for this request, carrying the client's address."""
    try:
        actor = users.resolve_actor(get_archive().uow(), user_id=int(user_id), remote_addr=request.remote_addr or "")
    except (NotFoundError, ValueError):
        return None
    return WebUser(actor)


@login_manager.unauthorized_handler
def unauthorized() -> ResponseReturnValue:
    if wants_json():
        message = _("Log in, or send a personal API token (Authorization: Bearer).")
        return jsonify(error={"code": "login_required", "message": message, "field": None}), 401
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


def filter_value(value: str, key: str) -> str:
    """A search filter's value as the reader knows it (type and classification by name)."""
    if key == "type":
        return document_type_names().get(value, value)
    if key == "classification":
        return classification_names().get(value, value)
    return value


def remember_language_choice() -> None:
    lang = request.args.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang


def select_locale() -> str:
    """The language chosen with ?lang=, else the browser's, else Chinese."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(["zh_CN", "zh", "en"])
    return "en" if best == "en" else "zh_CN"


def switch_language_url(lang: str) -> str:
    args = request.args.to_dict()
    args["lang"] = lang
    return f"{request.path}?{urlencode(args)}"


def layout_context() -> dict[str, object]:
    nav: list[tuple[str, str]] = []
    if current_user.is_authenticated:
        for endpoint, permission in (
            ("customers.index", permissions.permission_customer_view),
            ("search.index", permissions.permission_document_search),
            ("work_orders.index", permissions.permission_document_view),
            ("dossiers.dossiers", permissions.permission_document_view),
            ("capture.index", permission_document_capture),
            ("compliance.index", permissions.permission_audit_view),
            ("compliance.checks", permission_fourcheck_view),
            ("admin.users", permissions.permission_user_manage),
            ("admin.reference", permissions.permission_reference_manage),
            ("admin.approvals", permissions.permission_account_change_approve),
        ):
            if may(permission):
                nav.append((endpoint, NAV_LABELS[endpoint]))
    return {
        "nav": nav,
        "locale": str(get_locale() or "zh_CN"),
        "switch_language_url": switch_language_url,
    }


def _labels() -> dict[str, str]:
    from flask_babel import lazy_gettext as _l

    return {
        "customers.index": _l("Customers"),
        "search.index": _l("Search"),
        "work_orders.index": _l("Work orders"),
        "dossiers.dossiers": _l("Dossiers"),
        "capture.index": _l("Capture"),
        "compliance.index": _l("Audit log"),
        "compliance.checks": _l("Four-property checks"),
        "admin.users": _l("Users"),
        "admin.reference": _l("Reference data"),
        "admin.approvals": _l("Approvals"),
    }


NAV_LABELS = _labels()
