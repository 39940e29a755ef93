"""Who acts: a frozen snapshot of a user (or a named system actor) taken at the start of a request,
and every named system actor, so the audit trail always says who acted."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from archive import registry
from archive.permissions import (
    permission_document_view,
    permission_integrity_verify,
    permission_keys_manage,
    permission_reference_manage,
    permission_text_reredact,
    permission_user_manage,
)


@dataclass(frozen=True)
class DocumentGrant:
    """A time-boxed right to documents from an approved borrow request (archive.borrowing)."""

    document_ids: frozenset[int]
    grant_id: int
    request_number: str
    purpose: str
    permissions: frozenset[str]  # document.view, and document.download for the download mode
    expires_at: datetime
    borrower: str = ""  # the borrower's name, for the visible watermark


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    role: str
    department_id: int | None = None
    department_code: str = ""
    clearance: str = "public"
    visible_classifications: frozenset[str] = frozenset()  # every level at or below the clearance
    grants: tuple[DocumentGrant, ...] = ()  # active when the actor was resolved, on the archive's clock
    remote_addr: str = ""
    extra_permissions: frozenset[str] = field(default_factory=frozenset)
    must_change_password: bool = False  # an administrator set the password: only changing it is allowed
    api_token_id: int | None = None  # the personal API token this request came with (archive/api_tokens)
    must_enrol_totp: bool = False  # the role needs a TOTP second factor (ARCHIVE_TOTP_REQUIRED_ROLES) it lacks

    @property
    def permissions(self) -> frozenset[str]:
        if self.must_change_password or self.must_enrol_totp:  # nothing opens until the account is in order
            return frozenset()
        return registry.role_permissions().get(self.role, frozenset()) | self.extra_permissions

    @property
    def granted_document_ids(self) -> frozenset[int]:
        return self.lent(permission_document_view)

    def lent(self, permission: str) -> frozenset[int]:
        """Every document a running grant opens to this permission."""
        return frozenset().union(*(g.document_ids for g in self.grants if permission in g.permissions))

    def grant_for(self, document_id: int, permission: str | None = None) -> DocumentGrant | None:
        """The grant that lends the document (for the permission, when one is named)."""
        return next((g for g in self.grants if document_id in g.document_ids
                     and (permission is None or permission in g.permissions)), None)

    @classmethod
    def system(cls, name: str, permissions: frozenset[str] = frozenset()) -> Actor:
        """A named non-human actor (worker, init) so the audit trail says who acted."""
        return cls(user_id=None, username=f"system:{name}", role="system", extra_permissions=permissions)

    def at(self, remote_addr: str) -> Actor:
        return replace(self, remote_addr=remote_addr)


# Operator commands run on the server host (`archive init`, `user add`, `keys rotate`, ...).
OPERATOR = Actor.system("cli", frozenset({permission_user_manage, permission_reference_manage,
                                          permission_keys_manage}))
VERIFIER = Actor.system("cli-verify", frozenset({permission_integrity_verify}))  # `archive verify`, `sweep`
FIXITY_ACTOR = Actor.system("fixity", frozenset({permission_integrity_verify}))  # the daily fixity job
OCR_ACTOR = Actor.system("ocr")  # who the audit trail names for a failed recognition
REDACTOR = Actor.system("cli-reredact", frozenset({permission_text_reredact}))  # `archive reredact`
