"""The home page: one dashboard whose panels follow what the user may do.

Each panel is offered when the access policy allows its permission and filled by the service that
owns the data (which checks again). The three administrators' panels (三员分立) hold counts, accounts
and audit entries, never a document title or a customer.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from archive import permissions
from archive.borrowing import services as borrowing
from archive.borrowing.permissions import permission_borrow_approve, permission_borrow_request
from archive.capture.permissions import permission_document_capture, permission_page_rescan
from archive.capture.services import list_capture_queue, list_rescan_pages
from archive.compliance import alerts, desk
from archive.saved_searches.services import list_saved_searches
from archive.services import accounts, classification, customers, documents, users
from web.support import current_actor, may, new_uow

PANEL_SIZE = 8
OPEN_BORROWINGS = ("pending", "approved")


def index() -> ResponseReturnValue:
    """The user's home page; the login page for a visitor."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render_template("home/index.html", panels=panels())


def panels() -> dict[str, Any]:
    """What each panel shows, for the panels the user's role is offered."""
    actor, found = current_actor(), {}
    if may(permission_document_capture):
        found["capture_queue"] = list_capture_queue(new_uow(), actor=actor, limit=PANEL_SIZE)
    if may(permission_page_rescan):
        found["rescan"] = list_rescan_pages(new_uow(), actor=actor, limit=PANEL_SIZE)
    if may(permissions.permission_customer_register):  # who registers customers fills their files' gaps
        found["gaps"] = customers.list_customers_missing_documents(new_uow(), actor=actor, limit=PANEL_SIZE)
    if may(permissions.permission_document_view):
        found["recent"] = documents.list_recent_documents(new_uow(), actor=actor, limit=PANEL_SIZE)
    if may(permissions.permission_document_search):
        found["saved_searches"] = list_saved_searches(new_uow(), actor=actor)
    if may(permission_borrow_request):
        mine = borrowing.list_requests(new_uow(), actor=actor, which="mine")
        found["borrowings"] = [r for r in mine if r.status in OPEN_BORROWINGS][:PANEL_SIZE]
    if may(permission_borrow_approve):
        found["borrow_decisions"] = borrowing.list_requests(new_uow(), actor=actor, which="to_approve",
                                                            limit=PANEL_SIZE)
    if may(permissions.permission_classification_approve):  # a count only: targets name records
        found["classification_pending"] = len(classification.list_changes(new_uow(), actor=actor))
    if may(permissions.permission_audit_view):
        found["alerts"] = alerts.list_alerts(new_uow(), actor=actor, limit=PANEL_SIZE)
        found["denials"] = desk.search_trail(new_uow(), actor=actor, filters=desk.DeskFilters(outcome="denied"),
                                             limit=PANEL_SIZE).events
    if may(permissions.permission_user_manage):
        listed = users.list_users(new_uow(), actor=actor)
        found["users"] = {"total": len(listed), "inactive": sum(not u.active for u in listed)}
    if may(permissions.permission_account_change_approve):
        found["account_changes"] = len(accounts.list_change_requests(new_uow(), actor=actor))
    found["reference"] = may(permissions.permission_reference_manage)
    return found
