"""Streaming envelope encryption, the keyring and field-level sealing."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import threading
import tracemalloc
from pathlib import Path

import pytest

from storage.base import DecryptionError, KeyUnavailableError, StorageError
from storage.envelope import (
    AES_256_GCM,
    SM4_GCM,
    EncryptedStore,
    Keyring,
    WrappedKey,
    decrypt_stream,
    encrypt_stream,
    keyed_hash,
    new_data_key,
    open_sealed,
    seal,
)
from storage.filesystem import FilesystemStore

SEGMENT = 64
HEADER_SIZE = 33
TAG = 16


def encrypt(
    plaintext: bytes,
    *,
    key: bytes,
    object_id: str = "documents/1/original",
    algorithm: str = AES_256_GCM,
    segment_size: int = SEGMENT,
) -> bytes:
    reader = encrypt_stream(
        io.BytesIO(plaintext),
        data_key=key,
        object_id=object_id,
        algorithm=algorithm,
        segment_size=segment_size,
    )
    return reader.read()


def decrypt(ciphertext: bytes, *, key: bytes, object_id: str = "documents/1/original") -> bytes:
    with decrypt_stream(io.BytesIO(ciphertext), data_key=key, object_id=object_id) as reader:
        return reader.read()


def segments_of(ciphertext: bytes, segment_size: int = SEGMENT) -> tuple[bytes, list[bytes]]:
    body = ciphertext[HEADER_SIZE:]
    size = segment_size + TAG
    return ciphertext[:HEADER_SIZE], [body[i : i + size] for i in range(0, len(body), size)]


@pytest.fixture
def key() -> bytes:
    return new_data_key(AES_256_GCM)


# --- round trips -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size", [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT, 10 * SEGMENT + 7], ids=lambda n: f"{n}B"
)
def test_plaintext_of_any_length_survives_a_round_trip(key: bytes, size: int) -> None:
    plaintext = os.urandom(size)
    assert decrypt(encrypt(plaintext, key=key), key=key) == plaintext


def test_empty_plaintext_still_produces_one_final_segment(key: bytes) -> None:
    ciphertext = encrypt(b"", key=key)
    assert len(ciphertext) == HEADER_SIZE + TAG
    assert decrypt(ciphertext, key=key) == b""


def test_multi_segment_ciphertext_has_one_tag_per_segment(key: bytes) -> None:
    ciphertext = encrypt(b"x" * (3 * SEGMENT + 5), key=key)
    _, segments = segments_of(ciphertext)
    assert [len(s) for s in segments] == [SEGMENT + TAG] * 3 + [5 + TAG]


def test_the_encrypting_reader_reports_plaintext_digest_and_size_once_exhausted(key: bytes) -> None:
    plaintext = os.urandom(5 * SEGMENT + 3)
    reader = encrypt_stream(
        io.BytesIO(plaintext), data_key=key, object_id="o", algorithm=AES_256_GCM, segment_size=SEGMENT
    )
    with pytest.raises(RuntimeError):
        _ = reader.plaintext_sha256
    while reader.read(7):
        pass
    assert reader.plaintext_size == len(plaintext)
    assert reader.plaintext_sha256 == hashlib.sha256(plaintext).hexdigest()


def test_the_same_plaintext_encrypts_differently_each_time(key: bytes) -> None:
    assert encrypt(b"same", key=key) != encrypt(b"same", key=key)


def test_the_default_segment_size_round_trips_several_mebibytes(key: bytes) -> None:
    plaintext = os.urandom(2 * 1024 * 1024 + 123)
    reader = encrypt_stream(io.BytesIO(plaintext), data_key=key, object_id="big", algorithm=AES_256_GCM)
    ciphertext = reader.read()
    assert decrypt(ciphertext, key=key, object_id="big") == plaintext


def test_sm4_gcm_round_trips_with_a_16_byte_key() -> None:
    sm4_key = new_data_key(SM4_GCM)
    assert len(sm4_key) == 16
    plaintext = os.urandom(4 * SEGMENT + 9)
    ciphertext = encrypt(plaintext, key=sm4_key, algorithm=SM4_GCM)
    assert decrypt(ciphertext, key=sm4_key) == plaintext


def test_sm4_gcm_detects_a_flipped_byte() -> None:
    sm4_key = new_data_key(SM4_GCM)
    ciphertext = bytearray(encrypt(b"a" * 200, key=sm4_key, algorithm=SM4_GCM))
    ciphertext[HEADER_SIZE + 3] ^= 1
    with pytest.raises(DecryptionError):
        decrypt(bytes(ciphertext), key=sm4_key)


def test_a_data_key_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError):
        encrypt(b"x", key=new_data_key(SM4_GCM), algorithm=AES_256_GCM)


# --- tampering -------------------------------------------------------------------------------------


@pytest.mark.parametrize("position", [0, 5, 10, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + SEGMENT + 2, -1])
def test_flipping_any_byte_is_detected(key: bytes, position: int) -> None:
    ciphertext = bytearray(encrypt(os.urandom(3 * SEGMENT), key=key))
    ciphertext[position] ^= 0x01
    with pytest.raises(DecryptionError):
        decrypt(bytes(ciphertext), key=key)


def test_truncating_the_last_segment_is_detected(key: bytes) -> None:
    ciphertext = encrypt(os.urandom(3 * SEGMENT + 10), key=key)
    with pytest.raises(DecryptionError):
        decrypt(ciphertext[:-1], key=key)


def test_dropping_the_final_segment_is_detected(key: bytes) -> None:
    ciphertext = encrypt(os.urandom(3 * SEGMENT + 10), key=key)
    header, segments = segments_of(ciphertext)
    with pytest.raises(DecryptionError):
        decrypt(header + b"".join(segments[:-1]), key=key)


def test_dropping_the_final_segment_of_an_exact_multiple_is_detected(key: bytes) -> None:
    ciphertext = encrypt(os.urandom(3 * SEGMENT), key=key)
    header, segments = segments_of(ciphertext)
    assert len(segments) == 3
    with pytest.raises(DecryptionError):
        decrypt(header + b"".join(segments[:-1]), key=key)


def test_dropping_a_middle_segment_is_detected(key: bytes) -> None:
    ciphertext = encrypt(os.urandom(4 * SEGMENT), key=key)
    header, segments = segments_of(ciphertext)
    with pytest.raises(DecryptionError):
        decrypt(header + segments[0] + b"".join(segments[2:]), key=key)


def test_reordering_segments_is_detected(key: bytes) -> None:
    ciphertext = encrypt(os.urandom(4 * SEGMENT), key=key)
    header, segments = segments_of(ciphertext)
    with pytest.raises(DecryptionError):
        decrypt(header + segments[1] + segments[0] + b"".join(segments[2:]), key=key)


def test_appending_data_after_the_final_segment_is_detected(key: bytes) -> None:
    ciphertext = encrypt(os.urandom(2 * SEGMENT + 1), key=key)
    with pytest.raises(DecryptionError):
        decrypt(ciphertext + b"\x00" * 5, key=key)


def test_swapping_segments_between_two_objects_under_the_same_key_is_detected(key: bytes) -> None:
    first = encrypt(os.urandom(3 * SEGMENT), key=key, object_id="documents/1/original")
    second = encrypt(os.urandom(3 * SEGMENT), key=key, object_id="documents/2/original")
    header, segments = segments_of(first)
    _, others = segments_of(second)
    with pytest.raises(DecryptionError):
        decrypt(header + segments[0] + others[1] + segments[2], key=key, object_id="documents/1/original")


def test_swapping_segments_between_two_versions_of_the_same_object_is_detected(key: bytes) -> None:
    first = encrypt(os.urandom(3 * SEGMENT), key=key)
    second = encrypt(os.urandom(3 * SEGMENT), key=key)
    header, segments = segments_of(first)
    _, others = segments_of(second)
    with pytest.raises(DecryptionError):
        decrypt(header + segments[0] + others[1] + segments[2], key=key)


def test_decrypting_under_the_wrong_object_id_fails(key: bytes) -> None:
    ciphertext = encrypt(b"customer file", key=key, object_id="documents/1/original")
    with pytest.raises(DecryptionError):
        decrypt(ciphertext, key=key, object_id="documents/2/original")


def test_decrypting_with_the_wrong_key_fails(key: bytes) -> None:
    ciphertext = encrypt(b"customer file", key=key)
    with pytest.raises(DecryptionError):
        decrypt(ciphertext, key=new_data_key(AES_256_GCM))


@pytest.mark.parametrize(
    "ciphertext", [b"", b"CFAE", b"NOPE" + b"\x00" * 40], ids=["empty", "short", "bad-magic"]
)
def test_input_that_is_not_an_envelope_is_refused(key: bytes, ciphertext: bytes) -> None:
    with pytest.raises(DecryptionError):
        decrypt(ciphertext, key=key)


def test_a_header_with_only_the_header_and_no_segment_is_refused(key: bytes) -> None:
    ciphertext = encrypt(b"data", key=key)
    with pytest.raises(DecryptionError):
        decrypt(ciphertext[:HEADER_SIZE], key=key)


# --- encrypted store -------------------------------------------------------------------------------


def test_the_encrypted_store_keeps_only_ciphertext_and_reports_the_plaintext_digest(
    tmp_path: Path, key: bytes
) -> None:
    backend = FilesystemStore(tmp_path)
    store = EncryptedStore(backend, segment_size=SEGMENT)
    plaintext = b"Customer: Zhang Wei, account 6222 0000" * 10
    result = store.put("documents/1/original", io.BytesIO(plaintext), data_key=key, algorithm=AES_256_GCM)
    assert result.size == len(plaintext)
    assert result.sha256 == hashlib.sha256(plaintext).hexdigest()
    with backend.open("documents/1/original") as raw:
        assert b"Zhang" not in raw.read()
    with store.open("documents/1/original", data_key=key) as stream:
        assert stream.read() == plaintext


def test_the_encrypted_store_refuses_an_object_copied_to_another_key(tmp_path: Path, key: bytes) -> None:
    backend = FilesystemStore(tmp_path)
    store = EncryptedStore(backend)
    store.put("documents/1/original", io.BytesIO(b"secret"), data_key=key)
    with backend.open("documents/1/original") as raw:
        backend.put("documents/2/original", raw)
    with pytest.raises(DecryptionError), store.open("documents/2/original", data_key=key) as stream:
        stream.read()


# --- the threaded pipeline of large objects ---------------------------------------------------------

MIB = 1024 * 1024


class PatternReader(io.RawIOBase):
    """`size` pseudo-random bytes produced on demand (each 64 KiB block numbered), never held whole."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self._remaining = size
        self._pattern = hashlib.sha512(b"pattern").digest() * 1024
        self._counter = 0
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if not self._pending and self._remaining:
            self._counter += 1
            self._pending = (self._counter.to_bytes(8, "big") + self._pattern[8:])[: self._remaining]
            self._remaining -= len(self._pending)
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


