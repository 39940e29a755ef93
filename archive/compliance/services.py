"""Use cases over the audit chain: sign a checkpoint, verify, export, prove one event, seal a range.

Each takes a unit of work and an actor, asks the access policy first and audits what it read; the
checkpoint signer and public keys are passed in (built from settings by `signer_for` at the edge).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select

from archive import access, audit
from archive import audit_format as chainformat
from archive.actors import Actor
from archive.compliance.events import (
    event_audit_exported,
    event_audit_proved,
    event_audit_range_sealed,
    event_audit_verified,
)
from archive.compliance.models import AuditCheckpoint
from archive.compliance.permissions import permission_audit_checkpoint, permission_audit_view
from archive.compliance.signing import ED25519, SM2, PublicKey, Signer
from archive.compliance.verify import EXPORT_FORMAT, PROOF_FORMAT, Report, verify_chain
from archive.config import Settings
from archive.errors import ArchiveError, NotFoundError, ValidationError
from archive.models import AuditChainHead, AuditEvent, utcnow
from archive.unit_of_work import UnitOfWork

EXPORT_FORMATS = ("jsonl", "csv", "xlsx")
COLUMNS = ("seq", "id", "occurred_at", "actor_id", "actor_name", "event_type", "target_type", "target_id",
           "outcome", "remote_addr", "detail", "prev_hash", "hash")
_EVENT_COLUMNS = [getattr(AuditEvent, name) for name in COLUMNS]


class ChainBrokenError(ArchiveError):
    """The chain does not hold together: refuse to sign over it."""


@dataclass(frozen=True)
class CheckpointView:
    number: int
    from_seq: int
    seq: int
    head_hash: str
    merkle_root: str
    signed_at: datetime
    algorithm: str
    key_id: str
    file: dict[str, Any]  # what a customer deposits elsewhere

    @property
    def event_count(self) -> int:
        return max(0, self.seq - self.from_seq + 1)


@dataclass(frozen=True)
class ExportView:
    events: int
    from_seq: int | None
    to_seq: int | None
    checkpoints: int
    format: str
    sha256: str  # of the file written


def signer_for(settings: Settings) -> Signer:
    """The checkpoint signing key under ARCHIVE_HOME/keys, created on first use (like the master keys)."""
    algorithm = SM2 if settings.audit_signing == "sm2" else ED25519
    signer = Signer.load_or_create(settings.audit_signing_key_file, algorithm)
    if signer.algorithm != algorithm:
        raise ValidationError(f"the audit signing key {settings.audit_signing_key_file} is {signer.algorithm}, "
                              f"but ARCHIVE_AUDIT_SIGNING={settings.audit_signing}")
    return signer


def public_key_for(settings: Settings) -> PublicKey:
    return signer_for(settings).public


def _checkpoint_view(row: AuditCheckpoint) -> CheckpointView:
    file = {"checkpoint": json.loads(row.body), "signature": row.signature}
    return CheckpointView(row.number, row.from_seq, row.seq, row.head_hash, row.merkle_root, row.signed_at,
                          row.algorithm, row.key_id, file)


def _period_hashes(uow: UnitOfWork, from_seq: int, to_seq: int) -> list[Any]:
    return list(uow.session.execute(
        select(AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.hash)
        .where(AuditEvent.seq.between(from_seq, to_seq)).order_by(AuditEvent.seq)
    ).all())


# --- checkpoints -----------------------------------------------------------------------------------


def sign_checkpoint(uow: UnitOfWork, *, actor: Actor, signer: Signer, interval_minutes: int,
                    now: datetime | None = None) -> CheckpointView:
    """Sign the chain head: seq, head hash, time, and the Merkle root over the events since the last
    checkpoint (none: a heartbeat, so a gap in time shows). Requires permission_audit_checkpoint.
    Raises ChainBrokenError, and signs nothing, when the period's events do not link up."""
    with uow:
        access.require(actor, permission_audit_checkpoint)
        head_seq, head_hash = uow.session.execute(
            select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == 1)).one()
        last = uow.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.number.desc()).limit(1)).first()
        from_seq = last.seq + 1 if last else 1
        rows = _period_hashes(uow, from_seq, head_seq)
        prev = last.head_hash if last else chainformat.GENESIS
        expected = from_seq
        for seq, prev_hash, entry_hash in rows:
            if seq != expected or prev_hash != prev:
                raise ChainBrokenError(f"the audit chain is broken at seq {expected}: not signing; run "
                                       "`archive audit verify`")
            prev, expected = entry_hash, seq + 1
        if expected != head_seq + 1 or prev != head_hash:
            raise ChainBrokenError(f"the audit chain ends at seq {expected - 1}, not at the head {head_seq}: "
                                   "not signing; run `archive audit verify`")
        body = {
            "format": chainformat.CHECKPOINT_FORMAT,
            "number": (last.number + 1) if last else 1,
            "from_seq": from_seq,
            "seq": head_seq,
            "event_count": head_seq - from_seq + 1,
            "head_hash": head_hash,
            "merkle_root": chainformat.merkle_root([h or "" for _, _, h in rows]),
            "signed_at": chainformat.format_time(now or utcnow()),
            "interval_minutes": interval_minutes,
            "previous": chainformat.checkpoint_digest(_checkpoint_view(last).file) if last else None,
            "algorithm": signer.algorithm,
            "key_id": signer.key_id,
        }
        signature = base64.b64encode(signer.sign(chainformat.canonical_json(body))).decode()
        row = AuditCheckpoint(number=body["number"], from_seq=from_seq, seq=head_seq, head_hash=head_hash,
                              merkle_root=body["merkle_root"], signed_at=chainformat.parse_time(body["signed_at"]),
                              algorithm=signer.algorithm, key_id=signer.key_id,
                              body=chainformat.canonical_json(body).decode("utf-8"), signature=signature)
        uow.session.add(row)
        uow.commit()
        return _checkpoint_view(row)


