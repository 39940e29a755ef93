"""Generations of an index in one folder, switched by pointer files.

The folder holds one sub-folder per generation and a pointer file `CURRENT` naming the live one;
`BUILDING` names a generation being filled. Publishing replaces `CURRENT` with os.replace (atomic
on POSIX and Windows) and syncs the folder, so every process sees either the old or the new
generation, never a mix, and a crash at any point leaves a live generation in place.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

from search.base import SearchError

CURRENT = "CURRENT"
BUILDING = "BUILDING"
FIRST = "gen-0"
LEGACY = ""  # an index written straight into the folder, from before generations


class Generations:
    """The generation folders under `root`."""

    def __init__(self, root: Path, *, marker: str) -> None:
        self.root = Path(root)
        self.marker = marker  # a file every generation holds once created (e.g. "meta.json")
        self._seen: dict[str, tuple[tuple[int, int, int], str | None]] = {}

    def _read(self, name: str) -> str | None:
        """Read a pointer; a stat tells whether it changed since the last read (os.replace makes a new inode)."""
        path = self.root / name
        try:
            status = os.stat(path)
        except FileNotFoundError:
            self._seen.pop(name, None)
            return None
        key = (status.st_ino, status.st_mtime_ns, status.st_size)
        seen = self._seen.get(name)
        if seen is not None and seen[0] == key:
            return seen[1]
        try:
            value = path.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None
        self._seen[name] = (key, value)
        return value

    def _write(self, name: str, value: str | None) -> None:
        target = self.root / name
        if value is None:
            target.unlink(missing_ok=True)
        else:
            temporary = self.root / f".{name}.{os.getpid()}.{threading.get_ident()}"
            with open(temporary, "w", encoding="utf-8") as handle:
                handle.write(value + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        folder = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def live(self) -> str:
        """Name the live generation, creating the first one on first use."""
        current = self._read(CURRENT)
        if current is not None:
            return current
        if (self.root / self.marker).exists():
            return LEGACY
        (self.root / FIRST).mkdir(parents=True, exist_ok=True)
        self._write(CURRENT, FIRST)  # concurrent first users all write the same value
        return FIRST

    def building(self) -> str | None:
        return self._read(BUILDING)

    def folder(self, name: str) -> Path:
        return self.root / name

    def begin(self) -> str:
        """Start a new generation (dropping an unfinished one) and mark it as being built."""
        self.live()
        stale = self.building()
        if stale is not None:
            self.drop(stale)
        name = f"gen-{time.time_ns()}"
        (self.root / name).mkdir()
        self._write(BUILDING, name)
        return name

    def publish(self, name: str) -> None:
        """Make `name` the live generation, then remove the old one.

        Raises SearchError when another rebuild has started since (it dropped this one).
        """
        if self.building() != name:
            raise SearchError(f"the index build {name} was replaced by a newer rebuild")
        old = self.live()
        self._write(CURRENT, name)
        self._write(BUILDING, None)
        self._remove(old)

    def drop(self, name: str) -> None:
        """Throw away a generation that is being built."""
        if self.building() == name:
            self._write(BUILDING, None)
        self._remove(name)

    def _remove(self, name: str) -> None:
        if name == LEGACY:
            # The old layout's files sit beside the generations: remove the files, keep the folders.
            for entry in self.root.iterdir():
                if entry.is_file() and entry.name not in (CURRENT, BUILDING):
                    entry.unlink(missing_ok=True)
            return
        # Processes still reading it keep their open files (POSIX); they reopen on their next search.
        shutil.rmtree(self.root / name, ignore_errors=True)
