"""Domain errors to HTTP answers: HTML for pages, JSON for the API and for clients that ask for it."""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from flask import Flask, current_app, jsonify, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError

from archive.borrowing.permissions import permission_borrow_request
from archive.errors import (
    AccessDenied,
    ArchiveError,
    DuplicateDocumentError,
    NotFoundError,
    PageImagePendingError,
    ValidationError,
)
from archive.permissions import permission_document_download
from archive.security.limits import RateLimitedError
from archive.security.lookups import IdentifierLookupDeniedError
from archive.views import FilingProblem
from search.base import SearchError
from storage.base import StorageUnavailableError
from web.labels import CHECK_LABELS
from web.support import may, wants_json

# Driver errors that mean "the database is not reachable now", not "the statement is wrong".
_UNAVAILABLE = (psycopg.OperationalError, psycopg.InterfaceError)


def init_app(app: Flask) -> None:
    app.add_template_filter(denial, "denial")
    app.register_error_handler(AccessDenied, access_denied)
    app.register_error_handler(NotFoundError, not_found)
    app.register_error_handler(PageImagePendingError, image_pending)
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
    "page_image_pending": _l("The image of page %(page)s is not made yet: it is rendered from the PDF in the "
                             "background. Try again in a moment."),
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
    "type_above_classification": _l("The document's classification is below that type's minimum: ask for a classification change first."),
    "type_fixed_after_filing": _l("A filed record keeps its document type."),
    "type_changes_archive_code": _l("That type has another category or retention period: the archive code would no longer match. Capture the document again under the right type."),
    "dossier_above_document": _l("That dossier's classification is above the document's: a document is never below its dossier."),
    "document_shredded_edit": _l("A shredded document keeps its trace as it is."),
    "filing_shredded": _l("The document was shredded."),
    "filing_ocr_running": _l("OCR has not finished yet."),
    "filing_ocr_failed": _l("OCR failed (%(reason)s): rescan the page first."),
    "filing_no_page": _l("It has no page."),
    "filing_metadata_missing": _l("Required metadata missing: %(fields)s."),
    "filing_already_filed": _l("Already filed."),
    "fourcheck_problem": _l("%(check_label)s: %(detail)s (%(hint)s)"),
    "reference_years": _l("Years must be a whole number (empty: permanent)."),
    "acknowledge_comment_required": _l("A comment is required to acknowledge an alert."),
    "alert_already_acknowledged": _l("The alert was already acknowledged by %(who)s."),
    "appraiser_cannot_approve": _l("A leader who appraised the batch cannot approve it."),
    "batch_wrong_state": _l("Appraisal batch %(id)s cannot do this in its present state."),
    "below_dossier_level": _l("A document is never below its dossier's level (%(level)s)."),
    "below_type_minimum": _l("A %(type)s is classified at least %(minimum)s."),
    "borrow_already_decided": _l("This step already has your decision."),
    "borrow_days_range": _l("The period is 1 to %(max)s days."),
    "borrow_no_running_grant": _l("Request %(number)s has no running grant."),
    "borrow_not_pending": _l("Request %(number)s is no longer waiting for a decision."),
    "borrow_nothing_named": _l("Name archive codes, a dossier or a customer."),
    "borrow_purpose_required": _l("Say what the borrowing is for (purpose)."),
    "borrow_unknown_mode": _l("Unknown borrowing mode %(value)s."),
    "cannot_deactivate_self": _l("You cannot deactivate your own account."),
    "capturer_without_department": _l("You belong to no department, so you cannot capture documents."),
    "chain_needs_a_step": _l("An approval chain has at least one step."),
    "classification_unchanged": _l("The record is already at that level."),
    "current_password_wrong": _l("The current password is wrong."),
    "days_out_of_range": _l("The number of days must be from %(low)s to %(high)s."),
    "default_below_minimum": _l("The default classification is below the type's minimum."),
    "delegate_same_capacity": _l("Delegate to another approver of the same capacity."),
    "delegation_ends_before_start": _l("The delegation ends before it starts."),
    "department_code_and_name": _l("A department needs a code and a name."),
    "disable_reason_required": _l("Say why the account is disabled."),
    "duplicate_ask_archive_room": _l("This content is already in the archive; ask the archive room."),
    "duplicate_concurrent": _l("The same file was captured at the same moment by another upload."),
    "duplicate_document": _l("Duplicate: this customer already has this content (%(archive_code)s)."),
    "event_name_with_event_trigger": _l("Name the event (e.g. account_closed) exactly when the trigger is an event."),
    "extension_years_and_reason": _l("An extension gives a number of years and a reason."),
    "fonds_transfer_needs_reference": _l("A transfer to another fonds is confirmed with the receiving archive's reference."),
    "held_not_lowered": _l("The record is under a legal hold: its classification is not lowered."),
    "hold_already_released": _l("Legal hold %(id)s was already released."),
    "hold_reason_required": _l("Say why the hold is placed (the case, the inspection, the audit)."),
    "inactive_reference": _l("%(value)s is no longer in use; choose another."),
    "invalid_email": _l("%(value)s is not an e-mail address."),
    "late_capture_reason": _l("Late capture: a document of %(year)s needs a reason why it is captured only now."),
    "login_throttled": _l("Too many attempts; try again in %(seconds)s seconds."),
    "no_file": _l("Choose a file to upload."),
    "not_a_date": _l("%(field_label)s is not a date (YYYY-MM-DD)."),
    "not_a_number": _l("%(field_label)s must be a whole number."),
    "period_too_long": _l("%(field_label)s must be at most %(high)s."),
    "not_a_boolean": _l("%(field_label)s must be true or false."),
    "not_a_fonds": _l("%(value)s is not a fonds number (e.g. Z002)."),
    "not_an_original_loan": _l("Request %(number)s is not an approved loan of originals."),
    "originals_already_lent": _l("The originals of %(number)s were already lent."),
    "originals_returned_at_counter": _l("The paper originals are returned at the archive room's counter."),
    "own_fonds": _l("%(value)s is this archive's own fonds: transfer to a department instead."),
    "page_replaced_meanwhile": _l("Page %(page)s was replaced by someone else meanwhile; look at the new version before replacing it again."),
    "password_common": _l("This password is too common; choose another."),
    "password_monotonous": _l("A password needs more different characters."),
    "password_too_long": _l("A password has at most %(max)s characters."),
    "password_too_short": _l("A password needs at least %(min)s characters."),
    "password_unchanged": _l("The new password must differ from the current one."),
    "personal_token_invalid": _l("The personal token is not valid for this user."),
    "reason_required": _l("A reason is required."),
    "receipt_reference_and_signer": _l("Give the receiving archive's reference and the name of who signed for it."),
    "receiving_archive_required": _l("Name the receiving archive."),
    "receiving_department_confirms": _l("Only the receiving department confirms this transfer."),
    "reject_reason_required": _l("A reason is required to reject."),
    "release_reason_required": _l("Say why the hold is released (the case closed, the inspection ended)."),
    "replacement_not_one_page": _l("%(file)s: a replacement is one page; this file has %(pages)s."),
    "retention_period_positive": _l("A period is a positive number of years and/or months, or none (permanent)."),
    "retention_years_positive": _l("A retention period's years must be positive (none: permanent)."),
    "review_already_open": _l("A review is already open: finish and sign it off first."),
    "review_item_decided": _l("%(username)s was already decided in this review."),
    "review_signed_off": _l("This review is signed off: it no longer changes."),
    "review_undecided": _l("%(count)s accounts are not decided yet: %(names)s"),
    "revoke_reason_required": _l("A reason is required to revoke."),
    "role_needs_department": _l("This role belongs to a department; choose one."),
    "shred_reason_required": _l("Say why the document is shredded (e.g. the disposition decision)."),
    "text_length": _l("The text needs 1 to %(limit)s characters."),
    "token_days_range": _l("The token lasts 1 to %(max)s days."),
    "totp_mismatch": _l("The code does not match; check the authenticator's clock."),
    "transfer_already_received": _l("Transfer %(id)s was already received."),
    "transfer_fails_fourcheck": _l("The records fail the four-property check (report %(report)s, %(count)s problems)."),
    "transfer_needs_records": _l("Name the records to hand over."),
    "transfer_one_destination": _l("A transfer goes either to a department or to another fonds."),
    "transfer_refused_held": _l("%(archive_code)s cannot be handed over: it is on hold."),
    "transfer_refused_not_filed": _l("%(archive_code)s cannot be handed over: it is not filed."),
    "transfer_refused_shredded": _l("%(archive_code)s cannot be handed over: it is shredded."),
    "transfer_same_department": _l("A transfer goes to another department."),
    "trigger_needs_event_and_target": _l("Name the event and either the customer or the document it happened to."),
    "unknown_action": _l("Unknown disposition action %(value)s."),
    "unknown_capacity": _l("Unknown approver capacity %(value)s."),
    "unknown_classification": _l("Unknown classification level %(value)s."),
    "unknown_customer_kind": _l("Unknown customer kind %(value)s."),
    "unknown_decision": _l("Unknown decision %(value)s."),
    "unknown_department": _l("Unknown department %(value)s."),
    "unknown_document_type": _l("Unknown document type %(value)s."),
    "unknown_filter": _l("Unknown filter %(field)s."),
    "unknown_filter_value": _l("Unknown value “%(value)s” for the filter %(field_label)s."),
    "unknown_hold_type": _l("Unknown hold type %(value)s."),
    "unknown_reference_kind": _l("Unknown kind of reference data %(value)s."),
    "unknown_retention_period": _l("Unknown retention period %(value)s."),
    "unknown_role": _l("Unknown role %(value)s."),
    "unknown_rule": _l("Unknown step rule %(value)s."),
    "unknown_scope": _l("Unknown token scope %(value)s."),
    "unknown_target": _l("Unknown kind of record %(value)s."),
    "unknown_trigger": _l("Unknown retention trigger %(value)s."),
    "unlock_link_invalid": _l("This unlock link is not valid any more: ask for a new one."),
    "upload_too_large": _l("The file is larger than the allowed %(limit)s MB."),
    "username_required": _l("A username is required."),
    "username_taken": _l("The user %(value)s already exists."),
    "wrong_credentials": _l("Wrong username or password."),
}
# The fields (filters, form fields) an error can name, as %(field_label)s.
FIELD_LABELS = {
    "type": _l("Type"),
    "department": _l("Department"),
    "classification": _l("Classification"),
    "year": _l("Year"),
    "dossier": _l("Dossier"),
    "status": _l("Status"),
    "event_type": _l("Event type"),
    "outcome": _l("Outcome"),
    "which": _l("Which requests"),
    "filter": _l("Filter"), "format": _l("Format"), "years": _l("Years"), "months": _l("Months"),
    "from": _l("From"), "to": _l("To"), "days": _l("Days"), "limit": _l("Limit"), "offset": _l("Offset"),
    "document_date": _l("Document date"), "starts_on": _l("Starts on"), "ends_on": _l("Ends on"),
    "archive_code": _l("Archive code"), "title": _l("Title"), "document_type": _l("Document type"),
    "retention": _l("Retention period"), "department_id": _l("Department"), "active": _l("Active"),
    "customer_id": _l("Customer"),
}