def list_checkpoints(uow: UnitOfWork, *, actor: Actor, limit: int | None = None) -> list[CheckpointView]:
    """Newest first. Requires permission_audit_view."""
    with uow:
        access.require(actor, permission_audit_view)
        query = select(AuditCheckpoint).order_by(AuditCheckpoint.number.desc())
        if limit:
            query = query.limit(limit)
        return [_checkpoint_view(row) for row in uow.session.scalars(query)]


# --- verification ----------------------------------------------------------------------------------


def _event_dict(row: Any) -> dict[str, Any]:
    event = dict(zip(COLUMNS, row, strict=True))
    event["occurred_at"] = chainformat.format_time(event["occurred_at"])
    return event


def _events(uow: UnitOfWork, from_seq: int | None = None, to_seq: int | None = None,
            unplaced: bool = True) -> Iterator[dict[str, Any]]:
    query = select(*_EVENT_COLUMNS)
    if from_seq is not None:
        query = query.where(AuditEvent.seq >= from_seq)
    if to_seq is not None:
        query = query.where(AuditEvent.seq <= to_seq)
    if from_seq is None and to_seq is None and unplaced:
        query = query.order_by(AuditEvent.seq.is_(None), AuditEvent.seq, AuditEvent.id)
    else:
        query = query.order_by(AuditEvent.seq)
    # Core on the session's connection: no ORM row processing for a million rows.
    result = uow.session.connection().execute(query.execution_options(yield_per=20000))
    for row in result:
        yield _event_dict(row)


def verify_trail(uow: UnitOfWork, *, actor: Actor, public_keys: Sequence[PublicKey],
                 deposited: Sequence[dict[str, Any]] = (), progress: Callable[[int], None] | None = None) -> Report:
    """Recompute the whole chain and every period's Merkle root, check every checkpoint's signature and
    the deposited ones; the run is audited (outcome "failed" with the first problem). Requires
    permission_audit_view."""
    with uow:
        access.require(actor, permission_audit_view)
        checkpoints = [_checkpoint_view(row).file
                       for row in uow.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.number))]
        report = verify_chain(_events(uow), checkpoints=checkpoints, deposited=deposited,
                              public_keys=public_keys, progress=progress)
        first = report.first_problem
        audit.record(uow.session, actor, event_audit_verified, outcome="ok" if report.ok else "failed",
                     events=report.events_checked, checkpoints=report.checkpoints_checked,
                     problems=len(report.problems), first_problem=first.message if first else "",
                     first_problem_kind=first.kind if first else "", first_problem_seq=first.seq if first else None)
        uow.commit()
        return report


# --- export ----------------------------------------------------------------------------------------


