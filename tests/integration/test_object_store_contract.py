"""The ObjectStore contract, run against every real backend."""

from __future__ import annotations

import hashlib
import io
import socket
import stat
import threading
import tracemalloc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from storage.base import ObjectInfo, ObjectNotFoundError, ObjectStore, StorageUnavailableError
from storage.envelope import AES_256_GCM, EncryptedStore, new_data_key
from storage.filesystem import FilesystemStore
from storage.s3 import S3Store

MIB = 1024 * 1024


@pytest.fixture(params=["filesystem", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "filesystem":
        return FilesystemStore(tmp_path / "objects")
    server = request.getfixturevalue("s3_server")
    # The minimum S3 part size keeps the upload buffer small next to the large test object.
    return S3Store(
        server["endpoint"],
        server["access_key"],
        server["secret_key"],
        bucket=f"archive-test-{uuid.uuid4().hex[:12]}",
        part_size=5 * MIB,
    )


@contextmanager
def closed_port() -> Iterator[int]:
    """Reserve a local port that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def read(store: ObjectStore, key: str) -> bytes:
    with store.open(key) as stream:
        return stream.read()


class GeneratedReader(io.RawIOBase):
    """A deterministic pseudo-random stream of `size` bytes produced on demand, never held whole."""

    def __init__(self, size: int, seed: bytes = b"seed") -> None:
        super().__init__()
        self._remaining = size
        self._block = hashlib.sha512(seed).digest() * 1024  # 64 KiB pattern varied per block
        self._counter = 0
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if not self._pending and self._remaining:
            self._counter += 1
            block = self._counter.to_bytes(8, "big") + self._block[8:]
            self._pending = block[: self._remaining]
            self._remaining -= len(self._pending)
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


def sha256_of_generated(size: int) -> str:
    digest = hashlib.sha256()
    reader = GeneratedReader(size)
    while chunk := reader.read(MIB):
        digest.update(chunk)
    return digest.hexdigest()


# --- the contract ----------------------------------------------------------------------------------


def test_an_object_put_can_be_read_back(store: ObjectStore) -> None:
    assert store.put("documents/12/original", io.BytesIO(b"hello archive")) == 13
    assert read(store, "documents/12/original") == b"hello archive"


def test_an_empty_object_can_be_stored(store: ObjectStore) -> None:
    assert store.put("documents/1/empty", io.BytesIO(b"")) == 0
    assert store.exists("documents/1/empty")
    assert read(store, "documents/1/empty") == b""


def test_putting_an_existing_key_replaces_the_object(store: ObjectStore) -> None:
    store.put("documents/1/original", io.BytesIO(b"first version, longer"))
    store.put("documents/1/original", io.BytesIO(b"second"))
    assert read(store, "documents/1/original") == b"second"
    assert list(store.list("documents/1/")) == [ObjectInfo("documents/1/original", 6)]


def test_exists_tells_stored_from_missing_objects(store: ObjectStore) -> None:
    store.put("documents/1/original", io.BytesIO(b"x"))
    assert store.exists("documents/1/original")
    assert not store.exists("documents/1/missing")
    assert not store.exists("documents/1")


def test_opening_a_missing_key_raises_object_not_found(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFoundError):
        store.open("documents/404/original")


def test_delete_removes_the_object_and_is_idempotent(store: ObjectStore) -> None:
    store.put("documents/1/original", io.BytesIO(b"x"))
    store.delete("documents/1/original")
    assert not store.exists("documents/1/original")
    with pytest.raises(ObjectNotFoundError):
        store.open("documents/1/original")
    store.delete("documents/1/original")
    store.delete("never/existed")


def test_list_yields_every_object_under_a_prefix_with_its_size(store: ObjectStore) -> None:
    store.put("documents/1/original", io.BytesIO(b"a" * 10))
    store.put("documents/1/pages/1.png", io.BytesIO(b"b" * 20))
    store.put("documents/2/original", io.BytesIO(b"c" * 30))
    store.put("exports/2024.zip", io.BytesIO(b"d"))
    assert sorted(store.list("documents/1/"), key=lambda o: o.key) == [
        ObjectInfo("documents/1/original", 10),
        ObjectInfo("documents/1/pages/1.png", 20),
    ]
    assert sorted(o.key for o in store.list("documents/")) == [
        "documents/1/original",
        "documents/1/pages/1.png",
        "documents/2/original",
    ]
    assert len(list(store.list())) == 4
    assert list(store.list("nothing/")) == []


def test_list_matches_a_prefix_that_ends_inside_a_key_segment(store: ObjectStore) -> None:
    store.put("documents/10/original", io.BytesIO(b"a"))
    store.put("documents/11/original", io.BytesIO(b"a"))
    store.put("documents/2/original", io.BytesIO(b"a"))
    assert sorted(o.key for o in store.list("documents/1")) == [
        "documents/10/original",
        "documents/11/original",
    ]


def put_and_read_back_encrypted(store: ObjectStore, size: int) -> tuple[int, int]:
    """Stream `size` generated bytes through EncryptedStore and back; return the memory peaks of each way."""
    encrypted = EncryptedStore(store)
    data_key = new_data_key(AES_256_GCM)
    key = f"documents/big-{size}/original"
    tracemalloc.start()
    try:
        result = encrypted.put(key, GeneratedReader(size), data_key=data_key, algorithm=AES_256_GCM)
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        read_size = 0
        with encrypted.open(key, data_key=data_key) as stream:
            while chunk := stream.read(MIB):
                digest.update(chunk)
                read_size += len(chunk)
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    expected = sha256_of_generated(size)
    assert (result.size, result.sha256) == (size, expected)
    assert (read_size, digest.hexdigest()) == (size, expected)
    return upload_peak, download_peak


def test_a_large_object_streams_through_encryption_in_memory_independent_of_its_size(
    store: ObjectStore,
) -> None:
    small_upload, small_download = put_and_read_back_encrypted(store, 16 * MIB)
    large_upload, large_download = put_and_read_back_encrypted(store, 64 * MIB)
    # Holding the object would add 48 MiB; streaming is bounded by a segment or a few upload parts.
    assert large_upload < small_upload + 8 * MIB, (
        f"upload peak {small_upload / MIB:.1f} -> {large_upload / MIB:.1f} MiB"
    )
    assert large_download < small_download + 4 * MIB, (
        f"download peak {small_download / MIB:.1f} -> {large_download / MIB:.1f} MiB"
    )
    assert large_download < 16 * MIB


# --- backend specifics -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["../escape", "documents/../../escape", "/etc/passwd", "a//b", "", "a/./b"])
def test_the_filesystem_store_rejects_keys_that_could_escape_its_root(tmp_path: Path, key: str) -> None:
    store = FilesystemStore(tmp_path / "objects")
    with pytest.raises(ValueError):
        store.put(key, io.BytesIO(b"x"))
    assert not (tmp_path / "escape").exists()


def test_the_filesystem_store_writes_private_files_and_directories(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    store = FilesystemStore(root)
    store.put("documents/12/original", io.BytesIO(b"x"))
    assert stat.S_IMODE((root / "documents/12/original").stat().st_mode) == 0o600
    for directory in (root, root / "documents", root / "documents/12"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_a_failed_filesystem_put_leaves_neither_object_nor_temp_file(tmp_path: Path) -> None:
    class Exploding(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
            raise OSError("source broke")

    store = FilesystemStore(tmp_path / "objects")
    store.put("documents/1/original", io.BytesIO(b"old"))
    with pytest.raises(OSError):
        store.put("documents/1/original", Exploding())
    assert read(store, "documents/1/original") == b"old"
    assert sorted(p.name for p in (tmp_path / "objects/documents/1").iterdir()) == ["original"]
    assert [o.key for o in store.list()] == ["documents/1/original"]


def test_the_filesystem_store_takes_a_source_that_only_has_read(tmp_path: Path) -> None:
    class OnlyRead:
        def __init__(self, data: bytes) -> None:
            self._stream = io.BytesIO(data)

        def read(self, size: int = -1) -> bytes:
            return self._stream.read(min(size, 1000))

    data = bytes(range(256)) * 40_000  # 10 MB in 1,000-byte reads
    store = FilesystemStore(tmp_path / "objects")
    assert store.put("documents/1/original", OnlyRead(data)) == len(data)  # type: ignore[arg-type]
    assert read(store, "documents/1/original") == data


def test_an_unreachable_s3_endpoint_raises_storage_unavailable() -> None:
    with closed_port() as port:
        store = S3Store(f"127.0.0.1:{port}", "key", "secret", "archive", retries=1, connect_timeout=1)
        with pytest.raises(StorageUnavailableError, match="cannot reach"):
            store.put("documents/1/original", io.BytesIO(b"x"))


def test_wrong_s3_credentials_raise_storage_unavailable(s3_server: dict[str, str]) -> None:
    wrong_secret = S3Store(s3_server["endpoint"], s3_server["access_key"], "wrong-secret", "archive-creds")
    with pytest.raises(StorageUnavailableError, match="credentials"):
        wrong_secret.exists("documents/1/original")
    unknown_key = S3Store(s3_server["endpoint"], "AKIAUNKNOWN000000000", "secret", "archive-creds")
    with pytest.raises(StorageUnavailableError, match="credentials"):
        unknown_key.put("documents/1/original", io.BytesIO(b"x"))


def test_an_s3_endpoint_that_keeps_failing_is_retried_then_reported_unavailable() -> None:
    requests: list[str] = []

    class AlwaysUnavailable(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            requests.append(self.command)
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_HEAD = do_GET  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server signature
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), AlwaysUnavailable)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        store = S3Store(f"127.0.0.1:{server.server_port}", "key", "secret", "archive", retries=2)
        with pytest.raises(StorageUnavailableError):
            store.exists("documents/1/original")
    finally:
        server.shutdown()
        server.server_close()
    # The first request (the bucket's region lookup) was tried once and retried twice.
    assert len(requests) == 3
