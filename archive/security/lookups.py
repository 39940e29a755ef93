"""Exact ID-number and phone lookups are not an oracle (ASVS 8.3.1, 11.1.4, 7.1.1).

Only users who may see PII may look a number up; anyone else gets a clear refusal and the attempt is
audited. Lookups are rate-limited per user. Each lookup is audited as a keyed hash of the number (a
key of its own, not the search index's), so an auditor sees the same number tried again and again
while the trail never holds the number itself.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from archive import audit
from archive.actors import Actor
from archive.config import Settings
from archive.errors import ArchiveError
from archive.permissions import permission_pii_view
from archive.pii import lookup_hash
from archive.security import throttle
from archive.security.events import (
    event_identifier_lookup,
    event_identifier_lookup_refused,
    event_rate_limited,
)
from archive.security.limits import WINDOW, RateLimitedError
from storage.envelope import Keyring


class IdentifierLookupDeniedError(ArchiveError):
    """The user may not look up ID or phone numbers."""

    def __init__(self) -> None:
        super().__init__("您无权按身份证号或手机号查询 / you may not look up ID or phone numbers; "
                         "search by name, archive code or words instead")


def audit_hash(value: str, keyring: Keyring) -> str:
    """The keyed hash the audit trail records for a looked-up number (domain-separated from the index)."""
    return lookup_hash(f"audit-lookup|{value}", keyring)[:32]


def guard_identifier_lookup(session: Session, settings: Settings, keyring: Keyring, actor: Actor,
                            identifiers: list[str]) -> bool:
    """Check and record a lookup of these numbers. Return True to go on; False when refused, after the
    refusal was recorded (the caller commits, then raises `refusal(...)`)."""
    hashes = [audit_hash(value, keyring) for value in identifiers]
    kinds = ["phone" if len(v) == 11 else "id_number" for v in identifiers]
    if permission_pii_view not in actor.permissions:
        audit.record(session, actor, event_identifier_lookup_refused, outcome="denied", hashes=hashes, kinds=kinds)
        return False
    who = actor.user_id if actor.user_id is not None else actor.username
    if not throttle.hit(session, f"rate:lookup:{who}", limit=settings.lookup_rate_per_hour, window=WINDOW):
        audit.record(session, actor, event_rate_limited, outcome="denied", action="lookup",
                     limit=settings.lookup_rate_per_hour, hashes=hashes)
        return False
    audit.record(session, actor, event_identifier_lookup, hashes=hashes, kinds=kinds)
    return True


def refusal(actor: Actor, settings: Settings) -> ArchiveError:
    if permission_pii_view not in actor.permissions:
        return IdentifierLookupDeniedError()
    return RateLimitedError("lookup", settings.lookup_rate_per_hour)
