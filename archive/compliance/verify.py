"""Verify the audit trail: the hash chain, every checkpoint's signature, and the Merkle roots.

Runs offline from an export and the public key, importing only the standard library, cryptography
(gmssl for SM2 keys) and the two format modules beside it:

    archive-audit-verify EXPORT.jsonl --public-key audit-signing.pub.json [--from-checkpoint FILE ...]
    archive-audit-verify --proof PROOF.json --public-key audit-signing.pub.json
    python -m archive.compliance.verify ...   (the same)

Exit status 0 when everything fits, 1 when a problem was found (the first one is named), 2 when the
input cannot be read. `archive audit verify` runs the same checks over the database.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from archive import audit_format as chainformat
from archive.compliance.signing import PublicKey, SigningKeyError

EXPORT_FORMAT = "archive-audit-export/1"
PROOF_FORMAT = "archive-audit-proof/1"
_SEARCH = 1000  # how far from its place to look for an event's original position (reorder detection)
_MAX_PROBLEMS = 100


@dataclass(frozen=True)
class Problem:
    kind: str  # edited | deleted | inserted | reordered | broken-link | truncated | rewritten | checkpoint
    seq: int | None
    event_id: int | None
    message: str


@dataclass
class Report:
    events_checked: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    checkpoints_checked: int = 0
    last_checkpoint: dict[str, Any] | None = None  # number, seq, signed_at of the newest valid one
    unsigned_events: int = 0  # written after the newest checkpoint: not yet covered by a signature
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    def summary(self) -> str:
        span = f"seq {self.first_seq}..{self.last_seq}" if self.first_seq is not None else "no events"
        line = f"checked {self.events_checked} events ({span}) and {self.checkpoints_checked} checkpoints"
        if self.ok:
            return f"{line}: ok" + (f"; {self.unsigned_events} newest events not yet signed"
                                    if self.unsigned_events else "")
        first = self.problems[0]
        return f"{line}: {len(self.problems)} problems; first: {first.kind}: {first.message}"


def _add(report: Report, kind: str, seq: int | None, event_id: int | None, message: str) -> None:
    if len(report.problems) < _MAX_PROBLEMS:
        report.problems.append(Problem(kind, seq, event_id, message))


def _values(event: Mapping[str, Any]) -> list[Any]:
    return chainformat.audit_event_values(event)


def _table(event: Mapping[str, Any]) -> str:
    return event.get("table", "audit_event")


def _name(event: Mapping[str, Any]) -> str:
    return f"event id {event.get('id')}" if event.get("id") is not None else "an event"


# --- checkpoints -----------------------------------------------------------------------------------


def check_checkpoint(checkpoint_file: Mapping[str, Any], keys: Mapping[str, PublicKey]) -> str | None:
    """None when the checkpoint's signature is good under a known key, else why not."""
    try:
        body = checkpoint_file["checkpoint"]
        signature = base64.b64decode(checkpoint_file["signature"], validate=True)
    except (KeyError, TypeError, ValueError):
        return "is not a checkpoint file"
    if body.get("format") != chainformat.CHECKPOINT_FORMAT:
        return f"has unknown format {body.get('format')!r}"
    key = keys.get(body.get("key_id", ""))
    if key is None:
        return f"was signed by key {body.get('key_id')!r}, which is not among the public keys given"
    if key.algorithm != body.get("algorithm"):
        return f"names algorithm {body.get('algorithm')!r} but key {key.key_id} is {key.algorithm}"
    if not key.verify(chainformat.canonical_json(body), signature):
        return "has a signature that does not verify: the checkpoint was altered or forged"
    return None


def _checkpoint_chain(checkpoints: Sequence[Mapping[str, Any]], deposited: Sequence[Mapping[str, Any]],
                      keys: Mapping[str, PublicKey], report: Report) -> list[dict[str, Any]]:
    """The valid checkpoints' bodies by number; problems for bad signatures, gaps and disagreements."""
    by_number: dict[int, Mapping[str, Any]] = {}
    for source, files in (("the trail", checkpoints), ("the deposited file", deposited)):
        for cp in files:
            body = cp.get("checkpoint", {}) if isinstance(cp, Mapping) else {}
            number = body.get("number")
            why = check_checkpoint(cp, keys)
            if why:
                _add(report, "checkpoint", body.get("seq"), None, f"checkpoint {number} in {source} {why}")
                continue
            known = by_number.get(number)
            report.checkpoints_checked += known is None
            if known is not None and chainformat.checkpoint_digest(known) != chainformat.checkpoint_digest(cp):
                _add(report, "checkpoint", body.get("seq"), None,
                     f"checkpoint {number} in the trail differs from the deposited copy (both signed)")
            by_number.setdefault(number, cp)
    bodies: list[dict[str, Any]] = []
    previous: Mapping[str, Any] | None = None
    for number in sorted(by_number):
        cp = by_number[number]
        body = dict(cp["checkpoint"])
        if previous is not None:
            prev_body = previous["checkpoint"]
            if number != prev_body["number"] + 1:
                _add(report, "checkpoint", prev_body["seq"], None,
                     f"checkpoints {prev_body['number'] + 1}..{number - 1} are missing")
            elif body["previous"] != chainformat.checkpoint_digest(previous):
                _add(report, "checkpoint", body["seq"], None,
                     f"checkpoint {number} does not chain to checkpoint {prev_body['number']}")
            elif body["from_seq"] != prev_body["seq"] + 1:
                _add(report, "checkpoint", body["seq"], None,
                     f"checkpoint {number} starts at seq {body['from_seq']}, not {prev_body['seq'] + 1}")
            gap = chainformat.parse_time(body["signed_at"]) - chainformat.parse_time(prev_body["signed_at"])
            if gap > timedelta(minutes=2 * max(1, body.get("interval_minutes", 0))):
                report.warnings.append(f"no checkpoint between {prev_body['signed_at']} and {body['signed_at']} "
                                       f"({gap}): the signer did not run in that time")
        bodies.append(body)
        previous = cp
    return bodies