def _range(uow: UnitOfWork, since: datetime | None, until: datetime | None) -> tuple[int, int] | None:
    """The seq range of events in [since, until), widened to whole checkpoint periods."""
    query = select(func.min(AuditEvent.seq), func.max(AuditEvent.seq))
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= since)
    if until is not None:
        query = query.where(AuditEvent.occurred_at < until)
    low, high = uow.session.execute(query).one()
    if low is None:
        return None
    start = uow.session.scalar(select(AuditCheckpoint.from_seq).where(AuditCheckpoint.from_seq <= low,
                                                                      AuditCheckpoint.seq >= low))
    end = uow.session.scalar(select(AuditCheckpoint.seq).where(AuditCheckpoint.from_seq <= high,
                                                               AuditCheckpoint.seq >= high))
    return (start or low, end or high)


def export_events(uow: UnitOfWork, *, actor: Actor, out: IO[bytes], fmt: str = "jsonl",
                  since: datetime | None = None, until: datetime | None = None) -> ExportView:
    """Write the events of [since, until) with their chain data, widened to whole checkpoint periods so
    each can be checked against a signature; JSONL also carries the checkpoints (the anchor before the
    range and every one in it) and is what `archive-audit-verify` reads. Requires permission_audit_view."""
    if fmt not in EXPORT_FORMATS:
        raise ValidationError(f"export format {fmt!r} is not one of {', '.join(EXPORT_FORMATS)}",
                              code="unknown_filter_value", params={"field": "format", "value": fmt}, field="format")
    with uow:
        access.require(actor, permission_audit_view)
        span = _range(uow, since, until)
        checkpoints: list[dict[str, Any]] = []
        if span is not None:
            rows = uow.session.scalars(select(AuditCheckpoint).where(
                AuditCheckpoint.seq >= span[0] - 1, AuditCheckpoint.from_seq <= span[1] + 1,
            ).order_by(AuditCheckpoint.number))
            checkpoints = [_checkpoint_view(row).file for row in rows
                           if row.seq <= span[1] or row.from_seq > row.seq]
        events = _events(uow, *span) if span else iter(())
        digest = hashlib.sha256()
        writer = _HashingWriter(out, digest)
        header = {"format": EXPORT_FORMAT, "exported_at": chainformat.format_time(utcnow()),
                  "exported_by": actor.username, "from_seq": span[0] if span else None,
                  "to_seq": span[1] if span else None,
                  "since": chainformat.format_time(since) if since else None,
                  "until": chainformat.format_time(until) if until else None,
                  "canonical_form": chainformat.FORMAT}
        count = {"jsonl": _write_jsonl, "csv": _write_csv, "xlsx": _write_xlsx}[fmt](
            writer, header, events, checkpoints)
        audit.record(uow.session, actor, event_audit_exported, format=fmt, events=count,
                     from_seq=header["from_seq"], to_seq=header["to_seq"], sha256=digest.hexdigest())
        uow.commit()
        return ExportView(count, header["from_seq"], header["to_seq"], len(checkpoints), fmt, digest.hexdigest())


class _HashingWriter(io.RawIOBase):
    def __init__(self, out: IO[bytes], digest: Any) -> None:
        self._out, self._digest = out, digest

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        data = bytes(data)
        self._digest.update(data)
        self._out.write(data)
        return len(data)


def _line(item: dict[str, Any]) -> bytes:
    return json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def _write_jsonl(out: IO[bytes], header: dict[str, Any], events: Iterator[dict[str, Any]],
                 checkpoints: list[dict[str, Any]]) -> int:
    out.write(_line({"kind": "header", **header}))
    count = 0
    buffer: list[bytes] = []
    for event in events:
        buffer.append(_line({"kind": "event", **event}))
        count += 1
        if len(buffer) >= 5000:
            out.write(b"".join(buffer))
            buffer = []
    out.write(b"".join(buffer))
    for checkpoint in checkpoints:
        out.write(_line({"kind": "checkpoint", **checkpoint}))
    return count


def _row(event: dict[str, Any]) -> list[Any]:
    return [json.dumps(event[c], ensure_ascii=False, sort_keys=True) if c == "detail" else event[c] for c in COLUMNS]


def _write_csv(out: IO[bytes], header: dict[str, Any], events: Iterator[dict[str, Any]],
               checkpoints: list[dict[str, Any]]) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)  # BOM: Excel reads UTF-8
    writer = csv.writer(text)
    writer.writerow(COLUMNS)
    count = 0
    for event in events:
        writer.writerow(_row(event))
        count += 1
    text.flush()
    text.detach()
    return count


