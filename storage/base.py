"""Object-store contract and value types shared by every backend."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol


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
    key: str
    size: int


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
