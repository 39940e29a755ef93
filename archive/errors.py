"""Domain errors. Each message is fit to show the person who caused it.

Each error carries a stable snake_case `code` and its `params` so that an entry point can translate it;
the English message stays the default (CLI output, logs, and any code without a translation).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class ArchiveError(Exception):
    """Base class of every domain error: an English message, a stable code, its params and the field at fault."""

    default_code = "archive_error"

    def __init__(self, message: str = "", *, code: str | None = None, params: dict[str, Any] | None = None,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.code = code or self.default_code
        self.params: dict[str, Any] = dict(params or {})
        self.field = field


class ConfigurationError(ArchiveError):
    """A setting is missing or malformed; the message names the setting."""

    default_code = "configuration_error"


class ValidationError(ArchiveError):
    """Input breaks a domain rule (bad ID number, unknown type, ...)."""

    default_code = "invalid"


class NotFoundError(ArchiveError):
    """The requested record does not exist (or the actor may not know it exists)."""

    default_code = "not_found"


class DuplicateDocumentError(ArchiveError):
    """The same content was already captured for this customer."""

    default_code = "duplicate_document"

    def __init__(self, message: str, existing_document_id: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.existing_document_id = existing_document_id


class AuthenticationError(ArchiveError):
    """Wrong credentials, locked or disabled account."""

    default_code = "authentication_failed"


class AccessDenied(ArchiveError):
    """The access policy refused an action."""

    default_code = "access_denied"

    def __init__(self, permission: str, reason: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("params", {"permission": permission, "reason": reason})
        super().__init__(f"access denied: {permission}" + (f" ({reason})" if reason else ""), **kwargs)
        self.permission = permission
        self.reason = reason


class DocumentShreddedError(NotFoundError):
    """The document's data key was destroyed: its content can never be read again (metadata remains)."""

    def __init__(self, document_id: int, archive_code: str = "") -> None:
        label = f"{archive_code} (document {document_id})" if archive_code else f"document {document_id}"
        super().__init__(f"{label} was shredded: its content is destroyed and cannot be read",
                         code="document_shredded", params={"label": label})
        self.document_id = document_id


class PageImagePendingError(NotFoundError):
    """A captured PDF's page whose image no worker has rendered yet (or could render: the page failed)."""

    def __init__(self, number: int) -> None:
        super().__init__(f"the image of page {number} is not made yet: a worker renders it from the PDF",
                         code="page_image_pending", params={"page": number})


class KeyManagementError(ArchiveError):
    """Master keys cannot be rotated, re-wrapped or retired as asked; the message says what to do."""

    default_code = "key_management_error"


class RecordHeldError(ArchiveError):
    """A legal hold (or another disposition guard) keeps the record from destruction or deletion."""

    def __init__(self, document_id: int, archive_code: str = "") -> None:
        label = f"{archive_code} (document {document_id})" if archive_code else f"document {document_id}"
        super().__init__(f"{label} is on hold: it cannot be destroyed or deleted until the hold is released",
                         code="record_held", params={"label": label})
        self.document_id = document_id


def check_filter_value(field: str, value: str, allowed: Iterable[str]) -> None:
    """A list filter's value that is one of allowed (or empty: no filter), else a ValidationError naming it."""
    if value and value not in allowed:
        raise ValidationError(f"{field}: unknown value {value!r}", code="unknown_filter_value",
                              params={"field": field, "value": value}, field=field)