def envelope_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("envelope-")]


def read_all(stream: io.BufferedIOBase, how: str) -> bytes:
    """Read `stream` to the end the way a caller might."""
    parts = []
    if how == "all":
        return stream.read()
    if how == "readinto":
        buffer = bytearray(250_000)
        while count := stream.readinto(buffer):
            parts.append(bytes(buffer[:count]))
        return b"".join(parts)
    read = {"segments": lambda: stream.read(MIB), "odd sizes": lambda: stream.read(100_003),
            "read1": lambda: stream.read1(300_000), "bytes": lambda: stream.read(7_777)}[how]
    while chunk := read():
        parts.append(chunk)
    return b"".join(parts)


def test_a_multi_mebibyte_object_hashed_on_a_second_thread_reports_its_digest_and_size(key: bytes) -> None:
    plaintext = os.urandom(5 * MIB + 123)
    reader = encrypt_stream(io.BytesIO(plaintext), data_key=key, object_id="big", algorithm=AES_256_GCM)
    ciphertext = reader.read()
    assert reader.plaintext_size == len(plaintext)
    assert reader.plaintext_sha256 == hashlib.sha256(plaintext).hexdigest()
    assert decrypt(ciphertext, key=key, object_id="big") == plaintext


def test_thousands_of_small_segments_are_hashed_in_their_order(key: bytes) -> None:
    plaintext = os.urandom(5000 * SEGMENT + 7)
    reader = encrypt_stream(
        io.BytesIO(plaintext), data_key=key, object_id="o", algorithm=AES_256_GCM, segment_size=SEGMENT
    )
    ciphertext = read_all(reader, "read1")
    assert reader.plaintext_sha256 == hashlib.sha256(plaintext).hexdigest()
    assert decrypt(ciphertext, key=key, object_id="o") == plaintext