def translated(error: ArchiveError) -> str:
    """The user's-language message for a domain error, falling back to its English message.

    Besides the error's params a message may use %(field_label)s (the field at fault, by name), and a
    param given as `name_zh` and `name_en` (reference data's two names) fills %(name)s in the reader's language.
    """
    template = MESSAGES.get(error.code)
    if template is None:
        return str(error)
    params = dict(error.params)
    suffix = "_en" if str(get_locale()) == "en" else "_zh"
    params.update({key[:-3]: value for key, value in error.params.items() if key.endswith(suffix)})
    if error.field:
        params.setdefault("field_label", str(FIELD_LABELS.get(error.field, error.field)))
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return str(error)


def filing_reasons(problems: Iterable[FilingProblem]) -> str:
    """Why a document cannot be filed, in the reader's language, one line."""

    def reason(problem: FilingProblem) -> str:
        params = dict(problem.params)
        if "fields" in params:
            params["fields"] = "、".join(str(FIELD_LABELS.get(name, name)) for name in params["fields"].split(","))
        if "check" in params:
            check_label, hint = CHECK_LABELS.get(params["check"], (params["check"], ""))
            params |= {"check_label": str(check_label), "hint": str(hint)}
        return translated(ValidationError(problem.message, code=problem.code, params=params))

    return "; ".join(reason(problem) for problem in problems)


