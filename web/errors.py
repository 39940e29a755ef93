"""Domain errors to HTTP answers: HTML for pages, JSON for the API and for clients that ask for it."""

from __future__ import annotations

import psycopg
from flask import Flask, current_app, jsonify, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError

from archive.errors import AccessDenied, ArchiveError, DuplicateDocumentError, NotFoundError, ValidationError
from archive.security.limits import RateLimitedError
from archive.security.lookups import IdentifierLookupDeniedError
from search.base import SearchError
from storage.base import StorageUnavailableError
from web.support import wants_json

# Driver errors that mean "the database is not reachable now", not "the statement is wrong".
_UNAVAILABLE = (psycopg.OperationalError, psycopg.InterfaceError)


def init_app(app: Flask) -> None:
    app.register_error_handler(AccessDenied, access_denied)
    app.register_error_handler(NotFoundError, not_found)
    app.register_error_handler(ValidationError, invalid)
    app.register_error_handler(DuplicateDocumentError, invalid)
    app.register_error_handler(SearchError, invalid)
    app.register_error_handler(CSRFError, csrf_failed)
    app.register_error_handler(RateLimitedError, rate_limited)
    app.register_error_handler(IdentifierLookupDeniedError, lookup_denied)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(DBAPIError, database_unavailable)
    # What fails before the view runs (opening the server-side session) reaches Flask as a 500.
    app.register_error_handler(InternalServerError, server_error)
    app.register_error_handler(StorageUnavailableError, store_unavailable)


# Translations of domain error codes; params fill the placeholders. A code missing here shows the English message.
MESSAGES = {
    "document_shredded": _l("%(label)s was shredded: its content is destroyed and cannot be read."),
    "unknown_sort": _l("Unknown sort order %(value)r; choose one of %(allowed)s."),
    "record_held": _l("%(label)s is on hold: it cannot be destroyed or deleted until the hold is released."),
    "saved_search_pii": _l("A search for an ID or phone number cannot be saved: such numbers are never kept in clear."),
    "saved_search_name": _l("Give the saved search a name of 1 to 100 characters."),
    "saved_search_empty": _l("There is nothing to save: give words or a filter."),
    # customers: the identity key and registration
    "resident_id_format": _l("A resident ID number has 18 characters: 17 digits and a digit or X."),
    "resident_id_check": _l("This resident ID number fails the GB 11643 check (a mistyped digit or date)."),
    "uscc_format": _l("A unified social credit code has 18 digits or capital letters (no I, O, S, V, Z)."),
    "uscc_check": _l("This unified social credit code fails the GB 32100 check (a mistyped character)."),
    "identifier_format": _l("Neither an 18-digit resident ID number nor an 18-character unified social credit code."),
    "identifier_kind": _l("Choose the kind of key: resident ID number or unified social credit code."),
    "customer_name_required": _l("A new customer needs a name."),
    "phone_format": _l("Not a mobile (11 digits) or landline number."),
    "customer_already_registered": _l("A customer with this key is already registered."),
    "customer_already_superseded": _l("This customer is already superseded or abnormal."),
    "customer_records_held": _l("A record of this customer is on hold: release the hold before superseding."),
    "customer_superseded": _l("This customer's key was superseded: capture for the customer with the corrected key."),
    "supersede_reason_required": _l("Say why the key is wrong."),
    # document metadata
    "too_long": _l("Too long: at most %(limit)s characters."),
    "title_required": _l("A document needs a title."),
    "original_or_copy": _l("Choose original or copy."),
    "bad_date": _l("Not a date (YYYY-MM-DD)."),
    "unknown_type": _l("Unknown document type."),
    "type_above_classification": _l("The document's classification is below that type's minimum: ask for a classification change first."),
    "type_fixed_after_filing": _l("A filed record keeps its document type."),
    "type_changes_archive_code": _l("That type has another category or retention period: the archive code would no longer match. Capture the document again under the right type."),
    "dossier_above_document": _l("That dossier's classification is above the document's: a document is never below its dossier."),
    "document_shredded_edit": _l("A shredded document keeps its trace as it is."),
}


def translated(error: ArchiveError) -> str:
    """The user's-language message for a domain error, falling back to its English message."""
    template = MESSAGES.get(error.code)
    if template is None:
        return str(error)
    try:
        return str(template) % error.params
    except (KeyError, TypeError, ValueError):
        return str(error)


