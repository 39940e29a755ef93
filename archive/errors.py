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
