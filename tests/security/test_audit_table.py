"""Item 4 (ASVS 7.3.3, 7.3.4): the application's database role cannot change the audit trail."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from archive_fixtures import build_archive
from sqlalchemy import text

from archive.bootstrap import MIGRATIONS


def _alembic(archive, action: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with archive.engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def _first_event(engine: sa.Engine) -> tuple[int, str]:
    with engine.connect() as connection:
        return tuple(connection.execute(text("SELECT id, event_type FROM audit_event ORDER BY id LIMIT 1")).one())


def test_sqlite_refuses_insert_or_replace_over_an_audit_row(web_archive) -> None:
    event_id, event_type = _first_event(web_archive.engine)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), web_archive.engine.begin() as connection:
        connection.execute(text(
            "INSERT OR REPLACE INTO audit_event (id, occurred_at, actor_name, event_type, target_type, "
            "target_id, outcome, remote_addr, detail) VALUES (:id, '2020-01-01', 'x', 'forged', '', '', 'ok', '', '{}')"
        ), {"id": event_id})
    for statement in ("UPDATE audit_event SET event_type = 'forged'", "DELETE FROM audit_event"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), web_archive.engine.begin() as connection:
            connection.execute(text(statement))
    assert _first_event(web_archive.engine) == (event_id, event_type)


def test_migration_0004_goes_down_and_up_again(archive) -> None:
    """On SQLite and PostgreSQL alike (the `archive` fixture runs on both)."""
    _alembic(archive, "downgrade", "0003")
    with archive.engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
    assert "web_session" not in tables and "security_counter" not in tables
    archive.migrate()
    with archive.engine.connect() as connection:
        inspector = sa.inspect(connection)
        assert {"web_session", "security_counter", "account_change_request"} <= set(inspector.get_table_names())
        assert "must_change_password" in {c["name"] for c in inspector.get_columns("user_account")}


@pytest.mark.postgres
def test_the_app_role_may_only_insert_and_read_the_audit_trail(postgres_server, tmp_path) -> None:
    database, role = f"r_{uuid.uuid4().hex[:12]}", f"app_{uuid.uuid4().hex[:12]}"
    owner_url = postgres_server.create_database(database)
    with postgres_server.connect() as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
    app_url = owner_url.replace(f"://{owner_url.split('://')[1].split('@')[0]}@", f"://{role}@")
    env = {"ARCHIVE_MIGRATION_DATABASE_URL": owner_url, "ARCHIVE_DATABASE_APP_ROLE": role}
    try:
        archive = build_archive(tmp_path / "home", app_url, env)
        try:
            engine = archive.engine
            with engine.begin() as connection:  # the app writes and reads the trail as usual
                assert connection.execute(text("SELECT current_user")).scalar() == role
                connection.execute(text(
                    "INSERT INTO audit_event (occurred_at, actor_name, event_type, target_type, target_id, outcome,"
                    " remote_addr, detail) VALUES (now(), 'app', 'test.inserted', '', '', 'ok', '', '{}')"))
            before = _first_event(engine)
            for statement in (
                "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only",
                "ALTER TABLE audit_event ADD COLUMN forged text",
                "DROP TRIGGER audit_event_append_only ON audit_event",
                "DROP TABLE audit_event",
                "UPDATE audit_event SET event_type = 'forged'",
                "DELETE FROM audit_event",
                "TRUNCATE audit_event",
                "UPDATE alembic_version SET version_num = '0001'",
            ):
                with pytest.raises(sa.exc.ProgrammingError, match="permission denied|must be owner"), \
                        engine.begin() as connection:
                    connection.execute(text(statement))
            assert _first_event(engine) == before
            from archive.services import users

            assert users.resolve_actor(archive.uow(), username="clerk").role == "clerk"  # the app still works
        finally:
            archive.close()
    finally:
        postgres_server.drop_database(database)
        with postgres_server.connect() as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')

