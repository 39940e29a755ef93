"""The operator's re-redaction actor, as the CLI uses it."""

from archive.cli_security import REDACTOR

__all__ = ["REDACTOR"]
