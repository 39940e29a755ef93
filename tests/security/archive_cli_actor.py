"""The operator's re-redaction actor, as the CLI uses it."""

from archive.actors import REDACTOR

__all__ = ["REDACTOR"]
