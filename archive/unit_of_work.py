"""A unit of work: one database transaction plus the adapters services need.

It rolls back unless committed. An AccessDenied leaving it is audited in its own transaction, so
every denial is recorded whichever entry point (web, API, CLI, job) triggered it.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from archive import audit
from archive.errors import AccessDenied
from archive.events import event_access_denied

if TYPE_CHECKING:
    from archive.bootstrap import Archive
    from archive.jobs import JobQueue
    from search.base import SearchIndex
    from storage.envelope import EncryptedStore, Keyring


class UnitOfWork:
    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.settings = archive.settings
        self._session_factory: sessionmaker[Session] = archive.session_factory
        self._after_commit: list[Callable[[], None]] = []

    # Adapters are built lazily by bootstrap, on first use.
    @property
    def store(self) -> EncryptedStore:
        return self.archive.store

    @property
    def keyring(self) -> Keyring:
        return self.archive.keyring

    @property
    def index(self) -> SearchIndex:
        return self.archive.index

    @property
    def jobs(self) -> JobQueue:
        return self.archive.jobs

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