@pytest.mark.parametrize("how", ["all", "segments", "odd sizes", "read1", "readinto", "bytes"])
def test_every_way_of_reading_a_large_object_returns_the_same_plaintext(key: bytes, how: str) -> None:
    plaintext = os.urandom(3 * MIB + 1000)
    ciphertext = read_all(encrypt_stream(io.BytesIO(plaintext), data_key=key, object_id="o"), how)
    assert decrypt(ciphertext, key=key, object_id="o") == plaintext
    with decrypt_stream(io.BytesIO(ciphertext), data_key=key, object_id="o") as stream:
        assert read_all(stream, how) == plaintext


def test_sm4_gcm_round_trips_a_multi_segment_object_through_the_worker_threads() -> None:
    sm4_key = new_data_key(SM4_GCM)
    plaintext = os.urandom(3 * MIB + 5)
    reader = encrypt_stream(io.BytesIO(plaintext), data_key=sm4_key, object_id="o", algorithm=SM4_GCM)
    ciphertext = reader.read()
    assert reader.plaintext_sha256 == hashlib.sha256(plaintext).hexdigest()
    assert decrypt(ciphertext, key=sm4_key, object_id="o") == plaintext


@pytest.mark.parametrize("bad", [0, 2, 5])
def test_a_tampered_segment_of_a_large_object_stops_the_stream_right_before_it(key: bytes, bad: int) -> None:
    plaintext = os.urandom(6 * MIB + 5)
    ciphertext = bytearray(encrypt(plaintext, key=key, segment_size=MIB))
    ciphertext[HEADER_SIZE + bad * (MIB + TAG) + 100] ^= 0x01
    received = []
    with decrypt_stream(io.BytesIO(bytes(ciphertext)), data_key=key, object_id="documents/1/original") as stream:
        with pytest.raises(DecryptionError):
            while chunk := stream.read(MIB):
                received.append(chunk)
        # Segments after the bad one were decrypted ahead, yet none is ever released.
        with pytest.raises(DecryptionError):
            stream.read(MIB)
    assert b"".join(received) == plaintext[: bad * MIB]


