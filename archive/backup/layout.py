"""The backup directory: content-addressed objects shared by every snapshot, and one folder per snapshot.

    DEST/objects/<sha256[:2]>/<sha256>         an object as stored (already encrypted), named by its hash
    DEST/snapshots/<YYYYMMDDTHHMMSSZ>/
        database.sqlite | database.pgdump      the consistent database copy
        manifest.jsonl                         one line per object: {"key", "sha256", "size", "modified"}
        index.json                             the note that the search index is rebuilt, not copied
        audit-signing.pub.json                 the checkpoint public key (public; the private key is sealed)
        meta.json                              written last: what the snapshot holds, with every file's hash

A snapshot is written under `snapshots/.tmp-<name>` and renamed when complete, so a killed backup
leaves no snapshot that restore would pick. An object is written to a temporary file and renamed to
its hash, so an object file is whole or absent; one already there is not copied again. A backup and a
prune hold `DEST/.lock` (flock), so a prune never removes an object a running backup has just copied.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from archive.errors import NotFoundError, ValidationError

OBJECTS = "objects"
SNAPSHOTS = "snapshots"
META = "meta.json"
MANIFEST = "manifest.jsonl"
INDEX_NOTE = "index.json"
PUBLIC_KEY = "audit-signing.pub.json"
LOCK = ".lock"
FORMAT = "archive-backup/1"
CHUNK = 1024 * 1024
_TEMP = ".tmp-"
_NAME = re.compile(r"^\d{8}T\d{6}(\.\d+)?Z$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BackupLayoutError(ValidationError):
    """The backup directory or a snapshot in it is not what a backup writes."""


@dataclass(frozen=True)
class ManifestEntry:
    key: str
    sha256: str  # of the stored (encrypted) bytes
    size: int
    modified: str | None = None  # the store's last-modified time when copied: lets the next backup skip hashing

    def line(self) -> bytes:
        return (json.dumps({"key": self.key, "sha256": self.sha256, "size": self.size, "modified": self.modified},
                           ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


class HashingReader:
    """A read-only stream over `source` that hashes and counts what passes through it."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._source.read(CHUNK if size is None or size < 0 else size)
        self.sha256.update(chunk)
        self.size += len(chunk)
        return chunk

    def readable(self) -> bool:
        return True


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class BackupDirectory:
    """A backup destination or source on a local (or mounted) directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the directory's lock for a backup or a prune: two at once could lose objects."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.root / LOCK, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise BackupLayoutError(f"another backup or prune is running on {self.root}") from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # --- objects -------------------------------------------------------------------------------------

    def object_path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise BackupLayoutError(f"not a SHA-256 in the manifest: {sha256!r}")
        return self.root / OBJECTS / sha256[:2] / sha256

    def has_object(self, sha256: str, size: int) -> bool:
        """The object is there whole (its size matches; its hash is what the drill checks)."""
        try:
            return self.object_path(sha256).stat().st_size == size
        except FileNotFoundError:
            return False

    def add_object(self, source: BinaryIO, *, check_existing: bool = False) -> tuple[str, int, bool]:
        """Copy a stream in chunks into the object folder: (sha256, size, copied). Not copied when an object
        with that hash is already there (the temporary copy is dropped); with `check_existing`, one there
        whose bytes no longer match its name is replaced."""
        temp_dir = self.root / OBJECTS / f"{_TEMP}incoming"
        temp_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = temp_dir / secrets.token_hex(8)
        digest, size = hashlib.sha256(), 0
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha256 = digest.hexdigest()
            if self.has_object(sha256, size) and not (check_existing and file_sha256(self.object_path(sha256)) != sha256):
                return sha256, size, False
            target = self.object_path(sha256)
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.replace(temp, target)
            return sha256, size, True
        finally:
            temp.unlink(missing_ok=True)

    def object_files(self) -> Iterator[Path]:
        """Every object file (temporary copies excluded)."""
        folder = self.root / OBJECTS
        if folder.is_dir():
            for sub in sorted(folder.iterdir()):
                if sub.is_dir() and not sub.name.startswith("."):
                    yield from (p for p in sorted(sub.iterdir()) if _SHA256.match(p.name))

    def open_object(self, sha256: str) -> BinaryIO:
        """The stored bytes of an object; raises FileNotFoundError."""
        return open(self.object_path(sha256), "rb")  # noqa: SIM115 - the caller closes it

    # --- snapshots -----------------------------------------------------------------------------------

    def new_snapshot(self, name: str) -> Path:
        """A temporary folder to write snapshot `name` into; `commit_snapshot` makes it visible."""
        if (self.root / SNAPSHOTS / name).exists():
            raise BackupLayoutError(f"snapshot {name} already exists in {self.root}")
        folder = self.root / SNAPSHOTS / f"{_TEMP}{name}"
        folder.mkdir(parents=True, mode=0o700)
        return folder

    def commit_snapshot(self, folder: Path, meta: dict[str, Any]) -> Path:
        """Write meta.json last, then rename the folder to its name."""
        (folder / META).write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        target = self.root / SNAPSHOTS / folder.name.removeprefix(_TEMP)
        os.replace(folder, target)
        return target

    def remove_snapshot(self, name: str) -> None:
        """Delete a snapshot: renamed out of sight first, so a half-removed one is never picked."""
        folder = self.root / SNAPSHOTS / name
        doomed = self.root / SNAPSHOTS / f"{_TEMP}removing-{name}"
        os.replace(folder, doomed)
        shutil.rmtree(doomed)

    def snapshots(self) -> list[str]:
        """Names of the complete snapshots, oldest first."""
        folder = self.root / SNAPSHOTS
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if _NAME.match(p.name) and (p / META).is_file())

    def snapshot(self, name: str | None = None) -> Snapshot:
        """Snapshot `name`, or the newest; raises NotFoundError."""
        names = self.snapshots()
        if not names:
            raise NotFoundError(f"no complete backup snapshot in {self.root}")
        if name is None:
            name = names[-1]
        elif name not in names:
            raise NotFoundError(f"no snapshot {name!r} in {self.root} (there are: {', '.join(names)})")
        return Snapshot(self.root / SNAPSHOTS / name)


class Snapshot:
    """One complete snapshot, read back."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.name = folder.name
        try:
            self.meta: dict[str, Any] = json.loads((folder / META).read_text(encoding="utf-8"))
        except ValueError as error:
            raise BackupLayoutError(f"snapshot {self.name}: {META} is not JSON: {error}") from None
        if self.meta.get("format") != FORMAT:
            raise BackupLayoutError(f"snapshot {self.name} is not an {FORMAT} snapshot")

    def file(self, name: str) -> Path:
        """A file of the snapshot, checked against the hash meta.json records for it."""
        recorded = self.meta.get("files", {}).get(name)
        path = self.folder / name
        if recorded is None or not path.is_file():
            raise BackupLayoutError(f"snapshot {self.name} lacks {name}")
        if file_sha256(path) != recorded["sha256"]:
            raise BackupLayoutError(f"snapshot {self.name}: {name} does not match its recorded SHA-256")
        return path

    def manifest(self) -> Iterator[ManifestEntry]:
        with open(self.file(MANIFEST), encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    item = json.loads(line)
                    yield ManifestEntry(item["key"], item["sha256"], int(item["size"]), item.get("modified"))


def snapshot_name(moment: Any) -> str:
    return moment.strftime("%Y%m%dT%H%M%S.%fZ")
