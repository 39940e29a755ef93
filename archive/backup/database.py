"""A consistent copy of the database, and putting one back.

SQLite: the online backup API copies the live file in one step under its own read transaction (in WAL
mode writers carry on), so the copy is one moment's database. PostgreSQL: a REPEATABLE READ transaction
exports its snapshot and `pg_dump --snapshot` dumps exactly that moment (custom format), while the same
transaction reads which objects that moment's documents reference; `pg_restore` puts it back.
The password travels in PGPASSWORD, never on a command line.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, inspect, select, text
from sqlalchemy.engine import URL, make_url

from archive.errors import ValidationError
from archive.models import Document, Page, PageVersion
from archive.services.integrity import object_prefix

SQLITE_FILE = "database.sqlite"
PGDUMP_FILE = "database.pgdump"


class DatabaseCopyError(ValidationError):
    """pg_dump or pg_restore failed, or cannot be found."""


def kind_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValidationError(f"cannot back up the SQLite database {url!r}: not a file")
    return Path(database)


@dataclass(frozen=True)
class DatabaseCopy:
    file: str  # its name in the snapshot folder
    prefixes: set[str]  # object prefixes (`documents/<uuid>`) its documents not shredded reference
    key_ids: set[str]  # master keys their data keys are wrapped under


def _references(connection: Connection, file: str) -> DatabaseCopy:
    """What the database, as this connection sees it, needs besides itself: its objects and master keys."""
    prefixes: set[str] = set()
    key_ids: set[str] = set()
    for key, key_id in connection.execute(select(Document.object_key, Document.key_id).where(~Document.is_shredded)):
        prefixes.add(object_prefix(key))
        key_ids.add(key_id)
    for table in (Page, PageVersion):
        query = (select(table.object_key, table.text_object_key, table.words_object_key)
                 .join(Document, Document.id == table.document_id).where(~Document.is_shredded))
        for row in connection.execute(query):
            prefixes.update(object_prefix(key) for key in row if key)
    return DatabaseCopy(file, prefixes, key_ids)


def copy_database(engine: Engine, url: str, folder: Path) -> DatabaseCopy:
    """Copy the database into `folder`, and read from the copy's moment what it references."""
    if kind_of(url) == "sqlite":
        target = folder / SQLITE_FILE
        source = sqlite3.connect(sqlite_path(url), timeout=30)
        destination = sqlite3.connect(target)
        try:
            with destination:
                source.backup(destination)  # one step: a writer meanwhile cannot restart it
        finally:
            destination.close()
            source.close()
        os.chmod(target, 0o600)
        copy = create_engine(f"sqlite:///{target}")
        try:
            with copy.connect() as connection:
                return _references(connection, SQLITE_FILE)
        finally:
            copy.dispose()
    target = folder / PGDUMP_FILE
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
            _run(_client("pg_dump"), ["--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                                      f"--file={target}"], make_url(url))
            copied = _references(connection, PGDUMP_FILE)
    os.chmod(target, 0o600)
    return copied


def database_is_empty(engine: Engine) -> bool:
    return not inspect(engine).get_table_names()


def restore_database(url: str, dump: Path, *, clean: bool) -> None:
    """Put a copy back at `url`: the SQLite file replaced, or pg_restore into the (existing) database.

    With `clean`, what the PostgreSQL database holds is dropped first (restore --force)."""
    if kind_of(url) == "sqlite":
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = path.with_name(f".{path.name}.restore")
        shutil.copyfile(dump, temp)
        os.chmod(temp, 0o600)
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.replace(temp, path)
        return
    arguments = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    if clean:
        arguments += ["--clean", "--if-exists"]
    _run(_client("pg_restore"), [*arguments, str(dump)], make_url(url), database_option="--dbname")


def _client(name: str) -> str:
    """The PostgreSQL client program: on PATH, else the newest under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                      key=lambda p: int(re.sub(r"\D", "", Path(p).parent.parent.name) or 0))
    if not versions:
        raise DatabaseCopyError(f"{name} not found: install the PostgreSQL client programs (postgresql-client)")
    return versions[-1]


def _run(program: str, arguments: list[str], url: URL, *, database_option: str | None = None,
         runner: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run) -> None:
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    connection = [f"--host={url.host or 'localhost'}", f"--port={url.port or 5432}"]
    if url.username:
        connection.append(f"--username={url.username}")
    database = str(url.database or "")
    target = [f"{database_option}={database}"] if database_option else [database]
    result = runner([program, *connection, "--no-password", *arguments, *target], env=env, capture_output=True,
                    text=True, check=False)
    if result.returncode != 0:
        raise DatabaseCopyError(f"{Path(program).name} failed (exit {result.returncode}): "
                                f"{result.stderr.strip() or result.stdout.strip()}")
