"""Audit event types that retention records (none yet)."""
