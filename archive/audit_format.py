"""The audit chain's byte formats: canonical entries, the hash chain, Merkle trees and proofs.

Standard library only: the offline verifier imports this module and nothing of the database.

Canonical entry (format "archive-audit/1"): the UTF-8 bytes of the JSON array

    ["archive-audit/1", table, seq, prev_hash, occurred_at, actor_id, actor_name, event_type,
     target_type, target_id, outcome, remote_addr, detail]

written with sorted object keys, no whitespace (separators "," and ":"), non-ASCII characters as
themselves (not \\u escapes); `occurred_at` is UTC ISO 8601 with microseconds and a "Z"
("2026-12-01T21:43:28.123456Z"); `actor_id` is an integer or null; `detail` is the event's JSON
object. The entry's hash is the lowercase hex SHA-256 of those bytes; `prev_hash` is the previous
entry's hash, 64 zeros for the first. Because `table` is part of every entry, another table (the
destruction register, borrowing decisions) joins the same chain by taking its seq from the same head
and defining its own field list after the first four (see chain.py).

Merkle trees follow RFC 6962 (Certificate Transparency): leaf = SHA-256(0x00 || entry hash bytes),
node = SHA-256(0x01 || left || right), split at the largest power of two below n; the empty tree's
root is SHA-256 of nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

FORMAT = "archive-audit/1"
GENESIS = "0" * 64
AUDIT_EVENT_FIELDS = ("occurred_at", "actor_id", "actor_name", "event_type", "target_type", "target_id",
                      "outcome", "remote_addr", "detail")


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(value: Any) -> bytes:
    """The one JSON byte form everything here hashes or signs."""
    return _ENCODER.encode(value).encode("utf-8")


def format_time(moment: datetime) -> str:
    """UTC ISO 8601 with microseconds; a naive datetime (SQLite gives them back) is taken as UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds") + "Z"  # as strftime("%Y-%m-%dT%H:%M:%S.%fZ"), faster


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def entry_bytes(table: str, seq: int, prev_hash: str, values: Sequence[Any]) -> bytes:
    return canonical_json([FORMAT, table, seq, prev_hash, *values])


def entry_hash(table: str, seq: int, prev_hash: str, values: Sequence[Any]) -> str:
    return hashlib.sha256(entry_bytes(table, seq, prev_hash, values)).hexdigest()


def audit_event_values(event: Mapping[str, Any]) -> list[Any]:
    """An audit event's fields in canonical order, from a mapping of its columns (as exported)."""
    occurred_at = event["occurred_at"]
    if isinstance(occurred_at, datetime):
        occurred_at = format_time(occurred_at)
    return [occurred_at, event["actor_id"], event["actor_name"], event["event_type"], event["target_type"],
            event["target_id"], event["outcome"], event["remote_addr"], event["detail"] or {}]


# --- Merkle trees (RFC 6962) ---------------------------------------------------------------------


def leaf_hash(entry_hash_hex: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(entry_hash_hex)).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(entry_hashes: Sequence[str]) -> str:
    """The RFC 6962 tree head over the entries' hashes, hex."""
    if not entry_hashes:
        return hashlib.sha256(b"").hexdigest()
    level = [leaf_hash(h) for h in entry_hashes]
    while len(level) > 1:
        paired = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0].hex()


def _subtree_root(leaves: Sequence[bytes]) -> bytes:
    level = list(leaves)
    while len(level) > 1:
        paired = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def inclusion_path(index: int, entry_hashes: Sequence[str]) -> list[str]:
    """The audit path (RFC 6962 PATH(m, D[n])) proving entry `index` is in the tree, hex, leaf upward."""
    leaves = [leaf_hash(h) for h in entry_hashes]

    def path(m: int, nodes: Sequence[bytes]) -> list[bytes]:
        if len(nodes) <= 1:
            return []
        k = 1 << ((len(nodes) - 1).bit_length() - 1)
        if m < k:
            return [*path(m, nodes[:k]), _subtree_root(nodes[k:])]
        return [*path(m - k, nodes[k:]), _subtree_root(nodes[:k])]

    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is outside a tree of {len(leaves)}")
    return [p.hex() for p in path(index, leaves)]


def root_from_path(index: int, tree_size: int, entry_hash_hex: str, path: Sequence[str]) -> str | None:
    """The root the audit path leads to (RFC 9162 2.1.3.2), or None if the path does not fit the tree."""
    if not 0 <= index < tree_size:
        return None
    fn, sn, r = index, tree_size - 1, leaf_hash(entry_hash_hex)
    for p_hex in path:
        p = bytes.fromhex(p_hex)
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return r.hex() if sn == 0 else None


# --- checkpoints ----------------------------------------------------------------------------------

CHECKPOINT_FORMAT = "archive-audit-checkpoint/1"


def checkpoint_digest(checkpoint_file: Mapping[str, Any]) -> str:
    """What the next checkpoint names as `previous`: SHA-256 of the whole signed file, canonical."""
    return hashlib.sha256(canonical_json(dict(checkpoint_file))).hexdigest()
