"""Streaming envelope encryption, master-key keyring and field-level sealing of PII.

Object format (version 1)::

    header  = magic "CFAE" | version u8 | algorithm u8 | segment_size u32 | salt 16 | nonce_prefix 7
    segment = AEAD(segment_key, nonce_prefix | index u32 | final u8, plaintext, aad=header | object_id)

Every segment except the last holds exactly `segment_size` plaintext bytes; the last is flagged final
and may be short or empty (an empty object is one empty final segment). The segment key is derived
per object with HKDF-SHA256 from the data key, the random salt and the object id, so one data key may
safely encrypt many objects, and a segment moved to another object, reordered, dropped, or a stream
cut short (no final segment) fails authentication with DecryptionError.

Plaintext is released segment by segment as each one authenticates: a reader that hits
DecryptionError mid-stream must discard what it already received.

An object longer than one segment is hashed, encrypted or decrypted a few segments ahead on worker
threads (hashlib and the AEAD release the GIL) in reused buffers, so a stream keeps a bounded number
of segments in memory (about 10 MiB at the default size) whatever the object's size.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import struct
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Generic, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.base import DecryptionError, KeyUnavailableError, ObjectStore, StorageError

AES_256_GCM = "AES-256-GCM"
SM4_GCM = "SM4-GCM"
DEFAULT_ALGORITHM = AES_256_GCM
# 1 MiB keeps per-segment overhead (16-byte tag, one AEAD call) negligible while bounding memory.
DEFAULT_SEGMENT_SIZE = 1024 * 1024
MAX_SEGMENT_SIZE = 64 * 1024 * 1024
# Segments a stream queues for its worker threads: enough to keep them busy, few enough that memory
# stays a few segments whatever the object's size.
_IN_FLIGHT_BYTES = 4 * 1024 * 1024
_MAX_IN_FLIGHT = 3
_CIPHER_THREADS = 2

_MAGIC = b"CFAE"
_VERSION = 1
_HEADER = struct.Struct(">4sBBI16s7s")
_TAG_SIZE = 16
_KEY_SIZES = {AES_256_GCM: 32, SM4_GCM: 16}
_ALGORITHM_IDS = {AES_256_GCM: 1, SM4_GCM: 2}
_ALGORITHMS_BY_ID = {v: k for k, v in _ALGORITHM_IDS.items()}
_MASTER_KEY_SIZE = 32
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_T = TypeVar("_T")


@dataclass(frozen=True)
class PutResult:
    """Plaintext size and SHA-256 (hex) of an object stored through EncryptedStore."""

    size: int
    sha256: str


@dataclass(frozen=True)
class WrappedKey:
    """A data key encrypted under the keyring's master key `key_id`."""

    key_id: str
    algorithm: str
    wrapped: bytes


def new_data_key(algorithm: str = DEFAULT_ALGORITHM) -> bytes:
    """Return a fresh random data key of the size `algorithm` needs."""
    return secrets.token_bytes(_key_size(algorithm))


def _key_size(algorithm: str) -> int:
    try:
        return _KEY_SIZES[algorithm]
    except KeyError:
        raise ValueError(f"unknown algorithm {algorithm!r}; use one of {sorted(_KEY_SIZES)}") from None


def _check_data_key(data_key: bytes, algorithm: str) -> None:
    if len(data_key) != _key_size(algorithm):
        raise ValueError(f"{algorithm} needs a {_key_size(algorithm)}-byte data key, got {len(data_key)}")


# --- segment AEAD ---------------------------------------------------------------------------------

_Into = Callable[[bytes, memoryview, bytes, memoryview], object]


def _aead(algorithm: str, key: bytes) -> tuple[_Into, _Into]:
    """Return (encrypt_into, decrypt_into) of (nonce, data, aad, out), writing into `out` of the exact size.

    Ciphertexts carry a trailing tag; a failed authentication raises InvalidTag.
    """
    if algorithm == AES_256_GCM:
        aes = AESGCM(key)
        if hasattr(aes, "encrypt_into"):  # recent cryptography: no allocation per segment
            return aes.encrypt_into, aes.decrypt_into
        seal, unseal = aes.encrypt, aes.decrypt
    else:

        def seal(nonce: bytes, data: memoryview, aad: bytes) -> bytes:
            encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
            encryptor.authenticate_additional_data(aad)
            return encryptor.update(data) + encryptor.finalize() + encryptor.tag

        def unseal(nonce: bytes, data: memoryview, aad: bytes) -> bytes:
            decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, bytes(data[-_TAG_SIZE:]))).decryptor()
            decryptor.authenticate_additional_data(aad)
            return decryptor.update(data[:-_TAG_SIZE]) + decryptor.finalize()

    def encrypt_into(nonce: bytes, data: memoryview, aad: bytes, out: memoryview) -> None:
        out[:] = seal(nonce, data, aad)

    def decrypt_into(nonce: bytes, data: memoryview, aad: bytes, out: memoryview) -> None:
        out[:] = unseal(nonce, data, aad)

    return encrypt_into, decrypt_into