def test_dropping_the_final_segments_of_a_large_object_is_detected(key: bytes) -> None:
    header, segments = segments_of(encrypt(os.urandom(6 * MIB), key=key, segment_size=MIB), MIB)
    for kept in range(1, len(segments)):
        with pytest.raises(DecryptionError):
            decrypt(header + b"".join(segments[:kept]), key=key)


def test_reordering_the_segments_of_a_large_object_is_detected(key: bytes) -> None:
    header, segments = segments_of(encrypt(os.urandom(6 * MIB), key=key, segment_size=MIB), MIB)
    with pytest.raises(DecryptionError):
        decrypt(header + b"".join([*segments[:2], segments[3], segments[2], *segments[4:]]), key=key)


def test_readers_stop_their_threads_at_the_end_and_when_closed_half_way(key: bytes) -> None:
    plaintext = os.urandom(8 * MIB)
    ciphertext = encrypt(plaintext, key=key, segment_size=MIB)
    encrypting = encrypt_stream(io.BytesIO(plaintext), data_key=key, object_id="documents/1/original")
    decrypting = decrypt_stream(io.BytesIO(ciphertext), data_key=key, object_id="documents/1/original")
    encrypting.read(3 * MIB)
    decrypting.read(MIB)
    running = {t.name.rsplit("_", 1)[0] for t in envelope_threads()}
    assert running == {"envelope-sha256", "envelope-encrypt", "envelope-decrypt"}
    encrypting.close()
    decrypting.close()
    assert envelope_threads() == []
    with decrypt_stream(io.BytesIO(ciphertext), data_key=key, object_id="documents/1/original") as stream:
        assert read_all(stream, "segments") == plaintext
        assert envelope_threads() == []


def test_a_put_whose_source_breaks_half_way_leaves_no_thread_behind(tmp_path: Path, key: bytes) -> None:
    class Breaking(PatternReader):
        def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
            if self._counter >= 64:  # 4 MiB in
                raise OSError("scanner unplugged")
            return super().readinto(buffer)

    with pytest.raises(OSError, match="scanner unplugged"):
        EncryptedStore(FilesystemStore(tmp_path)).put("documents/1/original", Breaking(8 * MIB), data_key=key)
    assert envelope_threads() == []
    assert list(FilesystemStore(tmp_path).list()) == []


