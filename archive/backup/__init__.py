"""Backups and the restore drill: a consistent database copy, the objects content-addressed and copied
once, a manifest with hashes, and the keyring sealed by a passphrase in a file kept apart.

`services` holds the use cases (back up, restore, the drill, prune), `layout` the backup directory and its
manifests, `database` the consistent copy of SQLite or PostgreSQL, `keyfile` the sealed keyring file.
"""