def _write_xlsx(out: IO[bytes], header: dict[str, Any], events: Iterator[dict[str, Any]],
                checkpoints: list[dict[str, Any]]) -> int:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("audit")
    sheet.append(list(COLUMNS))
    count = 0
    for event in events:
        sheet.append(_row(event))
        count += 1
    cps = book.create_sheet("checkpoints")
    cps.append(["number", "from_seq", "seq", "head_hash", "merkle_root", "signed_at", "key_id", "signature"])
    for cp in checkpoints:
        body = cp["checkpoint"]
        cps.append([body["number"], body["from_seq"], body["seq"], body["head_hash"], body["merkle_root"],
                    body["signed_at"], body["key_id"], cp["signature"]])
    book.save(out)
    return count


# --- proofs ----------------------------------------------------------------------------------------


def prove_event(uow: UnitOfWork, *, actor: Actor, event_id: int) -> dict[str, Any]:
    """An inclusion proof for one event: its chain data, the RFC 6962 audit path and the signed checkpoint
    of its period. Raises NotFoundError for an unknown event or one no checkpoint covers yet. Requires
    permission_audit_view."""
    with uow:
        access.require(actor, permission_audit_view)
        row = uow.session.execute(select(*_EVENT_COLUMNS).where(AuditEvent.id == event_id)).first()
        if row is None:
            raise NotFoundError(f"no audit event {event_id}")
        event = _event_dict(row)
        if event["seq"] is None:
            raise NotFoundError(f"audit event {event_id} has no place in the chain")
        checkpoint = uow.session.scalars(select(AuditCheckpoint).where(
            AuditCheckpoint.from_seq <= event["seq"], AuditCheckpoint.seq >= event["seq"])).first()
        if checkpoint is None:
            raise NotFoundError(f"audit event {event_id} (seq {event['seq']}) is not covered by a checkpoint yet; "
                                "run `archive audit checkpoint`")
        hashes = [h or "" for _, _, h in _period_hashes(uow, checkpoint.from_seq, checkpoint.seq)]
        index = event["seq"] - checkpoint.from_seq
        proof = {"format": PROOF_FORMAT, "event": event, "leaf_index": index, "tree_size": len(hashes),
                 "path": chainformat.inclusion_path(index, hashes), "checkpoint": _checkpoint_view(checkpoint).file}
        audit.record(uow.session, actor, event_audit_proved, target_type="audit_event", target_id=event_id,
                     seq=event["seq"], checkpoint=checkpoint.number)
        uow.commit()
        return proof


# --- retention of the trail ------------------------------------------------------------------------


def seal_range(uow_factory: Callable[[], UnitOfWork], *, actor: Actor, directory: Path,
               public_keys: Sequence[PublicKey], since: datetime | None = None,
               until: datetime | None = None) -> dict[str, Any]:
    """Export a range as JSONL, verify the file as a regulator would, and write a seal beside it (the
    file's SHA-256, its seq range, the checkpoints it carries). Nothing is deleted: events leave the
    database only by a retention policy that checks a seal exists first (README). Requires
    permission_audit_view."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"audit-{stamp}.jsonl"
    with open(path, "wb") as out:
        exported = export_events(uow_factory(), actor=actor, out=out, fmt="jsonl", since=since, until=until)
    from archive.compliance.verify import read_export

    _, events, checkpoints = read_export(path)
    report = verify_chain(iter(events), checkpoints=checkpoints, public_keys=public_keys)
    seal = {"format": "archive-audit-seal/1", "file": path.name, "sha256": exported.sha256,
            "from_seq": exported.from_seq, "to_seq": exported.to_seq, "events": exported.events,
            "checkpoints": [cp["checkpoint"]["number"] for cp in checkpoints], "verified": report.ok,
            "first_problem": report.first_problem.message if report.first_problem else None,
            "sealed_at": chainformat.format_time(utcnow()), "sealed_by": actor.username}
    (directory / f"audit-{stamp}.seal.json").write_text(json.dumps(seal, ensure_ascii=False, indent=1) + "\n",
                                                        encoding="utf-8")
    with uow_factory() as uow:
        access.require(actor, permission_audit_view)
        audit.record(uow.session, actor, event_audit_range_sealed, outcome="ok" if report.ok else "failed",
                     file=path.name, sha256=exported.sha256, from_seq=exported.from_seq, to_seq=exported.to_seq)
        uow.commit()
    return seal
