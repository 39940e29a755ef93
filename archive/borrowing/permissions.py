"""Borrowing's permissions and the roles that hold them by default."""

from __future__ import annotations

from archive.actors import Actor
from archive.roles import APPROVER, CLERK, LEADER, RECORDS_MANAGER, SECURITY_ADMIN, STAFF

permission_borrow_request = "borrow.request"  # ask to borrow documents, a dossier or a customer's file
permission_borrow_approve = "borrow.approve"  # decide a step of a request one's capacity is asked for
permission_borrow_revoke = "borrow.revoke"  # end a running grant early (an approver of it, the security admin)
permission_loan_manage = "borrow.loan_manage"  # the archive room: lend and take back paper originals
permission_chain_manage = "borrow.chain_manage"  # set the approval chains (the security administrator)

GRANTS: dict[str, frozenset[str]] = {
    CLERK: frozenset({permission_borrow_request}),
    STAFF: frozenset({permission_borrow_request}),
    APPROVER: frozenset({permission_borrow_request, permission_borrow_approve, permission_borrow_revoke}),
    RECORDS_MANAGER: frozenset({permission_borrow_request, permission_borrow_approve, permission_borrow_revoke,
                                permission_loan_manage}),
    LEADER: frozenset({permission_borrow_request, permission_borrow_approve, permission_borrow_revoke}),
    SECURITY_ADMIN: frozenset({permission_borrow_revoke, permission_chain_manage}),
}

# The hourly job (grant expiry, escalation) and the daily reminders act as this named system actor.
BORROW_ACTOR = Actor.system("borrowing", frozenset({permission_borrow_revoke}))
