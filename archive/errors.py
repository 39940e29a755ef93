"""Domain errors. Each message is fit to show the person who caused it."""


class ArchiveError(Exception):
    """Base class of every domain error."""


class ConfigurationError(ArchiveError):
    """A setting is missing or malformed; the message names the setting."""


class ValidationError(ArchiveError):
    """Input breaks a domain rule (bad ID number, unknown type, ...)."""


class NotFoundError(ArchiveError):
    """The requested record does not exist (or the actor may not know it exists)."""


class DuplicateDocumentError(ArchiveError):
    """The same content was already captured for this customer."""

    def __init__(self, message: str, existing_document_id: int) -> None:
        super().__init__(message)
        self.existing_document_id = existing_document_id


class AuthenticationError(ArchiveError):
    """Wrong credentials, locked or disabled account."""


class AccessDenied(ArchiveError):
    """The access policy refused an action."""

    def __init__(self, permission: str, reason: str = "") -> None:
        super().__init__(f"access denied: {permission}" + (f" ({reason})" if reason else ""))
        self.permission = permission
        self.reason = reason


class DocumentShreddedError(NotFoundError):
    """The document's data key was destroyed: its content can never be read again (metadata remains)."""

    def __init__(self, document_id: int, archive_code: str = "") -> None:
        label = f"{archive_code} (document {document_id})" if archive_code else f"document {document_id}"
        super().__init__(f"{label} was shredded: its content is destroyed and cannot be read")
        self.document_id = document_id


class KeyManagementError(ArchiveError):
    """Master keys cannot be rotated, re-wrapped or retired as asked; the message says what to do."""


class RecordHeldError(ArchiveError):
    """A legal hold (or another disposition guard) keeps the record from destruction or deletion."""

    def __init__(self, document_id: int, archive_code: str = "") -> None:
        label = f"{archive_code} (document {document_id})" if archive_code else f"document {document_id}"
        super().__init__(f"{label} is on hold: it cannot be destroyed or deleted until the hold is released")
        self.document_id = document_id
