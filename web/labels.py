"""What templates print for codes and times: audit event labels and the one date format.

Dates and times print as ISO 8601 in UTC in both languages (2026-12-02 14:05): the form fields
(`<input type="date">`), the audit exports and the command line use the same, so what a reader copies
from a page can be pasted into a filter.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask_babel import lazy_gettext as _l

# The four-property checks (archive/compliance/checks.py): what each is called, and what to do about it.
CHECK_LABELS = {
    "content_hash": (_l("Content hash"), _l("restore the object from a backup; never re-record the hash")),
    "metadata_matches_content": (_l("Metadata matches content"),
                                 _l("correct the recorded media type or pages, or recapture the document")),
    "capture_audited": (_l("Capture audited"), _l("investigate: a record without its chained capture event was not "
                                                  "captured through the archive")),
    "required_metadata": (_l("Required metadata"), _l("complete the metadata on the document page before filing")),
    "document_date": (_l("Document date"), _l("enter the date the document was made")),
    "pages_present": (_l("Pages present"), _l("rescan the missing pages, or restore them from a backup")),
    "item_numbers_gapless": (_l("Item numbers without gaps"),
                             _l("find the record that holds the missing item number, or note the gap in the register")),
    "required_documents_present": (_l("Required documents present"),
                                   _l("capture the missing documents of the customer's business process")),
    "decrypts_and_renders": (_l("Decrypts and renders"),
                             _l("restore the object from a backup, or recapture from the paper original")),
    "ocr_text": (_l("OCR text"), _l("rerun OCR for the document, or rescan the page")),
    "format_allowed": (_l("Format allowed"), _l("convert the original to an allowed format and recapture it")),
    "live_key": (_l("Live key"), _l("rewrap the keys while the old master key is still held")),
    "classification_retention": (_l("Classification and retention"), _l("set the classification and retention period")),
    "no_plaintext_pii": (_l("No plaintext personal data"), _l("re-redact the stored text so numbers are masked")),
    "virus_free": (_l("Virus free"), _l("quarantine the document and ask the security administrator")),
}

EVENT_LABELS = {
    "access.denied": _l("Access denied"),
    "account_review.account_confirmed": _l("Account confirmed in a review"),
    "account_review.account_disabled": _l("Account disabled in a review"),
    "account_review.accounts_listed": _l("Accounts for review listed"),
    "account_review.disabled_inactive": _l("Inactive account disabled"),
    "account_review.signed_off": _l("Account review signed off"),
    "account_review.started": _l("Account review started"),
    "api_token.created": _l("API token created"),
    "api_token.refused": _l("API token refused"),
    "api_token.revoked": _l("API token revoked"),
    "audit.alert_acknowledged": _l("Audit alert acknowledged"),
    "audit.alert_raised": _l("Audit alert raised"),
    "audit.exported": _l("Audit log exported"),
    "audit.proved": _l("Audit event proof given"),
    "audit.range_sealed": _l("Audit range sealed"),
    "audit.verified": _l("Audit chain verified"),
    "audit.viewed": _l("Audit log viewed"),
    "backup.created": _l("Backup created"),
    "backup.pruned": _l("Backups pruned"),
    "backup.restored": _l("Backup restored"),
    "backup.verified": _l("Backup verified"),
    "borrow.chain_changed": _l("Approval chain changed"),
    "borrow.decided": _l("Borrow step decided"),
    "borrow.delegation_set": _l("Approval delegated"),
    "borrow.ended": _l("Borrowing ended"),
    "borrow.escalated": _l("Borrow request escalated"),
    "borrow.granted": _l("Borrowing granted"),
    "borrow.original_lent": _l("Paper original lent"),
    "borrow.original_returned": _l("Paper original returned"),
    "borrow.reminder_sent": _l("Borrow reminder sent"),
    "borrow.requested": _l("Borrowing requested"),
    "borrow.watermark_identified": _l("Watermark identified"),
    "classification.change_decided": _l("Classification change decided"),
    "classification.change_requested": _l("Classification change requested"),
    "classification.changed": _l("Classification changed"),
    "customer.registered": _l("Customer registered"),
    "customer.superseded": _l("Customer key superseded"),
    "customer.viewed": _l("Customer viewed"),
    "document.capture_refused": _l("Capture refused"),
    "document.captured": _l("Document captured"),
    "document.downloaded": _l("Document downloaded"),
    "document.filed": _l("Document filed"),
    "document.metadata_changed": _l("Document metadata changed"),
    "documents.browsed": _l("Documents browsed"),
    "document.filing_refused": _l("Filing refused"),
    "document.shredded": _l("Document shredded"),
    "document.viewed": _l("Document viewed"),
    "documents.identifier_lookup": _l("ID or phone number looked up"),
    "documents.identifier_lookup_refused": _l("ID or phone lookup refused"),
    "documents.reprocessed": _l("OCR queued again"),
    "documents.searched": _l("Documents searched"),
    "fourcheck.completed": _l("Four-property check completed"),
    "fourcheck.report_exported": _l("Four-property report exported"),
    "integrity.swept": _l("Integrity sweep run"),
    "integrity.verified": _l("Integrity verified"),
    "keys.retired": _l("Master key retired"),
    "keys.rewrapped": _l("Data keys re-wrapped"),
    "keys.rotated": _l("Master key rotated"),
    "page.image_viewed": _l("Page image viewed"),
    "page.ocr_failed": _l("Page OCR failed"),
    "page.replaced": _l("Page replaced by a rescan"),
    "page.replacement_refused": _l("Page replacement refused"),
    "page.version_viewed": _l("Earlier page version viewed"),
    "page.words_viewed": _l("Page words viewed"),
    "reference.changed": _l("Reference data changed"),
    "report.exported": _l("Report exported"),
    "report.viewed": _l("Report viewed"),
    "retention.appraisal_batch_approved": _l("Appraisal batch approved"),
    "retention.appraisal_batch_opened": _l("Appraisal batch opened"),
    "retention.appraisal_batch_rejected": _l("Appraisal batch rejected"),
    "retention.appraisal_batch_reminded": _l("Appraisal reminder sent"),
    "retention.destruction_skipped": _l("Destruction skipped (hold)"),
    "retention.dispositions_computed": _l("Dispositions computed"),
    "retention.hold_placed": _l("Legal hold placed"),
    "retention.hold_released": _l("Legal hold released"),
    "retention.record_appraised": _l("Record appraised"),
    "retention.record_destroyed": _l("Record destroyed"),
    "retention.record_extended": _l("Retention extended"),
    "retention.register_exported": _l("Destruction register exported"),
    "retention.register_kept": _l("Register snapshot kept"),
    "retention.register_snapshot_downloaded": _l("Register snapshot downloaded"),
    "retention.schedule_changed": _l("Retention schedule changed"),
    "retention.transfer_packaged": _l("Transfer package written"),
    "retention.transfer_received": _l("Transfer received"),
    "retention.transfer_sent": _l("Transfer sent"),
    "retention.trigger_recorded": _l("Retention trigger recorded"),
    "saved_search.created": _l("Search saved"),
    "saved_search.deleted": _l("Saved search deleted"),
    "security.rate_limited": _l("Rate limit reached"),
    "system.initialised": _l("System initialised"),
    "text.reredacted": _l("Text redacted again"),
    "user.change_approved": _l("Account change approved"),
    "user.change_rejected": _l("Account change rejected"),
    "user.change_requested": _l("Account change requested"),
    "user.created": _l("User created"),
    "user.deactivated": _l("User deactivated"),
    "user.department_changed": _l("User's department changed"),
    "user.locked": _l("User locked"),
    "user.logged_in": _l("Logged in"),
    "user.logged_out": _l("Logged out"),
    "user.login_failed": _l("Login failed"),
    "user.password_changed": _l("Password changed"),
    "user.password_reset": _l("Password reset"),
    "user.sessions_ended": _l("Sessions ended"),
    "user.throttled": _l("Logins throttled"),
    "user.token_issued": _l("Personal token issued"),
    "user.totp_enabled": _l("Two-factor login enabled"),
    "user.unlock_requested": _l("Unlock requested"),
    "user.unlocked": _l("User unlocked"),
}

# The audit desk's anomaly rules (archive/compliance/alerts.py DEFAULT_RULES).
ALERT_RULE_LABELS = {
    "mass_access": _l("Mass access"),
    "after_hours": _l("Access after hours"),
    "repeated_denials": _l("Repeated denials"),
    "repeated_lookups": _l("Repeated ID or phone lookups"),
    "secret_access": _l("Access to secret records"),
    "new_address": _l("Login from a new address"),
    "failed_verification": _l("Audit chain verification failed"),
}


def event_label(code: str) -> str:
    """An audit event type's label, or the code itself for one no feature declares any more."""
    found = EVENT_LABELS.get(code)
    return str(found) if found is not None else code


def alert_rule_label(code: str) -> str:
    found = ALERT_RULE_LABELS.get(code)
    return str(found) if found is not None else code


def format_datetime(value: datetime | None, seconds: bool = False) -> str:
    """A moment as `YYYY-MM-DD HH:MM[:SS]` UTC (a naive value is UTC already); "—" for none."""
    if value is None:
        return "—"
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def format_date(value: date | datetime | None) -> str:
    """A day as `YYYY-MM-DD` (a moment: its UTC day); "—" for none."""
    if value is None:
        return "—"
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d")
