"""The Protocols that adapters and other packages implement for the archive.

Services see adapters only through these (and the unit of work hands them out); bootstrap builds the
concrete ones from configuration. The object store and search index contracts are the adapters' own
(`storage.base.ObjectStore`, `search.base.SearchIndex`); the rest are the archive's.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from PIL import Image
from sqlalchemy.orm import Session

from ocr.base import RecognizedText
from search.base import SearchIndex
from storage.base import ObjectStore

if TYPE_CHECKING:
    from archive.views import FilingProblem

__all__ = ["Clock", "DispositionGuard", "FilingCheck", "Jobs", "NoHolds", "ObjectStore", "Recognizer", "SearchIndex",
           "FixedClock", "KeyHolder", "Lending", "Mailer", "SetClock", "SystemClock"]


class Clock(Protocol):
    """What time it is, for rules that count time (retention periods, grant expiry). Tests inject one
    that travels; nothing that waits sleeps through a period."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...

    def today(self) -> date: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().date()


class FixedClock:
    """A clock that says the day it is set to, at noon UTC: tests and benchmarks travel in time with it."""

    def __init__(self, day: date) -> None:
        self.day = day

    def now(self) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, 12, tzinfo=UTC)

    def today(self) -> date:
        return self.day


class SetClock:
    """A clock that says the instant it is set to (`advance` moves it): expiry to the second in tests."""

    def __init__(self, instant: datetime) -> None:
        self.instant = instant

    def advance(self, **delta: float) -> None:
        self.instant += timedelta(**delta)

    def now(self) -> datetime:
        return self.instant

    def today(self) -> date:
        return self.instant.date()


class Jobs(Protocol):
    """The background job queue. `enqueue` hands a registered task (by name) its arguments and returns
    at once; tasks are idempotent, so queueing one twice is harmless. Raises KeyError for a task no
    feature registered."""

    def enqueue(self, task: str, *args: Any) -> None: ...


class Recognizer(Protocol):
    """OCR of one page image: text, mean confidence and word boxes in the image's own pixels.
    Raises ocr.base.RecognitionError when recognition itself fails."""

    def recognize_page(self, image: Image.Image, dpi: int | None) -> RecognizedText: ...


class DispositionGuard(Protocol):
    """Whether records may leave the archive (destruction, deletion) or have their retention or
    classification lowered. Retention implements it with legal holds; it is asked inside the
    transaction that would act, so a hold placed a moment earlier wins."""

    def held(self, session: Session, document_ids: Collection[int]) -> set[int]:
        """The ids among document_ids that something (a hold) keeps from disposition."""
        ...


class KeyHolder(Protocol):
    """A feature's own rows holding data keys wrapped under master keys (retention's register snapshots),
    so that key rotation re-wraps them and never retires a master key they still need."""

    def uses(self, session: Session, key_id: str) -> bool:
        """Whether any row's data key is wrapped under master key key_id."""
        ...

    def rewrap(self, session: Session, rewrap: Any, active_key_id: str) -> int:
        """Re-wrap every row not under active_key_id with rewrap (storage.envelope.Keyring.rewrap: a
        WrappedKey in, a WrappedKey out); returns how many changed. The caller commits."""
        ...


class Mailer(Protocol):
    """Sends one plain-text message; raises OSError (smtplib.SMTPException) when the server refuses it."""

    def send(self, to: str, subject: str, body: str) -> None: ...


class Lending(Protocol):
    """Borrowing as the core asks it (archive.borrowing.lending): what is lent to whom, and the marks
    burned into what is served under a grant. Grants are archive.actors.DocumentGrant values."""

    def grants(self, session: Session, user_id: int, now: datetime) -> Iterable[Any]:
        """The documents lent to the user at this instant."""
        ...

    def borrowers(self, session: Session, document_ids: Collection[int], now: datetime) -> dict[int, tuple[int, ...]]:
        """For the search index: the users each document is lent to now."""
        ...

    def index_lag(self, session: Session, user_id: int, now: datetime,
                  lent: frozenset[int]) -> tuple[frozenset[int], frozenset[int]]:
        """(lent but not yet tagged with the user in the index, tagged but no longer lent)."""
        ...

    def page(self, image: Image.Image, grant: Any, actor: Any, keyring: Any) -> BinaryIO:
        """The page image (as it may be shown to the actor) as a marked PNG stream, keyed by the archive."""
        ...

    def pdf(self, images: Iterable[Image.Image], grant: Any, actor: Any, keyring: Any, out: BinaryIO) -> None:
        """A PDF of the marked page images, written to out page by page."""
        ...


class FilingCheck(Protocol):
    """A check a document must pass to be filed 归档 (compliance's four-property checks plug in here).
    Returns the problems found (archive.views.FilingProblem: a code for the UI, the sentence in English);
    none means it may be filed.
    It is called inside the filing's open unit of work (archive.unit_of_work.UnitOfWork: its session,
    store and keyring) with the person filing; what it writes commits with the filing."""

    def problems(self, uow: Any, document: Any, *, actor: Any) -> list[FilingProblem]: ...


class NoHolds:
    """The guard when no feature provides one: nothing is held."""

    def held(self, session: Session, document_ids: Collection[int]) -> set[int]:
        return set()
