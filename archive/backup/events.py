"""Audit event types of backups."""

event_backup_created = "backup.created"  # a snapshot written: its name, objects copied and skipped, bytes
event_backup_restored = "backup.restored"  # recorded in the restored archive: which snapshot, objects, index
event_backup_verified = "backup.verified"  # a restore drill; outcome "failed" with the problems counted
event_backup_pruned = "backup.pruned"  # old snapshots removed, and the objects no kept snapshot lists
