"""Who acts: a frozen snapshot of a user (or a named system actor) taken at the start of a request."""

from __future__ import annotations

from dataclasses import dataclass, field

from archive.permissions import ROLE_PERMISSIONS


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    role: str
    department_id: int | None = None
    department_code: str = ""
    clearance: str = "public"
    visible_classifications: frozenset[str] = frozenset()  # every level at or below the clearance
    granted_document_ids: frozenset[int] = frozenset()
    remote_addr: str = ""
    extra_permissions: frozenset[str] = field(default_factory=frozenset)
    must_change_password: bool = False  # an administrator set the password: only changing it is allowed
    must_enrol_totp: bool = False  # the role needs a TOTP second factor (ARCHIVE_TOTP_REQUIRED_ROLES) it lacks

    @property
    def permissions(self) -> frozenset[str]:
        if self.must_change_password or self.must_enrol_totp:  # nothing opens until the account is in order
            return frozenset()
        return ROLE_PERMISSIONS.get(self.role, frozenset()) | self.extra_permissions

    @classmethod
    def system(cls, name: str, permissions: frozenset[str] = frozenset()) -> Actor:
        """A named non-human actor (worker, init) so the audit trail says who acted."""
        return cls(user_id=None, username=f"system:{name}", role="system", extra_permissions=permissions)

    def at(self, remote_addr: str) -> Actor:
        from dataclasses import replace

        return replace(self, remote_addr=remote_addr)
