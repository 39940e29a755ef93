"""The Flask app: HTML views and a JSON API over the archive's services.

Views only require login and translate; the services in `archive` enforce the access policy and
write the audit trail.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Flask, Response, redirect, url_for
from flask.json.provider import DefaultJSONProvider

from archive.bootstrap import Archive, web_secret

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def create_app(overrides: dict[str, Any] | None = None, *, archive: Archive | None = None) -> Flask:
    """Build the app around an Archive (default: one configured from the environment)."""
    archive = archive or Archive()
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=web_secret(archive.settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # ARCHIVE_SECURE_COOKIES=true behind HTTPS: Secure, the __Host- prefix, and HSTS (web/security.py).
        SESSION_COOKIE_SECURE=archive.settings.secure_cookies,
        SESSION_COOKIE_NAME="__Host-session" if archive.settings.secure_cookies else "session",
        # One file per request from the capture page's script; 1 MiB more for the other form fields.
        MAX_CONTENT_LENGTH=(archive.settings.max_upload_mb + 1) * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        BABEL_DEFAULT_LOCALE="zh_CN",
        LANGUAGES=("zh_CN", "en"),
        JSON_AS_ASCII=False,
    )
    if overrides:
        app.config.update(overrides)
    app.extensions["archive"] = archive
    archive.store  # noqa: B018 - built now, not in the first capture (the S3 client's import takes a fifth of a second)
    app.json = IsoDateJSONProvider(app)

    from web import errors, extensions, security

    security.init_app(app)
    extensions.init_app(app)
    errors.init_app(app)

    from web import admin, api, auth, capture, compliance, customers, documents, rescan, retention, search

    for module in (auth, customers, documents, search, capture, rescan, retention, compliance, admin, api):
        app.register_blueprint(module.bp)
    from web.audit_desk import bp as audit_desk_bp  # the auditor's review desk (archive/compliance)

    app.register_blueprint(audit_desk_bp)
    from web import borrowing, borrowing_api, classification, inbox  # borrowing 借阅 (issue 11)

    for module in (borrowing, classification, inbox, borrowing_api):
        app.register_blueprint(module.bp)
    from web import account_review, reports  # reports (archive/reports) and the account review (issue 14)

    for module in (reports, account_review):
        app.register_blueprint(module.bp)
    from web import (  # issue 15: API tokens and description, home pages, saved searches, customers, browsing
        account_tokens,
        api_tokens_api,
        browse,
        customers_api,
        home,
        openapi,
        saved_searches_api,
    )

    for blueprint in (api_tokens_api.bp, account_tokens.bp, openapi.bp, saved_searches_api.bp,
                      browse.work_orders_bp, browse.dossiers_bp, customers_api.bp):
        app.register_blueprint(blueprint)
    from web import (  # issue 15 item 8: every UI action in /api/v1
        account_review_api,
        admin_api,
        audit_api,
        browse_api,
        classification_api,
        compliance_api,
        document_files_api,
        reports_api,
        retention_api,
    )

    for module in (audit_api, admin_api, retention_api, classification_api, reports_api, account_review_api,
                   compliance_api, browse_api, document_files_api):
        app.register_blueprint(module.bp)
    app.add_url_rule("/", "index", home.index)
    app.add_url_rule("/favicon.ico", "favicon", lambda: redirect(url_for("static", filename="favicon.svg"), 301))
    app.after_request(_security_headers)
    return app


class IsoDateJSONProvider(DefaultJSONProvider):
    """Dates and times as ISO 8601 in the API, not HTTP dates (a time without zone is UTC, as stored);
    sets as sorted lists."""

    @staticmethod
    def default(o: object) -> object:
        if isinstance(o, datetime) and o.tzinfo is None:
            return o.replace(tzinfo=UTC).isoformat()
        if isinstance(o, date):
            return o.isoformat()
        if isinstance(o, set | frozenset):
            return sorted(o)
        return DefaultJSONProvider.default(o)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