def error_response(status: int, title: str, message: str, *, code: str = "error", field: str | None = None,
                   link: tuple[str, str] | None = None, **extra: object) -> ResponseReturnValue:
    """JSON errors take one shape: {"error": {"code", "message", "field"}} (extra keys beside it); link, the
    next step (url, text), is a link on the page and "next" in JSON."""
    if wants_json():
        if link is not None:
            extra["next"] = link[0]
        return jsonify(error={"code": code, "message": message, "field": field}, **extra), status
    return render_template("errors/error.html", status=status, title=title, message=message, link=link), status


def access_denied(error: AccessDenied) -> ResponseReturnValue:
    """The unit of work has already audited the denial. Say why as the policy gave it (error.why), but a
    record the user may not know of (error.disclosed false) answers as one that does not exist."""
    why, disclosed = getattr(error, "why", ""), getattr(error, "disclosed", False)
    # A record outside the department or clearance that the user may not know of does not exist; a role
    # without the right is told so (as before), but the record is named only when disclosed.
    if getattr(error, "target_type", "") in ("document", "customer", "dossier") and why != "role" and not disclosed:
        return not_found(NotFoundError(""))
    message = denial(why)
    link = None
    code = error.params.get("archive_code")
    if code and may(permission_borrow_request):
        mode = "download" if error.permission == permission_document_download else "view"
        message = " ".join((message, _("You can ask to borrow it; the request goes to its approvers.")))
        link = (url_for("borrowing.new", code=code, mode=mode), _("Request to borrow this document"))
    return error_response(403, _("Access denied"), message, code="access_denied", link=link,
                          **({"reason": why} if why else {}))


def denial(why: str) -> str:
    """Why the access policy refused (archive.access WHY_*), in the reader's language."""
    return str(DENIALS.get(why, _l("You are not allowed to do this.")))


# Why the access policy refused (archive.access WHY_*), in the reader's language.
DENIALS = {
    "role": _l("Your role does not include this right."),
    "department": _l("The record belongs to another department."),
    "clearance": _l("The record's classification is above your clearance."),
    "separation": _l("An account that held one of the three administrator roles never takes another of them."),
}


def not_found(error: NotFoundError) -> ResponseReturnValue:
    return error_response(404, _("Not found"), _("The record does not exist."), code="not_found")


def image_pending(error: PageImagePendingError) -> ResponseReturnValue:
    """Asked of a document the user may view (checked first), so saying why is no disclosure."""
    return error_response(404, _("Not made yet"), translated(error), code=error.code)


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