# --- the chain -------------------------------------------------------------------------------------


def _original_seq(event: Mapping[str, Any]) -> int | None:
    """The position the event was written at, if its hash fits it elsewhere (it was moved)."""
    seq, prev, values = event["seq"], event.get("prev_hash") or "", _values(event)
    for distance in range(1, _SEARCH + 1):
        for candidate in (seq - distance, seq + distance):
            if candidate >= 1 and chainformat.entry_hash(_table(event), candidate, prev, values) == event["hash"]:
                return candidate
    return None


def verify_chain(events: Iterable[Mapping[str, Any]], *, checkpoints: Sequence[Mapping[str, Any]] = (),
                 deposited: Sequence[Mapping[str, Any]] = (), public_keys: Sequence[PublicKey] = (),
                 progress: Any = None) -> Report:
    """Check events (in seq order, unplaced ones last) against each other and the signed checkpoints."""
    report = Report()
    keys = {key.key_id: key for key in public_keys}
    bodies = _checkpoint_chain(checkpoints, deposited, keys, report)
    if bodies:
        newest = bodies[-1]
        report.last_checkpoint = {k: newest[k] for k in ("number", "seq", "signed_at")}
    heads = {body["seq"]: body for body in bodies}
    periods = iter([b for b in bodies if b["from_seq"] <= b["seq"]])
    period = next(periods, None)
    leaves: list[str] = []
    expected: int | None = None
    prev_hash = ""
    last_hash_at: dict[int, str] = {}
    moved: tuple[Problem, int] | None = None  # a moved event, and by how much, awaiting its neighbour

    def close_periods(upto: int) -> None:
        nonlocal period, leaves
        while period is not None and period["seq"] <= upto:
            if chainformat.merkle_root(leaves) != period["merkle_root"]:
                _add(report, "rewritten", period["seq"], None,
                     f"the events of seq {period['from_seq']}..{period['seq']} do not match the Merkle root "
                     f"signed in checkpoint {period['number']}")
            leaves = []
            period = next(periods, None)

    for event in events:
        seq = event.get("seq")
        if seq is None:
            _add(report, "inserted", None, event.get("id"),
                 f"{_name(event)} has no place in the chain: it was inserted outside the application")
            continue
        if expected is None:
            expected = seq
            report.first_seq = seq
            anchor = heads.get(seq - 1)
            if seq == 1:
                prev_hash = chainformat.GENESIS
            elif anchor is not None:
                prev_hash = anchor["head_hash"]
            else:
                prev_hash = event.get("prev_hash") or ""
                report.warnings.append(f"the events begin at seq {seq} with no checkpoint ending at seq {seq - 1}: "
                                       "their first link is taken on trust")
            while period is not None and period["seq"] < seq:
                period = next(periods, None)
        if seq < expected:
            _add(report, "inserted", seq, event.get("id"),
                 f"{_name(event)} is a second event at seq {seq}: it was inserted")
            continue
        if seq > expected:
            missing = f"seq {expected}" if seq == expected + 1 else f"seq {expected}..{seq - 1}"
            _add(report, "deleted", expected, event.get("id"), f"the events at {missing} are missing (deleted); "
                                                               f"the next is {_name(event)} at seq {seq}")
            close_periods(seq - 1)
        computed = chainformat.entry_hash(_table(event), seq, event.get("prev_hash") or "", _values(event))
        if computed != event.get("hash"):
            original = _original_seq(event) if len(report.problems) < 20 else None
            if original is None:
                _add(report, "edited", seq, event.get("id"),
                     f"{_name(event)} at seq {seq} was edited: its content no longer matches its hash")
            else:
                shift = seq - original
                if moved is not None and moved[1] == shift and report.problems and report.problems[-1] is moved[0]:
                    at = moved[0].seq - shift if shift > 0 else moved[0].seq
                    if shift > 0:
                        kind, what = "inserted", (f"{shift} event(s) were inserted at seq {at}"
                                                  f"{f'..{at + shift - 1}' if shift > 1 else ''} and the later "
                                                  "ones renumbered")
                    else:
                        kind, what = "deleted", (f"{-shift} event(s) were deleted at seq {at} and the later ones "
                                                 "renumbered")
                    report.problems[-1] = Problem(kind, at, moved[0].event_id, what)
                    moved = None
                else:
                    problem = Problem("reordered", seq, event.get("id"),
                                      f"{_name(event)} was written at seq {original} but stands at seq {seq}: "
                                      "the events were reordered")
                    if len(report.problems) < _MAX_PROBLEMS:
                        report.problems.append(problem)
                    moved = (problem, shift)
        elif seq == expected and event.get("prev_hash") != prev_hash:
            _add(report, "broken-link", seq, event.get("id"),
                 f"{_name(event)} at seq {seq} does not follow the event before it: that one was replaced")
        if period is not None and period["from_seq"] <= seq <= period["seq"]:
            leaves.append(computed)
        if seq in heads and computed != heads[seq]["head_hash"]:
            _add(report, "rewritten", seq, event.get("id"),
                 f"the chain at seq {seq} does not match signed checkpoint {heads[seq]['number']}: "
                 "events up to it were rewritten")
        close_periods(seq)
        last_hash_at[seq] = computed
        prev_hash = event.get("hash") or ""
        expected = seq + 1
        report.events_checked += 1
        report.last_seq = seq
        if progress is not None and report.events_checked % 10000 == 0:
            progress(report.events_checked)
    last = report.last_seq or 0
    close_periods(last)
    if bodies:
        newest = bodies[-1]
        if newest["seq"] > last:
            _add(report, "truncated", last + 1, None,
                 f"the events after seq {last} are missing: checkpoint {newest['number']}, signed at "
                 f"{newest['signed_at']}, covers up to seq {newest['seq']} — the trail was truncated")
        else:
            report.unsigned_events = last - newest["seq"]
    else:
        report.unsigned_events = report.events_checked
    return report


