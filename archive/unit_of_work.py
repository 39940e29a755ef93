"""A unit of work: one database transaction plus the adapters services need.

It rolls back unless committed. An AccessDenied leaving it is audited in its own transaction, so
every denial is recorded whichever entry point (web, API, CLI, job) triggered it.

Bootstrap hands it each adapter as a provider, called on first use, so a process builds only the
adapters its work needs (the web app never starts tesseract; `archive init` never opens the index).
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from archive import audit
from archive.config import Settings
from archive.errors import AccessDenied
from archive.events import event_access_denied
from archive.ports import Clock, DispositionGuard, Jobs, Mailer, ObjectStore, Recognizer, SearchIndex
from storage.envelope import EncryptedStore, Keyring

T = TypeVar("T")
Provider = Callable[[], T]


class UnitOfWork:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        settings: Settings,
        store: Provider[EncryptedStore],
        object_store: Provider[ObjectStore],
        keyring: Provider[Keyring],
        index: Provider[SearchIndex],
        jobs: Provider[Jobs],
        recognizer: Provider[Recognizer],
        disposition_guard: Provider[DispositionGuard],
        clock: Provider[Clock],
        mailer: Provider[Mailer | None] = lambda: None,
    ) -> None:
        self.settings = settings
        self._session_factory = session_factory
        self._store, self._object_store, self._keyring = store, object_store, keyring
        self._index, self._jobs, self._recognizer = index, jobs, recognizer
        self._disposition_guard, self._clock, self._mailer = disposition_guard, clock, mailer
        self._after_commit: list[Callable[[], None]] = []

    @property
    def store(self) -> EncryptedStore:
        """Encrypting object store: what services read and write documents through."""
        return self._store()

    @property
    def object_store(self) -> ObjectStore:
        """The raw object store under `store`, for listing and removing objects by key (fixity, sweep)."""
        return self._object_store()

    @property
    def keyring(self) -> Keyring:
        return self._keyring()

    @property
    def index(self) -> SearchIndex:
        return self._index()

    @property
    def jobs(self) -> Jobs:
        return self._jobs()

    @property
    def recognizer(self) -> Recognizer:
        return self._recognizer()

    @property
    def disposition_guard(self) -> DispositionGuard:
        return self._disposition_guard()

    @property
    def clock(self) -> Clock:
        return self._clock()

    @property
    def mailer(self) -> Mailer | None:
        """None when no SMTP server is configured: nothing is sent."""
        return self._mailer()

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        self._after_commit = []
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.session.rollback()
        self.session.close()
        if isinstance(exc, AccessDenied):
            self._audit_denial(exc)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run callback once the transaction has committed (queue jobs, index)."""
        self._after_commit.append(callback)

    def commit(self) -> None:
        self.session.commit()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def _audit_denial(self, error: AccessDenied) -> None:
        actor = getattr(error, "actor", None)
        if actor is None or getattr(error, "audited", False):
            return
        with self._session_factory() as session:
            audit.record(
                session,
                actor,
                event_access_denied,
                outcome="denied",
                target_type=getattr(error, "target_type", ""),
                target_id=getattr(error, "target_id", ""),
                permission=error.permission,
                reason=error.reason,
            )
            session.commit()
        error.audited = True  # type: ignore[attr-defined]
