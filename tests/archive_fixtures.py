"""Fixtures that build a real archive (SQLite or the suite's PostgreSQL) with departments and people."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from archive.actors import OPERATOR, Actor
from archive.bootstrap import Archive
from archive.config import load_settings
from archive.models import AuditEvent
from archive.services import reference, users

PEOPLE = {
    # username: (role, department, clearance)
    "clerk": ("clerk", "YX", "confidential"),
    "staff": ("staff", "YX", "internal"),
    "staff_secret": ("staff", "YX", "secret"),
    "staff_kf": ("staff", "KF", "secret"),
    "approver": ("approver", "YX", "secret"),
    "auditor": ("auditor", None, "public"),
    "admin": ("sysadmin", None, "secret"),
}
PASSWORD = "correct horse battery"


def build_archive(home: Path, database_url: str | None = None, extra_env: dict[str, str] | None = None) -> Archive:
    env = {"ARCHIVE_HOME": str(home), **(extra_env or {})}
    if database_url:
        env["ARCHIVE_DATABASE_URL"] = database_url
    archive = Archive(load_settings(env))
    archive.migrate()
    reference.seed_reference_data(archive.uow())
    for code, name in (("YX", "营销部"), ("KF", "客户服务中心")):
        reference.ensure_department(archive.uow(), actor=OPERATOR, code=code, name=name)
    for username, (role, department, clearance) in PEOPLE.items():
        users.create_user(archive.uow(), actor=OPERATOR, username=username, password=PASSWORD, role=role,
                          department=department, clearance=clearance)
    return archive


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def archive(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Archive]:
    """A fresh archive on SQLite, and again on the suite's real PostgreSQL server."""
    url = None
    server = None
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        name = f"a_{uuid.uuid4().hex[:16]}"
        url = server.create_database(name)
    instance = build_archive(tmp_path / "home", url)
    yield instance
    instance.close()
    if server is not None:
        server.drop_database(name)


@pytest.fixture
def mail(archive: Archive, smtp):  # noqa: ANN001, ANN201 - the archive sends through the suite's SMTP server
    """The archive configured to send through a real SMTP server; what that server received."""
    port, mailbox = smtp
    archive.settings = archive.settings.with_overrides(smtp_host="127.0.0.1", smtp_port=port)
    archive.__dict__.pop("mailer", None)
    return mailbox


@pytest.fixture
def people(archive: Archive) -> dict[str, Actor]:
    return {name: users.resolve_actor(archive.uow(), username=name, remote_addr="127.0.0.1") for name in PEOPLE}


def audit_rows(archive: Archive, event_type: str) -> list[SimpleNamespace]:
    """The audit events of one type, oldest first, as plain values."""
    with archive.uow() as uow:
        query = select(AuditEvent).where(AuditEvent.event_type == event_type).order_by(AuditEvent.id)
        columns = AuditEvent.__table__.columns.keys()
        return [SimpleNamespace(**{c: getattr(e, c) for c in columns}) for e in uow.session.scalars(query)]


def captured(archive: Archive, clerk: Actor, tmp_path: Path, name: str, *, level: str | None = None,  # noqa: PLR0913
             customer: str = "11010519491231002X", document_type: str = "supply_contract",
             dossier: str | None = None, text: str = "") -> SimpleNamespace:
    """Capture a generated scan, mark its OCR done with `text` (OCR is not what such tests are about)
    and index it; its id and archive code."""
    from archive.capture.services import CaptureRequest, capture_document
    from archive.demo.samples import write_scan
    from archive.models import Document
    from archive.services import indexing

    text = text or f"{name} 供用电合同 增容"
    path = write_scan(tmp_path / f"{name}.png", [text], format="PNG", dpi=100)
    result = capture_document(archive.uow(), actor=clerk, request=CaptureRequest(
        path=path, filename=path.name, customer=customer, customer_name="张伟", document_type=document_type,
        classification=level, dossier=dossier))
    with archive.uow() as uow:
        document = uow.session.get(Document, result.document_id)
        for page in document.pages:
            page.ocr_status, page.ocr_text = "done", text
        document.refresh_status()
        indexing.queue_reindex(uow, document.id)
        uow.commit()
    indexing.drain_outbox(archive.uow())
    return SimpleNamespace(id=result.document_id, code=result.archive_code)


def column_names(archive: Archive, table: str) -> set[str]:
    """The columns the archive's database has in table now (to check a migration went down or up)."""
    from sqlalchemy import inspect

    with archive.engine.connect() as connection:
        return {column["name"] for column in inspect(connection).get_columns(table)}


def downgrade(archive: Archive, revision: str) -> None:
    """Migrate the archive's database down to revision (archive.migrate() brings it back up)."""
    from alembic import command
    from alembic.config import Config

    from archive.bootstrap import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with archive.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