# --- proofs ----------------------------------------------------------------------------------------


def verify_proof(proof: Mapping[str, Any], public_keys: Sequence[PublicKey]) -> str | None:
    """None when the event is in the period signed by the proof's checkpoint, else why not."""
    if proof.get("format") != PROOF_FORMAT:
        return "not an inclusion proof"
    event, checkpoint = proof["event"], proof["checkpoint"]
    why = check_checkpoint(checkpoint, {key.key_id: key for key in public_keys})
    if why:
        return f"the checkpoint {why}"
    body = checkpoint["checkpoint"]
    computed = chainformat.entry_hash(_table(event), event["seq"], event["prev_hash"], _values(event))
    if computed != event["hash"]:
        return "the event's content does not match its hash"
    if proof["leaf_index"] != event["seq"] - body["from_seq"] or proof["tree_size"] != body["event_count"]:
        return "the proof's position does not fit the checkpoint's period"
    root = chainformat.root_from_path(proof["leaf_index"], proof["tree_size"], computed, proof["path"])
    if root != body["merkle_root"]:
        return "the audit path does not lead to the signed Merkle root"
    return None


# --- files -----------------------------------------------------------------------------------------


def read_export(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """(header, events, checkpoints) of a JSONL export."""
    header: dict[str, Any] = {}
    events: list[dict[str, Any]] = []
    checkpoints: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError:
                raise ValueError(f"{path}:{number} is not JSON") from None
            kind = item.pop("kind", None)
            if kind == "header":
                header = item
            elif kind == "event":
                events.append(item)
            elif kind == "checkpoint":
                checkpoints.append(item)
    if header.get("format") != EXPORT_FORMAT:
        raise ValueError(f"{path} is not an audit export ({EXPORT_FORMAT})")
    return header, events, checkpoints


def _ordered(events: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield from sorted(events, key=lambda e: (e.get("seq") is None, e.get("seq") or 0, e.get("id") or 0))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="archive-audit-verify", description=__doc__.splitlines()[0])
    parser.add_argument("export", nargs="?", type=Path, help="a JSONL export (archive audit export)")
    parser.add_argument("--public-key", action="append", type=Path, required=True,
                        help="the archive's audit-signing.pub.json (repeat for older keys)")
    parser.add_argument("--from-checkpoint", action="append", type=Path, default=[],
                        help="a checkpoint file deposited elsewhere: the trail must contain it (repeatable)")
    parser.add_argument("--proof", type=Path, help="check an inclusion proof (archive audit prove) instead")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        keys = [PublicKey.load(path) for path in args.public_key]
        if args.proof:
            why = verify_proof(json.loads(args.proof.read_text(encoding="utf-8")), keys)
            print("proof ok: the event is in the signed period" if why is None else f"proof FAILED: {why}")
            return 0 if why is None else 1
        if args.export is None:
            parser.error("give an export file, or --proof")
        _, events, checkpoints = read_export(args.export)
        deposited = [json.loads(path.read_text(encoding="utf-8")) for path in args.from_checkpoint]
    except (OSError, ValueError, KeyError, SigningKeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report = verify_chain(_ordered(events), checkpoints=checkpoints, deposited=deposited, public_keys=keys)
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        for warning in report.warnings:
            print(f"warning: {warning}")
        for problem in report.problems:
            print(f"problem: {problem.kind} at seq {problem.seq}: {problem.message}")
        print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
