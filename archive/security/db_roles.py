"""The application's PostgreSQL role may add to the audit trail and read it, nothing more (ASVS 7.3.3).

Migrations run as the owner role (ARCHIVE_MIGRATION_DATABASE_URL); the app connects as another role
(ARCHIVE_DATABASE_URL, named by ARCHIVE_DATABASE_APP_ROLE) that owns nothing, so it cannot ALTER,
DISABLE TRIGGER, DROP or TRUNCATE, and holds only INSERT and SELECT on `audit_event` and the
destruction register. The grants are
applied after every migration, so tables added later are covered.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

# Insert and read only: the audit trail and the destruction register (retention), kept for ever.
APPEND_ONLY_TABLES = ("audit_event", "audit_checkpoint", "destruction_register")
READ_ONLY_TABLES = ("alembic_version",)


def grant_app_role(connection: Connection, role: str) -> None:
    """Give `role` the rights the app needs and no more (PostgreSQL only; run as the owner)."""
    if connection.dialect.name != "postgresql":
        return
    quoted = connection.dialect.identifier_preparer.quote(role)
    for statement in (
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"REVOKE INSERT, UPDATE, DELETE ON {', '.join(READ_ONLY_TABLES)} FROM {quoted}",
        f"REVOKE UPDATE, DELETE ON {', '.join(APPEND_ONLY_TABLES)} FROM {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
    ):
        connection.execute(text(statement))
