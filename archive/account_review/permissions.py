"""The account review's permissions."""

from __future__ import annotations

from archive.actors import Actor
from archive.roles import SECURITY_ADMIN

permission_account_review = "account.review"  # see unused and changed accounts, run and sign off a review
permission_account_disable_inactive = "account.disable_inactive"  # held by no role: the daily job's actor

GRANTS: dict[str, frozenset[str]] = {SECURITY_ADMIN: frozenset({permission_account_review})}

# The daily auto-disable job acts as this named system actor, so the trail says who disabled an account.
INACTIVITY_ACTOR = Actor.system("account-inactivity", frozenset({permission_account_disable_inactive}))
