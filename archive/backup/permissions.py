"""Permissions of backups and the operator's system actor that holds them.

Backing up copies every object and the database; restoring writes a whole archive. No role holds
either: only the operator's `archive backup ...` commands act with them, as `system:cli-backup`.
"""

from archive.actors import Actor
from archive.permissions import permission_audit_view, permission_integrity_verify

permission_backup_create = "backup.create"
permission_backup_restore = "backup.restore"

# `archive backup`, `restore` and the drill (which runs fixity and the audit verification on its copy).
BACKUP_OPERATOR = Actor.system("cli-backup", frozenset({permission_backup_create, permission_backup_restore,
                                                        permission_integrity_verify, permission_audit_view}))

__all__ = ["BACKUP_OPERATOR", "permission_backup_create", "permission_backup_restore"]
