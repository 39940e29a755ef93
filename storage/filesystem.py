"""Object store on a local directory: one file per object, written atomically."""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from storage.base import ObjectInfo, ObjectNotFoundError, StorageError, StorageUnavailableError

_CHUNK_SIZE = 1024 * 1024
_FILE_MODE = 0o600
_DIR_MODE = 0o700
# Temporary files are dot-files; keys may not contain dot-segments, so the two never collide.
_TEMP_PREFIX = ".tmp-"


def _validate_key(key: str, *, prefix: bool = False) -> list[str]:
    """Return the key's path segments; reject anything that could escape the root."""
    if not prefix and not key:
        raise ValueError("object key must not be empty")
    if "\x00" in key or "\\" in key or key.startswith("/"):
        raise ValueError(f"invalid object key {key!r}: absolute, backslash or NUL")
    segments = key.split("/")
    checked = segments[:-1] if prefix else segments
    for segment in checked:
        if segment in ("", ".", "..") or segment.startswith("."):
            raise ValueError(f"invalid object key {key!r}: empty, '.', '..' or dot-file segment")
    if prefix and segments[-1] in (".", ".."):
        raise ValueError(f"invalid prefix {key!r}")
    return segments


class FilesystemStore:
    """ObjectStore on a directory tree: key "documents/12/original" is file root/documents/12/original.

    Objects are files (mode 0600) in directories (mode 0700). A key cannot be both an object and a
    "directory" of other keys ("a" and "a/b"); putting the second raises StorageError.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*_validate_key(key))

    def _ensure_dir(self, directory: Path) -> None:
        """Create `directory` and missing parents, each with mode 0700."""
        missing = []
        current = directory
        while not current.is_dir():
            missing.append(current)
            if current.parent == current:
                break
            current = current.parent
        for path in reversed(missing):
            try:
                os.mkdir(path, _DIR_MODE)
            except FileExistsError:
                if not path.is_dir():
                    raise StorageError(f"cannot create directory {path}: a file is in the way") from None

    def put(self, key: str, source: BinaryIO) -> int:
        """Stream `source` into the object `key`, replacing it atomically; return the byte count."""
        path = self._path(key)
        try:
            self._ensure_dir(path.parent)
            if path.is_dir():
                raise StorageError(f"cannot store {key!r}: other objects live under it")
            tmp = path.parent / f"{_TEMP_PREFIX}{path.name}.{secrets.token_hex(8)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), _FILE_MODE)
        except NotADirectoryError:
            raise StorageError(f"cannot store {key!r}: a parent of it is an object") from None
        except OSError as exc:
            raise _translate(exc, key) from exc
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                # Errors from the source pass through as they are; only our own writes are translated.
                for chunk in _chunks(source):
                    with _translated(key):
                        out.write(chunk)
                    size += len(chunk)
                with _translated(key):
                    out.flush()
                    os.fsync(out.fileno())
            with _translated(key):
                os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self._fsync_dir(path.parent)
        return size

    @staticmethod
    def _fsync_dir(directory: Path) -> None:
        # The rename is durable only once the directory entry is on disk.
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def open(self, key: str) -> BinaryIO:
        """Return a binary stream of the object (caller closes it); raises ObjectNotFoundError."""
        path = self._path(key)
        try:
            return open(path, "rb")  # noqa: SIM115 - the caller owns the stream
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFoundError(key) from None
        except OSError as exc:
            raise _translate(exc, key) from exc

    def delete(self, key: str) -> None:
        """Delete the object; deleting a missing key does nothing."""
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return
        except OSError as exc:
            raise _translate(exc, key) from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Yield every object whose key starts with `prefix`, in no particular order."""
        segments = _validate_key(prefix, prefix=True)
        start = self.root.joinpath(*segments[:-1])
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            relative = Path(dirpath).relative_to(self.root).as_posix()
            base = "" if relative == "." else relative + "/"
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                key = base + name
                if not key.startswith(prefix):
                    continue
                try:
                    info = os.stat(os.path.join(dirpath, name))
                except FileNotFoundError:
                    continue  # deleted while listing
                yield ObjectInfo(key=key, size=info.st_size, modified=datetime.fromtimestamp(info.st_mtime, UTC))

    def discard_incomplete_writes(self, prefix: str, older_than: timedelta) -> list[str]:
        """Remove temporary files of puts that never finished (the writer was killed); return their names."""
        segments = _validate_key(prefix, prefix=True)
        start = self.root.joinpath(*segments[:-1])
        cutoff = datetime.now(UTC) - older_than
        removed = []
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if not name.startswith(_TEMP_PREFIX):
                    continue
                path = Path(dirpath) / name
                try:
                    if datetime.fromtimestamp(path.stat().st_mtime, UTC) > cutoff:
                        continue
                    path.unlink()
                except FileNotFoundError:
                    continue  # finished or removed meanwhile
                removed.append(path.relative_to(self.root).as_posix())
        return removed


def _chunks(source: BinaryIO) -> Iterator[bytes | memoryview]:
    """Yield the source's bytes in chunks, through one reused buffer if the source can fill one."""
    readinto = getattr(source, "readinto", None)
    if readinto is None:
        while chunk := source.read(_CHUNK_SIZE):
            yield chunk
        return
    buffer = memoryview(bytearray(_CHUNK_SIZE))
    while count := readinto(buffer):
        yield buffer[:count]


@contextmanager
def _translated(key: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise _translate(exc, key) from exc


def _translate(exc: OSError, key: str) -> StorageError:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EIO):
        return StorageUnavailableError(f"filesystem store cannot access {key!r}: {exc.strerror}")
    return StorageError(f"filesystem store failed on {key!r}: {exc}")