def error_response(status: int, title: str, message: str, *, code: str = "error", field: str | None = None,
                   **extra: object) -> ResponseReturnValue:
    """JSON errors take one shape: {"error": {"code", "message", "field"}} (extra keys beside it)."""
    if wants_json():
        return jsonify(error={"code": code, "message": message, "field": field}, **extra), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


def access_denied(error: AccessDenied) -> ResponseReturnValue:
    # The unit of work has already audited the denial; say no more than that it was refused.
    if getattr(error, "target_type", "") in ("document", "customer", "dossier") and not error.reason.startswith("role "):
        # A record outside the user's department or clearance answers as one that does not exist.
        return not_found(NotFoundError(""))
    return error_response(403, _("Access denied"), _("You are not allowed to do this."), code="access_denied")


def not_found(error: NotFoundError) -> ResponseReturnValue:
    return error_response(404, _("Not found"), _("The record does not exist."), code="not_found")


def invalid(error: Exception) -> ResponseReturnValue:
    extra = {}
    if isinstance(error, DuplicateDocumentError) and error.existing_document_id:
        extra["existing_document_id"] = error.existing_document_id
    if isinstance(error, ArchiveError):
        return error_response(400, _("Cannot do this"), translated(error), code=error.code, field=error.field,
                              **extra)
    return error_response(400, _("Cannot do this"), str(error), code="invalid", **extra)


def lookup_denied(error: IdentifierLookupDeniedError) -> ResponseReturnValue:
    return error_response(403, _("Access denied"),
                          _("You may not look up ID or phone numbers; search by name, archive code or words instead."),
                          code="identifier_lookup_denied")


def rate_limited(error: RateLimitedError) -> ResponseReturnValue:
    return error_response(429, _("Too many requests"), _("Too many requests of this kind; try again later."),
                          code="rate_limited")


def csrf_failed(error: CSRFError) -> ResponseReturnValue:
    return error_response(400, _("Form expired"), _("The form was refused (missing or expired security token). "
                                                   "Reload the page and try again."), code="csrf_failed")


def http_error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    known = {
        404: (_("Not found"), _("The page does not exist.")),
        405: (_("Not allowed"), _("This address does not accept that method.")),
        413: (_("File too large"), _("The upload is larger than the allowed size.")),
    }
    title, message = known.get(status, (error.name, error.description or error.name))
    return error_response(status, title, message, code=f"http_{status}")


def database_unavailable(error: DBAPIError) -> ResponseReturnValue:
    """The database dropped or refused the connection (restarting, failing over): 503 until it is back.

    The pool re-connects on the next request (pool_pre_ping), so the app recovers without a restart.
    Other database errors (a bug, a constraint) stay 500s.
    """
    if not _is_unavailable(error):
        raise error
    current_app.logger.warning("database unavailable: %s", error.orig)
    return _unavailable(_("The database is unavailable for a moment. Try again shortly."), "database")


def store_unavailable(error: StorageUnavailableError) -> ResponseReturnValue:
    """The object store is unreachable or full: nothing was stored (capture cleans up), try later."""
    current_app.logger.warning("object store unavailable: %s", error)
    return _unavailable(_("The document store is unavailable (unreachable or full); nothing was stored. "
                          "Try again later."), "object_store")


def server_error(error: InternalServerError) -> ResponseReturnValue:
    """A 500 whose cause is an unavailable database or store answers 503 like the handlers above."""
    original = error.original_exception
    if isinstance(original, DBAPIError) and _is_unavailable(original):
        return database_unavailable(original)
    if isinstance(original, StorageUnavailableError):
        return store_unavailable(original)
    return http_error(error)


def _is_unavailable(error: DBAPIError) -> bool:
    return bool(error.connection_invalidated) or isinstance(error.orig, _UNAVAILABLE)


def _unavailable(message: str, service: str) -> ResponseReturnValue:
    """503 with Retry-After; the HTML page stands alone (the session and the user may be what failed)."""
    headers = {"Retry-After": "5"}
    if wants_json():
        return jsonify(error={"code": f"{service}_unavailable", "message": message, "field": None},
                       service=service), 503, headers
    return render_template("errors/unavailable.html", title=_("Service unavailable"), message=message), 503, headers
