"""The one place that builds engines, sessions and adapters from configuration."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from archive import access, registry
from archive.config import Settings, load_settings
from archive.jobs import JobQueue
from archive.ports import Clock, DispositionGuard, Mailer, NoHolds, Recognizer, SystemClock
from archive.unit_of_work import UnitOfWork
from search.base import SearchIndex
from storage.base import ObjectStore
from storage.envelope import EncryptedStore, Keyring

MIGRATIONS = Path(__file__).parent / "migrations"


def build_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def load_keyring(settings: Settings) -> Keyring:
    if settings.master_keys:
        return Keyring.from_env(settings.master_keys, settings.lookup_key)
    settings.key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return Keyring.load_or_create(settings.key_file)


def web_secret(settings: Settings) -> str:
    """The Flask session secret: ARCHIVE_SECRET_KEY, else a 0600 file under ARCHIVE_HOME."""
    if os.environ.get("ARCHIVE_SECRET_KEY"):
        return os.environ["ARCHIVE_SECRET_KEY"]
    path = settings.secret_key_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


class Archive:
    """Everything a process needs, built lazily so nothing connects at import or construction."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        access.check_separation(registry.role_permissions())  # 三员分立 holds over every feature's grants

    @cached_property
    def engine(self) -> Engine:
        if self.settings.database_url.startswith("sqlite"):
            self.settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        return build_engine(self.settings.database_url)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return sessionmaker(self.engine, expire_on_commit=False)

    @cached_property
    def keyring(self) -> Keyring:
        return load_keyring(self.settings)

    @cached_property
    def object_store(self) -> ObjectStore:
        if self.settings.storage == "s3":
            from storage.s3 import S3Store

            s = self.settings
            return S3Store(s.s3_endpoint, s.s3_access_key, s.s3_secret_key, s.s3_bucket, secure=s.s3_secure)
        from storage.filesystem import FilesystemStore

        self.settings.storage_path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return FilesystemStore(self.settings.storage_path)

    @cached_property
    def store(self) -> EncryptedStore:
        return EncryptedStore(self.object_store)

    @cached_property
    def index(self) -> SearchIndex:
        if self.settings.search == "elasticsearch":
            from search.elasticsearch_index import ElasticsearchIndex

            return ElasticsearchIndex(self.settings.elasticsearch_url)
        from search.tantivy_index import TantivyIndex

        return TantivyIndex(self.settings.index_path)

    @cached_property
    def recognizer(self) -> Recognizer:
        """The OCR pipeline (preparation, tesseract, word boxes in the stored image's coordinates)."""
        from ocr.pipeline import OcrPipeline
        from ocr.tesseract import TesseractRecognizer

        return OcrPipeline(TesseractRecognizer(languages=self.settings.ocr_languages))

    @cached_property
    def jobs(self) -> JobQueue:
        return self.job_queue()

    def job_queue(self, *, task_options: Mapping[str, Mapping[str, Any]] | None = None) -> JobQueue:
        """A job queue with every feature's tasks registered (task_options: see JobQueue)."""
        queue = JobQueue(self.settings, self.uow, task_options=task_options)
        for feature in registry.features():
            if feature.tasks is not None:
                feature.tasks(queue, queue.new_uow)
        return queue

    @cached_property
    def disposition_guard(self) -> DispositionGuard:
        """The guard a feature provides (retention's legal holds), or one that holds nothing."""
        guards = list(registry.disposition_guards())
        if len(guards) > 1:
            raise registry.RegistryError("more than one feature provides a disposition guard")
        return guards[0] if guards else NoHolds()

    @cached_property
    def mailer(self) -> Mailer | None:
        """The SMTP mailer when ARCHIVE_SMTP_HOST is set, else None."""
        if not self.settings.smtp_host:
            return None
        from archive.mail import SmtpMailer

        return SmtpMailer(self.settings.smtp_host, self.settings.smtp_port, self.settings.smtp_from)

    @cached_property
    def clock(self) -> Clock:
        """The system clock; tests put one that travels in its place."""
        return SystemClock()

    def uow(self) -> UnitOfWork:
        """A unit of work over this archive's database, handing out its adapters on first use."""
        return UnitOfWork(
            self.session_factory, settings=self.settings,
            store=lambda: self.store, object_store=lambda: self.object_store, keyring=lambda: self.keyring,
            index=lambda: self.index, jobs=lambda: self.jobs, recognizer=lambda: self.recognizer,
            disposition_guard=lambda: self.disposition_guard, clock=lambda: self.clock, mailer=lambda: self.mailer,
        )

    def migrate(self) -> None:
        """Migrate as the owner role when one is configured, then grant the app role its rights."""
        owner_url = self.settings.migration_database_url
        engine = build_engine(owner_url) if owner_url else self.engine
        try:
            migrate(engine)
            if self.settings.database_app_role:
                from archive.security.db_roles import grant_app_role

                with engine.begin() as connection:
                    grant_app_role(connection, self.settings.database_app_role)
        finally:
            if owner_url:
                engine.dispose()

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