def test_encrypting_and_decrypting_a_large_stream_holds_a_few_segments_whatever_its_size(key: bytes) -> None:
    def peak_of(size: int) -> int:
        """Encrypt `size` generated bytes and decrypt them on the fly; return the traced memory peak."""
        tracemalloc.start()
        try:
            encrypting = encrypt_stream(PatternReader(size), data_key=key, object_id="o")
            with decrypt_stream(encrypting, data_key=key, object_id="o") as decrypting:
                digest, total = hashlib.sha256(), 0
                while chunk := decrypting.read(MIB):
                    digest.update(chunk)
                    total += len(chunk)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert total == size == encrypting.plaintext_size
        assert digest.hexdigest() == encrypting.plaintext_sha256
        return peak

    small, large = peak_of(8 * MIB), peak_of(96 * MIB)
    # Holding either stream would add 88 MiB; each side reuses a few 1 MiB segment buffers (~10 MiB).
    assert large < small + 4 * MIB, f"peak {small / MIB:.1f} -> {large / MIB:.1f} MiB"
    assert large < 32 * MIB, f"peak {large / MIB:.1f} MiB"


# --- keyring ---------------------------------------------------------------------------------------


def test_load_or_create_writes_a_private_keyring_and_loads_it_back(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    created = Keyring.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert created.active_id == "k1"
    assert created.key_ids == ["k1"]
    assert len(created.lookup_key) == 32
    loaded = Keyring.load_or_create(path)
    data_key = new_data_key()
    assert loaded.unwrap(created.wrap(data_key, AES_256_GCM)) == data_key
    assert loaded.lookup_key == created.lookup_key


def test_a_keyring_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    Keyring.load_or_create(path)
    path.chmod(0o644)
    with pytest.raises(StorageError, match="0600"):
        Keyring.load_or_create(path)


def test_save_replaces_the_file_and_keeps_it_private(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    keyring = Keyring.load_or_create(path)
    keyring.add_key()
    keyring.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Keyring.load_or_create(path).key_ids == ["k1", "k2"]
    assert [p.name for p in tmp_path.iterdir()] == ["keyring.json"]


def test_rotation_makes_the_new_key_active_and_old_wrapped_keys_still_unwrap() -> None:
    keyring = Keyring.generate()
    data_key = new_data_key()
    old = keyring.wrap(data_key, AES_256_GCM)
    assert keyring.add_key() == "k2"
    assert keyring.active_id == "k2"
    assert keyring.wrap(data_key, AES_256_GCM).key_id == "k2"
    assert keyring.unwrap(old) == data_key


def test_rewrap_moves_a_data_key_to_the_active_master_key() -> None:
    keyring = Keyring.generate()
    data_key = new_data_key(SM4_GCM)
    old = keyring.wrap(data_key, SM4_GCM)
    keyring.add_key()
    new = keyring.rewrap(old)
    assert new.key_id == "k2"
    assert new.algorithm == SM4_GCM
    keyring.retire("k1")
    assert keyring.unwrap(new) == data_key


def test_unwrapping_with_a_retired_key_fails() -> None:
    keyring = Keyring.generate()
    old = keyring.wrap(new_data_key(), AES_256_GCM)
    keyring.add_key()
    keyring.retire("k1")
    assert keyring.key_ids == ["k2"]
    with pytest.raises(KeyUnavailableError, match="retired"):
        keyring.unwrap(old)


def test_the_active_key_cannot_be_retired() -> None:
    keyring = Keyring.generate()
    with pytest.raises(ValueError):
        keyring.retire("k1")


def test_retired_key_ids_are_never_reused(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    keyring = Keyring.load_or_create(path)
    keyring.add_key()
    keyring.retire("k1")
    keyring.save(path)
    reloaded = Keyring.load_or_create(path)
    assert reloaded.add_key() == "k3"


def test_a_wrapped_key_with_a_changed_algorithm_label_fails_to_unwrap() -> None:
    keyring = Keyring.generate()
    wrapped = keyring.wrap(new_data_key(SM4_GCM), SM4_GCM)
    with pytest.raises(DecryptionError):
        keyring.unwrap(WrappedKey(key_id=wrapped.key_id, algorithm=AES_256_GCM, wrapped=wrapped.wrapped))


def test_a_wrapped_key_from_another_keyring_fails_to_unwrap() -> None:
    wrapped = Keyring.generate().wrap(new_data_key(), AES_256_GCM)
    with pytest.raises(DecryptionError):
        Keyring.generate().unwrap(wrapped)


def test_from_env_reads_ids_and_base64_keys_with_the_first_active_by_default() -> None:
    original = Keyring.generate()
    original.add_key()
    master_keys, lookup_key = original.to_env()
    assert "*k2:" in master_keys
    plain = master_keys.replace("*", "")
    assert Keyring.from_env(plain, lookup_key).active_id == "k1"
    restored = Keyring.from_env(master_keys, lookup_key)
    assert restored.active_id == "k2"
    assert restored.key_ids == ["k1", "k2"]
    assert restored.lookup_key == original.lookup_key
    data_key = new_data_key()
    assert restored.unwrap(original.wrap(data_key, AES_256_GCM)) == data_key


@pytest.mark.parametrize(
    "master_keys", ["", "k1", "k1:not-base64!", "k1:AAAA", "k1:" + "A" * 44 + ",k1:" + "A" * 44]
)
def test_from_env_rejects_malformed_master_keys(master_keys: str) -> None:
    with pytest.raises(ValueError):
        Keyring.from_env(master_keys, "A" * 43 + "=")


# --- field-level sealing and keyed hashes ----------------------------------------------------------


def test_a_sealed_value_is_an_ascii_token_naming_its_key_and_opens_again() -> None:
    keyring = Keyring.generate()
    token = seal("张伟 110101199003077777", keyring)
    assert token.isascii()
    assert token.startswith("k1:")
    assert "110101" not in token
    assert open_sealed(token, keyring) == "张伟 110101199003077777"


def test_sealed_values_open_after_rotation_until_their_key_is_retired() -> None:
    keyring = Keyring.generate()
    token = seal("13800138000", keyring)
    keyring.add_key()
    assert seal("x", keyring).startswith("k2:")
    assert open_sealed(token, keyring) == "13800138000"
    keyring.retire("k1")
    with pytest.raises(KeyUnavailableError):
        open_sealed(token, keyring)


def test_a_tampered_sealed_token_is_refused() -> None:
    keyring = Keyring.generate()
    token = seal("13800138000", keyring)
    key_id, body = token.split(":")
    replacement = "A" if body[5] != "A" else "B"
    tampered = f"{key_id}:{body[:5]}{replacement}{body[6:]}"
    with pytest.raises(DecryptionError):
        open_sealed(tampered, keyring)
    with pytest.raises(DecryptionError):
        open_sealed("garbage", keyring)


def test_keyed_hash_is_stable_across_rotation_and_differs_between_keyrings() -> None:
    keyring = Keyring.generate()
    before = keyed_hash("110101199003077777", keyring)
    keyring.add_key()
    keyring.retire("k1")
    assert keyed_hash("110101199003077777", keyring) == before
    assert len(before) == 64
    assert keyed_hash("110101199003077777", Keyring.generate()) != before


@pytest.mark.parametrize("blob", [b"", b"\x00" * 11, b"\x00" * 27])
def test_a_wrapped_key_too_short_to_be_one_fails_as_a_decryption_error(blob):
    keyring = Keyring.generate()
    with pytest.raises(DecryptionError):
        keyring.unwrap(WrappedKey(keyring.active_id, "AES-256-GCM", blob))


def test_a_keyring_loaded_from_its_file_meets_a_key_another_process_added_by_reading_the_file_again(
        tmp_path: Path) -> None:
    path = tmp_path / "master.json"
    Keyring.load_or_create(path)
    running = Keyring.load(path)  # a worker that loaded the file before the rotation
    rotating = Keyring.load(path)
    rotating.add_key()
    rotating.save(path)
    wrapped = rotating.wrap(os.urandom(32))

    assert wrapped.key_id == "k2"
    assert running.unwrap(wrapped) == rotating.unwrap(wrapped)


def test_a_keyring_from_the_environment_does_not_look_for_a_file(tmp_path: Path) -> None:
    master, lookup = Keyring.generate().to_env()
    other = Keyring.from_env(master, lookup)
    other.add_key()

    with pytest.raises(KeyUnavailableError):
        Keyring.from_env(master, lookup).unwrap(other.wrap(os.urandom(32)))
