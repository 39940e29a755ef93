"""Checkpoint signing keys: Ed25519 (cryptography) by default, SM2 with SM3 (gmssl, GB/T 32918 / 39784).

The private key lives outside the database in a 0600 JSON file (ARCHIVE_HOME/keys/audit-signing.json,
like the master keys); beside it `audit-signing.pub.json` is the public key a customer or regulator
keeps to verify checkpoints offline:

    {"algorithm": "ed25519" | "sm2-sm3", "public_key": "<hex>", "key_id": "<16 hex>"}

Ed25519 public keys are the raw 32 bytes; SM2 ones the 64-byte uncompressed point X||Y (no 04 prefix,
gmssl's form). The key id is the first 16 hex digits of SHA-256 over the algorithm name, a colon and the
public key hex. SM2 signs with the default user id 1234567812345678 (GB/T 32918's Z value, via SM3).
Standard library and cryptography only at import; gmssl is imported when an SM2 key is used.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

ED25519 = "ed25519"
SM2 = "sm2-sm3"
ALGORITHMS = (ED25519, SM2)


class SigningKeyError(Exception):
    """A signing or public key file that is missing, malformed or too widely readable."""


def key_id(algorithm: str, public_key_hex: str) -> str:
    return hashlib.sha256(f"{algorithm}:{public_key_hex}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class PublicKey:
    algorithm: str
    public_key: str  # hex

    @property
    def key_id(self) -> str:
        return key_id(self.algorithm, self.public_key)

    def verify(self, data: bytes, signature: bytes) -> bool:
        if self.algorithm == ED25519:
            from cryptography.exceptions import InvalidSignature
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

            try:
                Ed25519PublicKey.from_public_bytes(bytes.fromhex(self.public_key)).verify(signature, data)
                return True
            except (InvalidSignature, ValueError):
                return False
        from gmssl import sm2

        crypt = sm2.CryptSM2(private_key="", public_key=self.public_key)
        try:
            return bool(crypt.verify_with_sm3(signature.hex(), data))
        except Exception:  # gmssl raises assorted errors on malformed signatures
            return False

    def as_json(self) -> dict[str, str]:
        return {"algorithm": self.algorithm, "public_key": self.public_key, "key_id": self.key_id}

    @classmethod
    def load(cls, path: Path) -> PublicKey:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            key = cls(data["algorithm"], data["public_key"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SigningKeyError(f"public key {path} is unreadable or malformed: {exc}") from None
        if key.algorithm not in ALGORITHMS:
            raise SigningKeyError(f"public key {path}: unknown algorithm {key.algorithm!r}")
        return key


@dataclass(frozen=True)
class Signer:
    algorithm: str
    private_key: str  # hex
    public: PublicKey

    @property
    def key_id(self) -> str:
        return self.public.key_id

    def sign(self, data: bytes) -> bytes:
        if self.algorithm == ED25519:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

            return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(self.private_key)).sign(data)
        from gmssl import sm2

        crypt = sm2.CryptSM2(private_key=self.private_key, public_key=self.public.public_key)
        nonce = f"{secrets.randbelow(int(sm2.default_ecc_table['n'], 16) - 1) + 1:064x}"  # not gmssl's `random`
        return bytes.fromhex(crypt.sign_with_sm3(data, nonce))

    @classmethod
    def generate(cls, algorithm: str = ED25519) -> Signer:
        if algorithm == ED25519:
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

            private = Ed25519PrivateKey.generate()
            raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                        serialization.NoEncryption())
            public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return cls(ED25519, raw.hex(), PublicKey(ED25519, public.hex()))
        if algorithm == SM2:
            from gmssl import sm2

            n = int(sm2.default_ecc_table["n"], 16)
            private_hex = f"{secrets.randbelow(n - 1) + 1:064x}"
            crypt = sm2.CryptSM2(private_key=private_hex, public_key="")
            public_hex = crypt._kg(int(private_hex, 16), sm2.default_ecc_table["g"])
            return cls(SM2, private_hex, PublicKey(SM2, public_hex))
        raise SigningKeyError(f"unknown signing algorithm {algorithm!r}: use one of {', '.join(ALGORITHMS)}")

    def save(self, path: Path) -> None:
        """Write the private key file (0600, never overwritten) and the public key file beside it."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"algorithm": self.algorithm, "private_key": self.private_key,
                       "public_key": self.public.public_key}, handle)
        public_key_path(path).write_text(json.dumps(self.public.as_json()) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Signer:
        path = Path(path)
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise SigningKeyError(f"audit signing key {path} has mode {mode:o}; it must be 0600 (chmod 600 {path})")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(data["algorithm"], data["private_key"], PublicKey(data["algorithm"], data["public_key"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise SigningKeyError(f"audit signing key {path} is malformed: {exc}") from None

    @classmethod
    def load_or_create(cls, path: Path, algorithm: str = ED25519) -> Signer:
        """Load the key at `path`, creating one with `algorithm` if missing; the public file is rewritten
        when absent."""
        path = Path(path)
        if not path.exists():
            signer = cls.generate(algorithm)
            signer.save(path)
            return signer
        signer = cls.load(path)
        if not public_key_path(path).exists():
            public_key_path(path).write_text(json.dumps(signer.public.as_json()) + "\n", encoding="utf-8")
        return signer


def public_key_path(private_key_path: Path) -> Path:
    """audit-signing.json -> audit-signing.pub.json"""
    path = Path(private_key_path)
    return path.with_name(f"{path.stem}.pub.json")
