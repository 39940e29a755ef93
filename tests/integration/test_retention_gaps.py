"""Retention's remaining parts: reminders for batches that wait, the register kept as a sealed record of
its own, transfer to another fonds with a handover package, a held record's classification, and the
migration that adds them (down and up, on SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from archive.bootstrap import MIGRATIONS, Archive

# --- the migration ------------------------------------------------------------------------------------


def _alembic() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _this_migration(config: Config):  # noqa: ANN202 - an alembic Script
    """The revision that adds register_snapshot, found by what it does: its id may be renumbered at merge."""
    (script,) = [s for s in ScriptDirectory.from_config(config).walk_revisions()
                 if "'register_snapshot'" in Path(s.path).read_text()]
    return script


def test_the_retention_migration_goes_down_and_up(archive: Archive):
    config = _alembic()
    script = _this_migration(config)
    with archive.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, script.down_revision)
    with archive.engine.connect() as connection:
        schema = inspect(connection)
        assert "register_snapshot" not in schema.get_table_names()
        assert "reminded_on" not in {c["name"] for c in schema.get_columns("appraisal_batch")}
        assert "to_fonds" not in {c["name"] for c in schema.get_columns("transfer")}
    archive.migrate()
    with archive.engine.connect() as connection:
        schema = inspect(connection)
        assert "register_snapshot" in schema.get_table_names()
        columns = {c["name"]: c for c in schema.get_columns("transfer")}
        assert columns["to_department_id"]["nullable"] and "received_signed_by" in columns
