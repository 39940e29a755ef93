"""A worker's local copies of the originals it renders PDF pages from.

Each page of a captured PDF is rendered by a job of its own, and pdfium needs the whole file: without
copies every page would fetch the whole original from the object store again (a 200-page scan is 200
downloads of 50 MB). A worker process keeps the last few originals it fetched, as stored: encrypted,
so nothing readable rests on its disk longer than one page's rendering, and a shredded document's copy
can never be decrypted again. Originals never change under their key, so a copy is never stale; the
folder goes when the process exits.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import BinaryIO

from archive.unit_of_work import UnitOfWork
from storage.envelope import EncryptedStore
from storage.filesystem import FilesystemStore

KEEP = 4  # originals per worker process
_lock = threading.Lock()
_copies: OrderedDict[str, None] = OrderedDict()
_store: FilesystemStore | None = None


def open_original(uow: UnitOfWork, key: str, data_key: bytes) -> BinaryIO:
    """A decrypting stream of the stored original `key`, read from this process's copy (fetched first
    when it has none). Raises what the store raises: ObjectNotFoundError, DecryptionError, and so on."""
    global _store
    with _lock:
        if _store is None:
            folder = tempfile.mkdtemp(prefix="archive-originals-")
            atexit.register(shutil.rmtree, folder, True)
            _store = FilesystemStore(Path(folder))
        if key in _copies:
            _copies.move_to_end(key)
        else:
            with uow.object_store.open(key) as raw:
                _store.put(key, raw)
            _copies[key] = None
            while len(_copies) > KEEP:
                _store.delete(_copies.popitem(last=False)[0])
        # Opened under the lock, so a copy dropped by another thread meanwhile is still read whole.
        return EncryptedStore(_store).open(key, data_key=data_key)