class _SegmentCipher:
    """Per-object state shared by the encrypting and decrypting readers."""

    def __init__(self, header: bytes, data_key: bytes, object_id: str) -> None:
        magic, version, algorithm_id, segment_size, salt, nonce_prefix = _HEADER.unpack(header)
        self.algorithm = _ALGORITHMS_BY_ID[algorithm_id]
        self.segment_size = segment_size
        self._nonce_prefix = nonce_prefix
        object_id_bytes = object_id.encode("utf-8")
        segment_key = HKDF(
            algorithm=hashes.SHA256(),
            length=_key_size(self.algorithm),
            salt=salt,
            info=b"cfa-envelope-v1 segment key|" + object_id_bytes,
        ).derive(data_key)
        self._aad = header + struct.pack(">I", len(object_id_bytes)) + object_id_bytes
        self._encrypt_into, self._decrypt_into = _aead(self.algorithm, segment_key)

    def nonce(self, index: int, final: bool) -> bytes:
        if index >= 2**32:
            raise StorageError("object too large for the envelope format (2**32 segments)")
        return self._nonce_prefix + struct.pack(">IB", index, 1 if final else 0)

    def encrypt(self, index: int, final: bool, plaintext: memoryview, out: memoryview) -> memoryview:
        """Encrypt into the start of `out`; return the segment (plaintext length + tag)."""
        segment = out[: len(plaintext) + _TAG_SIZE]
        self._encrypt_into(self.nonce(index, final), plaintext, self._aad, segment)
        return segment

    def decrypt(self, index: int, final: bool, segment: memoryview, out: memoryview) -> memoryview:
        """Decrypt into the start of `out`; return the plaintext, or raise DecryptionError."""
        try:
            if len(segment) < _TAG_SIZE:
                raise InvalidTag
            plaintext = out[: len(segment) - _TAG_SIZE]
            self._decrypt_into(self.nonce(index, final), segment, self._aad, plaintext)
        except InvalidTag:
            raise DecryptionError(
                f"segment {index} failed authentication: tampered, truncated, reordered, "
                "from another object, or wrong key"
            ) from None
        return plaintext


def _read_exact(source: BinaryIO, size: int) -> bytes:
    """Read `size` bytes, fewer only at end of stream."""
    first = source.read(size)
    if not first or len(first) == size:
        return first or b""
    parts = [first]
    remaining = size - len(first)
    while remaining:
        chunk = source.read(remaining)
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def _read_into(source: BinaryIO, buffer: memoryview) -> memoryview:
    """Fill `buffer` from `source` and return the part filled, shorter only at end of stream."""
    readinto = getattr(source, "readinto", None)
    filled = 0
    while filled < len(buffer):
        if readinto is not None:
            count = readinto(buffer[filled:])
        else:
            data = source.read(len(buffer) - filled)
            count = len(data)
            buffer[filled : filled + count] = data
        if not count:
            break
        filled += count
    return buffer[:filled]


