"""Object-store contract and value types shared by every backend."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import BinaryIO, Protocol, runtime_checkable


class StorageError(Exception):
    """Base class for storage failures."""


class ObjectNotFoundError(StorageError):
    """The requested object does not exist."""


class StorageUnavailableError(StorageError):
    """The backend cannot be reached or refuses our credentials."""


class DecryptionError(StorageError):
    """Ciphertext failed authentication: corrupted, truncated, reordered or wrong key."""


class KeyUnavailableError(DecryptionError):
    """The master key a value was protected with is retired or unknown to this keyring."""


@dataclass(frozen=True)
class ObjectInfo:
    """One listed object. `modified` (UTC) is when it was last written, None if the backend cannot tell;
    it is left out of equality so listings compare by key and size."""

    key: str
    size: int
    modified: datetime | None = field(default=None, compare=False)


class ObjectStore(Protocol):
    """A flat namespace of immutable byte objects.

    `put` streams from a file-like object and is atomic: a reader sees the whole object or none;
    putting an existing key replaces it. `open` returns a readable stream (caller closes it) and
    raises ObjectNotFoundError. `delete` is idempotent. Backends raise StorageUnavailableError
    when they cannot be reached.
    """

    def put(self, key: str, source: BinaryIO) -> int: ...

    def open(self, key: str) -> BinaryIO: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]: ...


@runtime_checkable
class IncompleteWrites(Protocol):
    """A store where a put killed mid-way leaves an invisible leftover (never listed, never opened).

    `discard_incomplete_writes` removes leftovers under `prefix` last touched more than `older_than`
    ago and returns their names; a put still in progress is younger than any sensible grace period.
    """

    def discard_incomplete_writes(self, prefix: str, older_than: timedelta) -> list[str]: ...
