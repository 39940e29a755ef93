"""Small helpers every blueprint uses: the archive, the actor, labels in the reader's language."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from flask import Blueprint, current_app, g, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from archive import access
from archive.actors import Actor
from archive.bootstrap import Archive
from archive.services import reference
from archive.unit_of_work import UnitOfWork

CHUNK = 64 * 1024


class WebUser:
    """What Flask-Login keeps for a request: the Actor snapshot taken for it."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    def get_id(self) -> str:
        return str(self.actor.user_id)


def get_archive() -> Archive:
    return current_app.extensions["archive"]


def new_uow() -> UnitOfWork:
    """A fresh unit of work for one service call."""
    return get_archive().uow()


def current_actor() -> Actor:
    return current_user.actor


def may(permission: str) -> bool:
    """Whether to offer an entry; the service still decides when it is used."""
    return current_user.is_authenticated and access.allows(current_actor(), permission)


def wants_json() -> bool:
    if request.blueprint == "api" or request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def require_login(bp: Blueprint) -> None:
    """Every view of the blueprint needs a logged-in user."""

    @bp.before_request
    @login_required
    def _logged_in() -> ResponseReturnValue | None:
        return None


def in_locale(name_zh: str, name_en: str) -> str:
    return name_en if str(get_locale()) == "en" else name_zh


def document_type_names() -> dict[str, str]:
    if "document_type_names" not in g:
        g.document_type_names = {
            t.code: in_locale(t.name_zh, t.name_en) for t in reference.list_document_types(new_uow())
        }
    return g.document_type_names


def classification_names() -> dict[str, str]:
    if "classification_names" not in g:
        g.classification_names = {
            code: in_locale(zh, en) for code, zh, en in reference.list_classifications(new_uow())
        }
    return g.classification_names


def stream_chunks(stream: BinaryIO) -> Iterator[bytes]:
    """Yield a (decrypting) stream in chunks and close it at the end, even if the client goes away."""
    try:
        while chunk := stream.read(CHUNK):
            yield chunk
    finally:
        stream.close()


ROLE_LABELS = {
    "clerk": _l("Archive clerk"),
    "staff": _l("Business staff"),
    "approver": _l("Approver"),
    "auditor": _l("Auditor"),
    "sysadmin": _l("System administrator"),
    "records_manager": _l("Records manager"),
    "appraiser": _l("Appraiser"),
    "leader": _l("Leader"),
    "security_admin": _l("Security administrator"),
}
STATUS_LABELS = {
    "processing": _l("Processing"),
    "ready": _l("Ready"),
    "failed": _l("Failed"),
    "shredded": _l("Shredded"),
    "pending": _l("Pending"),
    "done": _l("Done"),
    "normal": _l("Normal"),
    "abnormal": _l("Abnormal"),
    "ok": _l("OK"),
    "denied": _l("Denied"),
    "individual": _l("Individual"),
    "organisation": _l("Organisation"),
    "original": _l("Original"),
    "copy": _l("Copy"),
    "permanent": _l("Permanent"),
    "30y": _l("30 years"),
    "10y": _l("10 years"),
    # retention: batch states, decisions and outcomes, triggers, actions, hold types and targets
    "appraising": _l("Being appraised"),
    "appraised": _l("Appraised"),
    "approved": _l("Approved"),
    "destroying": _l("Being destroyed"),
    "destroy": _l("Destroy"),
    "extend": _l("Extend"),
    "transfer": _l("Transfer"),
    "review": _l("Review"),
    "destroyed": _l("Destroyed"),
    "extended": _l("Extended"),
    "held": _l("Kept by a hold"),
    "filing_date": _l("Filing date"),
    "document_date": _l("Document date"),
    "event": _l("Event"),
    "litigation": _l("Litigation"),
    "regulator_inspection": _l("Regulator inspection"),
    "internal_audit": _l("Internal audit"),
    "other": _l("Other"),
    "customer": _l("Customer"),
    "dossier": _l("Dossier"),
    "document": _l("Document"),
    # borrowing: request states, modes, step capacities and rules, how a grant ended
    "rejected": _l("Rejected"),
    "expired": _l("Expired"),
    "returned": _l("Returned"),
    "revoked": _l("Revoked"),
    "view": _l("View online"),
    "download": _l("Download"),
    "department_head": _l("Department head"),
    "archive_manager": _l("Archive manager"),
    "any": _l("Any one of them"),
    "all": _l("All of them"),
    # customers: kinds of identity key; document metadata fields as the edit history names them
    "resident_id": _l("Resident ID number"),
    "uscc": _l("Unified social credit code"),
    "title": _l("Title"),
    "document_type": _l("Document type"),
    "original_or_copy": _l("Original or copy"),
    "box": _l("Box"),
    "shelf": _l("Shelf"),
    "work_order": _l("Work order"),
    "business_step": _l("Business step"),
}
# A stored code whose label differs by what it names (the paper original lent vs. an original document).
MODE_LABELS = {"original": _l("Paper original (lent)")}


def label(value: str) -> str:
    """A translated label for a stored code, or the code itself."""
    found = STATUS_LABELS.get(value) or ROLE_LABELS.get(value)
    return str(found) if found is not None else value


def mode_label(value: str) -> str:
    """A borrowing mode (view, download, original) in the reader's language."""
    found = MODE_LABELS.get(value)
    return str(found) if found is not None else label(value)
