"""The keyring file of a backup: the master keyring and the audit signing key, sealed by a passphrase.

Format (JSON, one object)::

    {"format": "archive-keyring-backup/1",
     "kdf": {"name": "argon2id", "time_cost": 3, "memory_cost": 65536, "parallelism": 2, "salt": b64},
     "cipher": "AES-256-GCM", "nonce": b64, "created_at": ISO 8601, "ciphertext": b64}

The key is Argon2id (argon2-cffi) of the passphrase; AES-256-GCM seals the JSON of the keyring file and
the audit signing key file, with every other field of the file as associated data, so a changed
parameter fails like a wrong passphrase. The file never lies beside the data: the backup refuses to
write it inside the backup directory or ARCHIVE_HOME.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from archive.errors import ValidationError
from storage.base import StorageError
from storage.envelope import Keyring

FORMAT = "archive-keyring-backup/1"
# RFC 9106's second recommended option (64 MiB, 3 passes), within what a small server spares.
KDF = {"name": "argon2id", "time_cost": 3, "memory_cost": 64 * 1024, "parallelism": 2}
MIN_PASSPHRASE = 12


class KeyFileError(ValidationError):
    """The keyring file cannot be opened: wrong passphrase, altered, or not a keyring file."""


@dataclass(frozen=True)
class KeyMaterial:
    """What a restore needs that the database must never hold."""

    keyring: Keyring
    audit_signing_key: dict[str, Any] | None  # the signing key file's JSON (algorithm, private and public key)


def _derive(passphrase: str, kdf: dict[str, Any]) -> bytes:
    if kdf.get("name") != "argon2id":
        raise KeyFileError(f"unknown key derivation {kdf.get('name')!r}")
    # The parameters are read before anything is authenticated: bound them, so a doctored file cannot
    # make opening it take all memory or forever.
    if not (1 <= int(kdf["time_cost"]) <= 16 and 8 <= int(kdf["memory_cost"]) <= 1024 * 1024
            and 1 <= int(kdf["parallelism"]) <= 16):
        raise KeyFileError("the keyring file's key-derivation parameters are out of bounds")
    return hash_secret_raw(passphrase.encode("utf-8"), base64.b64decode(kdf["salt"]),
                           time_cost=int(kdf["time_cost"]), memory_cost=int(kdf["memory_cost"]),
                           parallelism=int(kdf["parallelism"]), hash_len=32, type=Type.ID)


def _aad(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")


def check_passphrase(passphrase: str) -> None:
    """Refuse a passphrase too short to stand up to guessing once the file is stolen."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise KeyFileError(f"the passphrase must be at least {MIN_PASSPHRASE} characters")


def seal_keys(material: KeyMaterial, passphrase: str) -> bytes:
    """The sealed keyring file's bytes."""
    check_passphrase(passphrase)
    header = {"format": FORMAT, "kdf": {**KDF, "salt": base64.b64encode(secrets.token_bytes(16)).decode()},
              "cipher": "AES-256-GCM", "nonce": base64.b64encode(secrets.token_bytes(12)).decode(),
              "created_at": datetime.now(UTC).isoformat(timespec="seconds")}
    plaintext = json.dumps({"keyring": material.keyring.to_bytes().decode("utf-8"),
                            "audit_signing_key": material.audit_signing_key}).encode("utf-8")
    ciphertext = AESGCM(_derive(passphrase, header["kdf"])).encrypt(
        base64.b64decode(header["nonce"]), plaintext, _aad(header))
    return json.dumps({**header, "ciphertext": base64.b64encode(ciphertext).decode()}, indent=1).encode("utf-8")


def open_keys(payload: bytes, passphrase: str) -> KeyMaterial:
    """Open a sealed keyring file; raises KeyFileError (a wrong passphrase says so)."""
    try:
        data = json.loads(payload.decode("utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise KeyFileError(f"not a backup keyring file (format {FORMAT} expected)")
        header = {name: value for name, value in data.items() if name != "ciphertext"}
        key = _derive(passphrase, header["kdf"])
        ciphertext = base64.b64decode(data["ciphertext"], validate=True)
        nonce = base64.b64decode(header["nonce"], validate=True)
    except (ValueError, KeyError, TypeError) as error:
        raise KeyFileError(f"not a backup keyring file: {error}") from None
    try:
        plaintext = AESGCM(key).decrypt(nonce, ciphertext, _aad(header))
    except InvalidTag:
        raise KeyFileError("wrong passphrase for the keyring file (or the file was altered)") from None
    content = json.loads(plaintext)
    try:
        keyring = Keyring.from_bytes(content["keyring"].encode("utf-8"), source="in the keyring file")
    except StorageError as error:
        raise KeyFileError(str(error)) from None
    return KeyMaterial(keyring, content.get("audit_signing_key"))