def _in_flight(segment_size: int) -> int:
    """How many segments a stream keeps queued for its worker threads."""
    return min(_MAX_IN_FLIGHT, max(2, _IN_FLIGHT_BYTES // segment_size))


class _Buffers:
    """Reusable segment buffers, one per segment a stream may hold at once, taken in turn.

    Segment i uses buffer i mod count; a stream keeping fewer than `count` segments alive (queued,
    read ahead, being handed out or hashed) never writes over one still in use. Reusing them spares
    the allocator and the page faults of a fresh megabyte per segment.
    """

    def __init__(self, count: int, size: int) -> None:
        self._size = size
        self._buffers: list[memoryview | None] = [None] * count

    def __getitem__(self, index: int) -> memoryview:
        slot = index % len(self._buffers)
        buffer = self._buffers[slot]
        if buffer is None:
            buffer = self._buffers[slot] = memoryview(bytearray(self._size))
        return buffer


class _SegmentReader(io.BufferedIOBase):
    """Readable stream of blocks produced one at a time by `_next_block`.

    A block is a view of a buffer the stream reuses, so it is copied out, once, into what the caller
    gets: `readinto` into the caller's buffer, `read` and `read1` into new bytes.
    """

    def __init__(self) -> None:
        super().__init__()
        self._block = memoryview(b"")
        self._offset = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def _next_block(self) -> memoryview | None:
        """Return the next block of output, or None at the end; the previous block may be reused."""
        raise NotImplementedError

    def _fill(self) -> bool:
        """Have a block with unread bytes at hand; False at the end of the stream."""
        if self.closed:
            raise ValueError("I/O operation on closed stream")
        while self._offset >= len(self._block):
            if self._done:
                return False
            block = self._next_block()
            if block is None:
                self._done = True
                self._block, self._offset = memoryview(b""), 0
                return False
            self._block, self._offset = block, 0
        return True

    def _take(self, size: int) -> memoryview:
        """A view of up to `size` unread bytes of the current block, valid until the next `_fill`."""
        start = self._offset
        self._offset = min(len(self._block), start + size)
        return self._block[start : self._offset]

    def read(self, size: int | None = -1) -> bytes:
        """Read `size` bytes (fewer only at the end), or everything left if `size` is negative."""
        wanted = sys.maxsize if size is None or size < 0 else size
        if not wanted or not self._fill():
            return b""
        first = self._take(wanted)
        if len(first) == wanted:
            return bytes(first)
        parts = [bytes(first)]
        wanted -= len(first)
        while wanted and self._fill():
            part = bytes(self._take(wanted))
            parts.append(part)
            wanted -= len(part)
        return b"".join(parts)

    def read1(self, size: int = -1) -> bytes:
        """Read up to `size` bytes from the current block only."""
        if not self._fill():
            return b""
        return bytes(self._take(sys.maxsize if size is None or size < 0 else size))

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        return self._readinto(buffer, whole=True)

    def readinto1(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        return self._readinto(buffer, whole=False)

    def _readinto(self, buffer: bytearray | memoryview, *, whole: bool) -> int:
        target = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(target) and self._fill():
            part = self._take(len(target) - filled)
            target[filled : filled + len(part)] = part
            filled += len(part)
            if not whole:
                break
        return filled


class _Workers(Generic[_T]):
    """Calls run ahead on worker threads, their results taken back in the order they were made.

    Threads start with the first call, so a stream that makes none starts none. At most `limit`
    calls wait or run at once, which bounds the memory their arguments and results hold.
    """

    def __init__(self, name: str, threads: int, limit: int) -> None:
        self._name = name
        self._threads = threads
        self._limit = limit
        self._executor: ThreadPoolExecutor | None = None
        self._queued: deque[Future[_T]] = deque()

    def __len__(self) -> int:
        return len(self._queued)

    @property
    def started(self) -> bool:
        return self._executor is not None

    @property
    def full(self) -> bool:
        return len(self._queued) >= self._limit

    def submit(self, function: Callable[..., _T], *args: object) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._threads, thread_name_prefix=self._name)
        self._queued.append(self._executor.submit(function, *args))

    def take(self) -> _T:
        """Return the result of the oldest call, or raise what it raised."""
        return self._queued.popleft().result()

    def stop(self) -> None:
        """Drop the calls not started, wait for the running ones and end the threads."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self._queued.clear()


class _PlaintextDigest:
    """SHA-256 of chunks fed in order.

    Chunks after the first are hashed on one background thread: hashlib releases the GIL on large
    buffers, so hashing runs beside encryption. SHA-256 cannot be split, so this one thread sets
    the pace of a large write.
    """

    def __init__(self, limit: int) -> None:
        self._sha256 = hashlib.sha256()
        self._workers: _Workers[None] = _Workers("envelope-sha256", 1, limit)
        self._hexdigest: str | None = None

    def update(self, chunk: memoryview, *, first: bool) -> None:
        if first and not self._workers.started:
            self._sha256.update(chunk)
            return
        if self._workers.full:
            self._workers.take()
        self._workers.submit(self._sha256.update, chunk)

    def finish(self) -> str:
        """Wait for the queued chunks and return the hex digest."""
        if self._hexdigest is None:
            while self._workers:
                self._workers.take()
            self._workers.stop()
            self._hexdigest = self._sha256.hexdigest()
        return self._hexdigest

    def close(self) -> None:
        self._workers.stop()


class EncryptingReader(_SegmentReader):
    """Ciphertext of `source`, produced lazily; plaintext size and SHA-256 are known once exhausted.

    Each block read is the header or one encrypted segment. When an object has more than one
    segment, its plaintext is hashed on a background thread and the next few segments are encrypted
    on worker threads (AES-GCM releases the GIL) while the reading thread reads the source. The
    source is read, never closed: the caller owns it. Close the reader if it is abandoned before
    the end.
    """

    def __init__(
        self, source: BinaryIO, *, data_key: bytes, object_id: str, algorithm: str, segment_size: int
    ) -> None:
        super().__init__()
        _check_data_key(data_key, algorithm)
        if not 1 <= segment_size <= MAX_SEGMENT_SIZE:
            raise ValueError(f"segment size must be between 1 and {MAX_SEGMENT_SIZE}")
        self._header = _HEADER.pack(
            _MAGIC,
            _VERSION,
            _ALGORITHM_IDS[algorithm],
            segment_size,
            secrets.token_bytes(16),
            secrets.token_bytes(7),
        )
        self._cipher = _SegmentCipher(self._header, data_key, object_id)
        self._source = source
        self._segment_size = segment_size
        in_flight = _in_flight(segment_size)
        # Alive at once: the queued segments, the one read ahead, the one handed out; chunks still
        # waiting to be hashed are among the last `in_flight` read.
        self._plaintexts = _Buffers(in_flight + 2, segment_size)
        self._segments = _Buffers(in_flight + 2, segment_size + _TAG_SIZE)
        self._workers: _Workers[memoryview] = _Workers("envelope-encrypt", _CIPHER_THREADS, in_flight)
        self._digest = _PlaintextDigest(in_flight)
        self._index = 0  # of the next segment to encrypt
        self._read = 0  # chunks read from the source
        self._lookahead: memoryview | None = None
        self._source_done = False
        self._finished = False
        self._header_sent = False
        self._size = 0

    def _read_plaintext(self) -> memoryview:
        chunk = _read_into(self._source, self._plaintexts[self._read])
        self._read += 1
        if chunk:
            self._digest.update(chunk, first=not self._size)
            self._size += len(chunk)
        return chunk

    def _read_chunk(self) -> tuple[memoryview, bool]:
        """The next plaintext chunk and whether it is the final one."""
        chunk = self._lookahead if self._lookahead is not None else self._read_plaintext()
        # A full chunk is final only if nothing follows it, so read one chunk ahead.
        if len(chunk) == self._segment_size:
            self._lookahead = self._read_plaintext()
            final = not self._lookahead
        else:
            self._lookahead = None
            final = True
        self._source_done = final
        return chunk, final

    def _next_block(self) -> memoryview | None:
        if not self._header_sent:
            self._header_sent = True
            return memoryview(self._header)
        if not self._workers:
            if self._source_done:
                return None
            chunk, final = self._read_chunk()
            if final and not self._workers.started:  # a one-segment object: no thread for it
                segment = self._cipher.encrypt(self._index, final, chunk, self._segments[self._index])
                self._index += 1
                self._finish()
                return segment
            self._submit(chunk, final)
        while not self._source_done and not self._workers.full:
            self._submit(*self._read_chunk())
        segment = self._workers.take()
        if self._source_done and not self._workers:
            self._finish()
        return segment

    def _submit(self, chunk: memoryview, final: bool) -> None:
        self._workers.submit(self._cipher.encrypt, self._index, final, chunk, self._segments[self._index])
        self._index += 1

    def _finish(self) -> None:
        self._workers.stop()
        self._digest.finish()
        self._finished = True

    @property
    def plaintext_sha256(self) -> str:
        """Hex SHA-256 of the plaintext; available once the reader is exhausted."""
        self._require_finished()
        return self._digest.finish()

    @property
    def plaintext_size(self) -> int:
        """Plaintext length in bytes; available once the reader is exhausted."""
        self._require_finished()
        return self._size

    def _require_finished(self) -> None:
        if not self._finished:
            raise RuntimeError("the plaintext digest is known only after the stream is read to the end")

    def close(self) -> None:
        if not self.closed:
            try:
                self._workers.stop()
                self._digest.close()
            finally:
                super().close()


class DecryptingReader(_SegmentReader):
    """Plaintext of an envelope stream, produced lazily; closing it closes the source.

    Each block read is the plaintext of one segment, released once it authenticates. When an object
    has more than one segment, the next few segments are decrypted ahead on worker threads
    (AES-GCM releases the GIL) while the reading thread fetches ciphertext; they are still released
    strictly in order, and a segment failing authentication raises DecryptionError when its turn
    comes, after which the stream releases nothing more.
    """

    def __init__(self, source: BinaryIO, *, data_key: bytes, object_id: str) -> None:
        super().__init__()
        self._source = source
        header = _read_exact(source, _HEADER.size)
        if len(header) != _HEADER.size:
            raise DecryptionError("ciphertext is shorter than the envelope header")
        magic, version, algorithm_id, segment_size, _salt, _prefix = _HEADER.unpack(header)
        if magic != _MAGIC:
            raise DecryptionError("not an envelope-encrypted object (bad magic)")
        if version != _VERSION:
            raise DecryptionError(f"unsupported envelope version {version}")
        if algorithm_id not in _ALGORITHMS_BY_ID:
            raise DecryptionError(f"unknown algorithm id {algorithm_id}")
        if not 1 <= segment_size <= MAX_SEGMENT_SIZE:
            raise DecryptionError(f"implausible segment size {segment_size}")
        algorithm = _ALGORITHMS_BY_ID[algorithm_id]
        if len(data_key) != _key_size(algorithm):
            raise DecryptionError(f"data key has the wrong length for {algorithm}")
        self._cipher = _SegmentCipher(header, data_key, object_id)
        self._segment_ct_size = segment_size + _TAG_SIZE
        in_flight = _in_flight(self._segment_ct_size)
        # Alive at once: the queued segments, the one read ahead, the one handed out.
        self._segments = _Buffers(in_flight + 2, self._segment_ct_size)
        self._plaintexts = _Buffers(in_flight + 2, segment_size)
        self._workers: _Workers[memoryview] = _Workers("envelope-decrypt", _CIPHER_THREADS, in_flight)
        self._index = 0  # of the next segment to decrypt
        self._read = 0  # segments read from the source
        self._lookahead: memoryview | None = None
        self._source_done = False
        self._failed = False

    @property
    def algorithm(self) -> str:
        return self._cipher.algorithm

    def _read_ciphertext(self) -> memoryview:
        segment = _read_into(self._source, self._segments[self._read])
        self._read += 1
        return segment

    def _read_segment(self) -> tuple[memoryview, bool]:
        """The next ciphertext segment and whether it is the final one."""
        segment = self._lookahead if self._lookahead is not None else self._read_ciphertext()
        # Only the last segment may end the stream, so read one segment ahead.
        if len(segment) == self._segment_ct_size:
            self._lookahead = self._read_ciphertext()
            final = not self._lookahead
        else:
            self._lookahead = None
            final = True
        self._source_done = final
        return segment, final

    def _next_block(self) -> memoryview | None:
        if self._failed:
            raise DecryptionError("the stream already failed authentication; nothing after it is released")
        try:
            return self._next_plaintext()
        except DecryptionError:
            self._failed = True
            raise

    def _next_plaintext(self) -> memoryview | None:
        if not self._workers:
            if self._source_done:
                self._workers.stop()
                return None
            segment, final = self._read_segment()
            if final and not self._workers.started:  # a one-segment object: no thread for it
                plaintext = self._cipher.decrypt(self._index, final, segment, self._plaintexts[self._index])
                self._index += 1
                return plaintext
            self._submit(segment, final)
        while not self._source_done and not self._workers.full:
            self._submit(*self._read_segment())
        return self._workers.take()

    def _submit(self, segment: memoryview, final: bool) -> None:
        self._workers.submit(self._cipher.decrypt, self._index, final, segment, self._plaintexts[self._index])
        self._index += 1

    def close(self) -> None:
        if not self.closed:
            try:
                self._workers.stop()
                self._source.close()
            finally:
                super().close()


def encrypt_stream(
    source: BinaryIO,
    *,
    data_key: bytes,
    object_id: str,
    algorithm: str = DEFAULT_ALGORITHM,
    segment_size: int = DEFAULT_SEGMENT_SIZE,
) -> EncryptingReader:
    """Return a lazy reader of the ciphertext of `source`, bound to `object_id`."""
    return EncryptingReader(
        source, data_key=data_key, object_id=object_id, algorithm=algorithm, segment_size=segment_size
    )


def decrypt_stream(source: BinaryIO, *, data_key: bytes, object_id: str) -> DecryptingReader:
    """Return a lazy reader of the plaintext; raises DecryptionError on any tampering.

    The header is checked at once; segments are authenticated as they are read. The returned reader
    owns `source` and closes it.
    """
    try:
        return DecryptingReader(source, data_key=data_key, object_id=object_id)
    except BaseException:
        source.close()
        raise


class EncryptedStore:
    """Envelope-encrypt objects on their way into an ObjectStore; the object key is the AEAD object id."""

    def __init__(self, store: ObjectStore, *, segment_size: int = DEFAULT_SEGMENT_SIZE) -> None:
        self.store = store
        self.segment_size = segment_size

    def put(
        self, key: str, source: BinaryIO, *, data_key: bytes, algorithm: str = DEFAULT_ALGORITHM
    ) -> PutResult:
        """Encrypt and store `source` under `key`; return the plaintext's size and SHA-256."""
        # Closing stops the hashing thread when the store gives up half-way.
        with encrypt_stream(
            source, data_key=data_key, object_id=key, algorithm=algorithm, segment_size=self.segment_size
        ) as reader:
            self.store.put(key, reader)
            return PutResult(size=reader.plaintext_size, sha256=reader.plaintext_sha256)

    def open(self, key: str, *, data_key: bytes) -> BinaryIO:
        """Return a decrypting stream (caller closes it); raises ObjectNotFoundError, DecryptionError.

        The stream is buffered already; `readinto` a reused buffer spares an allocation per read.
        """
        return decrypt_stream(self.store.open(key), data_key=data_key, object_id=key)  # type: ignore[return-value]

    def delete(self, key: str) -> None:
        """Delete the object; idempotent."""
        self.store.delete(key)

    def exists(self, key: str) -> bool:
        return self.store.exists(key)


# --- keyring ----------------------------------------------------------------------------------------


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not valid base64") from None


def _derive(master_key: bytes, purpose: bytes) -> bytes:
    """Derive a purpose-specific subkey so wrapping and sealing never share an AES-GCM key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"cfa-keyring-v1|" + purpose).derive(
        master_key
    )


class Keyring:
    """Master keys (32 bytes, ids like "k1"), one of them active, plus the PII lookup key.

    New data keys are wrapped and new values sealed under the active key; any key still held can
    unwrap. A retired key's material is forgotten, so whatever it protected must be rewrapped first.
    The lookup key (HMAC key for keyed hashes of PII) never changes on rotation.
    """

    def __init__(
        self,
        keys: Mapping[str, bytes],
        active_id: str,
        lookup_key: bytes,
        retired: Iterable[str] = (),
    ) -> None:
        for key_id, key in keys.items():
            if not _KEY_ID.match(key_id):
                raise ValueError(f"invalid key id {key_id!r}: use letters, digits, '-' and '_'")
            if len(key) != _MASTER_KEY_SIZE:
                raise ValueError(f"master key {key_id} must be {_MASTER_KEY_SIZE} bytes")
        if active_id not in keys:
            raise ValueError(f"active key {active_id!r} is not in the keyring")
        if len(lookup_key) != 32:
            raise ValueError("lookup key must be 32 bytes")
        self._keys = dict(keys)
        self._active_id = active_id
        self._lookup_key = bytes(lookup_key)
        self._retired = [k for k in retired if k not in self._keys]
        self._subkeys: dict[tuple[str, bytes], AESGCM] = {}
        self._source: Path | None = None  # the key file this keyring follows (load)

    @classmethod
    def generate(cls) -> Keyring:
        """Return a new keyring with one fresh master key "k1" and a fresh lookup key."""
        return cls({"k1": secrets.token_bytes(_MASTER_KEY_SIZE)}, "k1", secrets.token_bytes(32))

    @classmethod
    def load_or_create(cls, path: Path) -> Keyring:
        """Load the keyring file at `path`, creating it (mode 0600) with fresh keys if missing."""
        path = Path(path)
        if not path.exists():
            keyring = cls.generate()
            keyring.save(path, overwrite=False)
            keyring._source = path
            return keyring
        return cls.load(path)

    @classmethod
    def load(cls, path: Path) -> Keyring:
        """Load a keyring file; refuses one readable by group or others."""
        path = Path(path)
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise StorageError(f"keyring {path} has mode {mode:o}; it must be 0600 (chmod 600 {path})")
        keyring = cls.from_bytes(path.read_bytes(), source=str(path))
        # Another process may rotate the file while this one runs (scale-out: workers and web processes
        # share the key file): a key id this keyring does not hold makes it read the file again.
        keyring._source = path
        return keyring

    @classmethod
    def from_bytes(cls, payload: bytes, *, source: str = "data") -> Keyring:
        """Read a keyring in the key file's format (what `to_bytes` writes); raises StorageError."""
        try:
            data = json.loads(payload.decode("utf-8"))
            keys = {kid: _b64decode(k, f"key {kid}") for kid, k in data["keys"].items()}
            return cls(
                keys, data["active"], _b64decode(data["lookup_key"], "lookup key"), data.get("retired", ())
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StorageError(f"keyring {source} is malformed: {exc}") from None

    @classmethod
    def from_env(cls, master_keys: str, lookup_key: str) -> Keyring:
        """Build a keyring from configuration strings.

        `master_keys` is a comma-separated list of `id:base64` entries, e.g.
        "k2:9x...=,k1:Qm...=". The first entry is active unless another is marked with a leading
        '*' ("k1:Qm...=,*k2:9x...="). Each key is 32 bytes, standard base64. `lookup_key` is
        32 bytes in standard base64.
        """
        keys: dict[str, bytes] = {}
        marked: list[str] = []
        for entry in (e.strip() for e in master_keys.split(",")):
            if not entry:
                continue
            key_id, sep, encoded = entry.partition(":")
            if not sep:
                raise ValueError("master keys must be written as id:base64, separated by commas")
            key_id = key_id.strip()
            if key_id.startswith("*"):
                key_id = key_id[1:]
                marked.append(key_id)
            if key_id in keys:
                raise ValueError(f"master key {key_id!r} is listed twice")
            keys[key_id] = _b64decode(encoded, f"master key {key_id}")
        if not keys:
            raise ValueError("no master keys given")
        if len(marked) > 1:
            raise ValueError("only one master key may be marked active with '*'")
        active = marked[0] if marked else next(iter(keys))
        return cls(keys, active, _b64decode(lookup_key, "lookup key"))

    def to_env(self) -> tuple[str, str]:
        """Return (master_keys, lookup_key) strings in the format `from_env` reads."""
        entries = [
            f"{'*' if kid == self._active_id else ''}{kid}:{base64.b64encode(k).decode()}"
            for kid, k in self._keys.items()
        ]
        return ",".join(entries), base64.b64encode(self._lookup_key).decode()

    def save(self, path: Path, *, overwrite: bool = True) -> None:
        """Write the keyring atomically with mode 0600."""
        write_private(path, self.to_bytes(), overwrite=overwrite)

    def to_bytes(self) -> bytes:
        """The keyring in the key file's format (JSON): secret material, to be written or sealed only."""
        data = {
            "version": 1,
            "active": self._active_id,
            "keys": {kid: base64.b64encode(k).decode() for kid, k in self._keys.items()},
            "retired": self._retired,
            "lookup_key": base64.b64encode(self._lookup_key).decode(),
        }
        return json.dumps(data, indent=2).encode("utf-8")

    @property
    def active_id(self) -> str:
        return self._active_id

    @property
    def key_ids(self) -> list[str]:
        """Ids of the master keys held, oldest first."""
        return list(self._keys)

    @property
    def lookup_key(self) -> bytes:
        return self._lookup_key

    def add_key(self) -> str:
        """Add a fresh master key, make it active and return its id."""
        used = [int(k[1:]) for k in [*self._keys, *self._retired] if re.fullmatch(r"k\d+", k)]
        key_id = f"k{max(used, default=0) + 1}"
        self._keys[key_id] = secrets.token_bytes(_MASTER_KEY_SIZE)
        self._active_id = key_id
        return key_id

    def retire(self, key_id: str) -> None:
        """Forget master key `key_id`; the active key cannot be retired."""
        if key_id == self._active_id:
            raise ValueError(f"{key_id} is the active key; add a new key before retiring it")
        if key_id not in self._keys:
            raise KeyError(key_id)
        del self._keys[key_id]
        self._retired.append(key_id)
        self._subkeys = {k: v for k, v in self._subkeys.items() if k[0] != key_id}

    def adopt(self, other: Keyring) -> None:
        """Take other's keys in place, so every holder of this keyring sees a rotation or retirement."""
        self._keys, self._active_id, self._retired = dict(other._keys), other._active_id, list(other._retired)
        self._lookup_key = other._lookup_key
        self._subkeys = {}

    def _follow_file(self) -> None:
        """Take the key file's current keys (another process rotated); keep these if it cannot be read."""
        assert self._source is not None
        with contextlib.suppress(OSError, StorageError):
            self.adopt(Keyring.load(self._source))

    def _subkey(self, key_id: str, purpose: bytes) -> AESGCM:
        if key_id not in self._keys and key_id not in self._retired and self._source is not None:
            self._follow_file()
        if key_id not in self._keys:
            state = "retired" if key_id in self._retired else "unknown"
            raise KeyUnavailableError(f"master key {key_id!r} is {state}")
        cache_key = (key_id, purpose)
        if cache_key not in self._subkeys:
            self._subkeys[cache_key] = AESGCM(_derive(self._keys[key_id], purpose))
        return self._subkeys[cache_key]

    def wrap(self, data_key: bytes, algorithm: str = DEFAULT_ALGORITHM) -> WrappedKey:
        """Encrypt a data key under the active master key (AES-256-GCM, algorithm bound as AAD)."""
        _check_data_key(data_key, algorithm)
        nonce = secrets.token_bytes(12)
        aad = _wrap_aad(self._active_id, algorithm)
        wrapped = nonce + self._subkey(self._active_id, b"wrap").encrypt(nonce, data_key, aad)
        return WrappedKey(key_id=self._active_id, algorithm=algorithm, wrapped=wrapped)

    def unwrap(self, wrapped_key: WrappedKey) -> bytes:
        """Return the data key; raises KeyUnavailableError or DecryptionError."""
        aes = self._subkey(wrapped_key.key_id, b"wrap")
        blob = wrapped_key.wrapped
        try:
            data_key = aes.decrypt(blob[:12], blob[12:], _wrap_aad(wrapped_key.key_id, wrapped_key.algorithm))
        except (InvalidTag, ValueError):  # ValueError: too short to hold a nonce and a tag (e.g. destroyed)
            raise DecryptionError(f"wrapped key under {wrapped_key.key_id} failed authentication") from None
        _check_data_key(data_key, wrapped_key.algorithm)
        return data_key

    def rewrap(self, wrapped_key: WrappedKey) -> WrappedKey:
        """Return the same data key wrapped under the active master key."""
        if wrapped_key.key_id == self._active_id:
            return wrapped_key
        return self.wrap(self.unwrap(wrapped_key), wrapped_key.algorithm)

    def _seal(self, plaintext: bytes) -> str:
        nonce = secrets.token_bytes(12)
        ciphertext = self._subkey(self._active_id, b"seal").encrypt(
            nonce, plaintext, _seal_aad(self._active_id)
        )
        return f"{self._active_id}:{base64.b64encode(nonce + ciphertext).decode('ascii')}"

    def _open_sealed(self, token: str) -> bytes:
        key_id, sep, encoded = token.partition(":")
        if not sep:
            raise DecryptionError("not a sealed token")
        aes = self._subkey(key_id, b"seal")
        try:
            blob = base64.b64decode(encoded, validate=True)
            return aes.decrypt(blob[:12], blob[12:], _seal_aad(key_id))
        except (InvalidTag, binascii.Error, ValueError):
            raise DecryptionError("sealed value failed authentication") from None


def _wrap_aad(key_id: str, algorithm: str) -> bytes:
    return f"cfa-wrap-v1|{key_id}|{algorithm}".encode()


def _seal_aad(key_id: str) -> bytes:
    return f"cfa-seal-v1|{key_id}".encode()


# --- field-level helpers --------------------------------------------------------------------------


def seal(value: str, keyring: Keyring) -> str:
    """Encrypt a small value under the active master key; return an ASCII token "k1:base64"."""
    return keyring._seal(value.encode("utf-8"))


def open_sealed(token: str, keyring: Keyring) -> str:
    """Decrypt a token made by `seal`; raises DecryptionError or KeyUnavailableError."""
    return keyring._open_sealed(token).decode("utf-8")


def keyed_hash(value: str, keyring: Keyring) -> str:
    """Return HMAC-SHA256 of the UTF-8 value under the lookup key (hex), for equality lookups.

    Normalise the value (case, spaces, Unicode form) before hashing if lookups should ignore them.
    """
    return hmac.new(keyring.lookup_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def write_private(path: Path, payload: bytes, *, overwrite: bool = True) -> None:
    """Write payload to path atomically with mode 0600 (its folder 0700 when created); with overwrite
    false, fail if the file exists (another process made it meanwhile)."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if the file exists
            os.unlink(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
