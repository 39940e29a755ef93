"""`archive audit ...`: sign checkpoints, verify the chain, export, prove one event, seal a range."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from archive.actors import Actor
from archive.bootstrap import Archive
from archive.cli.support import archive_of, named_actor
from archive.compliance import services
from archive.compliance.permissions import AUDITOR, CHECKPOINTER
from archive.compliance.signing import PublicKey, public_key_path

# Named system actors, so the trail says the operator's command acted.


def _actor(archive: Archive, username: str | None) -> Actor:
    """The operator's `system:cli-audit` on the server host, or the auditor named (and proved) by --as."""
    if not (username or os.environ.get("ARCHIVE_USER")):
        return AUDITOR
    return named_actor(archive, username)


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


as_option = click.option("--as", "username", help="The person acting (default $ARCHIVE_USER, else system:cli-audit).")


@click.group()
def audit() -> None:
    """The tamper-evident audit trail: checkpoints, verification, export and proofs."""


@audit.command("checkpoint")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Also write the checkpoint file into this directory (to deposit elsewhere).")
@click.pass_context
def checkpoint(ctx: click.Context, out: Path | None) -> None:
    """Sign the chain head now (the worker does it every ARCHIVE_AUDIT_CHECKPOINT_MINUTES)."""
    archive = archive_of(ctx)
    view = services.sign_checkpoint(archive.uow(), actor=CHECKPOINTER, signer=services.signer_for(archive.settings),
                                    interval_minutes=archive.settings.audit_checkpoint_minutes)
    line = (f"checkpoint {view.number}: seq {view.from_seq}..{view.seq} ({view.event_count} events), "
            f"head {view.head_hash[:16]}…, {view.algorithm} key {view.key_id}")
    if out:
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"checkpoint-{view.number:06d}.json"
        path.write_text(json.dumps(view.file, ensure_ascii=False) + "\n", encoding="utf-8")
        line += f"; written to {path}"
    click.echo(line)


@audit.command("checkpoints")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory to write checkpoint-NNNNNN.json files into (existing ones are kept).")
@as_option
@click.pass_context
def checkpoints(ctx: click.Context, out: Path, username: str | None) -> None:
    """Write every signed checkpoint as a small file, for depositing with customers or a notary."""
    archive = archive_of(ctx)
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for view in services.list_checkpoints(archive.uow(), actor=_actor(archive, username)):
        path = out / f"checkpoint-{view.number:06d}.json"
        if not path.exists():
            path.write_text(json.dumps(view.file, ensure_ascii=False) + "\n", encoding="utf-8")
            written += 1
    click.echo(f"wrote {written} new checkpoint files to {out}")


@audit.command("verify")
@click.option("--from-checkpoint", "deposited", multiple=True, type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="A checkpoint file deposited elsewhere; the trail must still contain it.")
@click.option("--public-key", "public_keys", multiple=True, type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="Public key file(s) (default: the archive's audit-signing.pub.json).")
@as_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def verify(ctx: click.Context, deposited: tuple[Path, ...], public_keys: tuple[Path, ...], username: str | None,
           as_json: bool) -> None:
    """Recompute the chain and Merkle roots, check every signature; name the first event that does not fit.

    Exit 1 on any problem. Offline, from an export: `archive-audit-verify EXPORT --public-key FILE`.
    """
    archive = archive_of(ctx)
    keys = ([PublicKey.load(path) for path in public_keys] if public_keys
            else [PublicKey.load(public_key_path(archive.settings.audit_signing_key_file))])
    files = [json.loads(path.read_text(encoding="utf-8")) for path in deposited]
    report = services.verify_trail(archive.uow(), actor=_actor(archive, username), public_keys=keys,
                                   deposited=files)
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        for warning in report.warnings:
            click.echo(f"warning: {warning}")
        for problem in report.problems:
            click.echo(f"problem: {problem.kind} at seq {problem.seq}: {problem.message}")
        click.echo(report.summary())
    sys.exit(0 if report.ok else 1)


@audit.command("export")
@click.option("--from", "since", help="Events at or after this time (ISO 8601, UTC unless given).")
@click.option("--to", "until", help="Events before this time.")
@click.option("--format", "fmt", type=click.Choice(services.EXPORT_FORMATS), default="jsonl", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write.")
@as_option
@click.pass_context
def export(ctx: click.Context, since: str | None, until: str | None, fmt: str, out: Path,
           username: str | None) -> None:
    """Write events with their chain data (widened to whole checkpoint periods) and the checkpoints."""
    archive = archive_of(ctx)
    actor = _actor(archive, username)
    with open(out, "wb") as handle:
        view = services.export_events(archive.uow(), actor=actor, out=handle, fmt=fmt, since=_moment(since),
                                      until=_moment(until))
    span = f"seq {view.from_seq}..{view.to_seq}" if view.from_seq is not None else "nothing in range"
    click.echo(f"exported {view.events} events ({span}) and {view.checkpoints} checkpoints to {out} "
               f"(sha256 {view.sha256})")


@audit.command("prove")
@click.argument("event_id", type=int)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the proof here, else stdout.")
@as_option
@click.pass_context
def prove(ctx: click.Context, event_id: int, out: Path | None, username: str | None) -> None:
    """An inclusion proof for one event; check it with `archive-audit-verify --proof FILE --public-key KEY`."""
    archive = archive_of(ctx)
    proof = services.prove_event(archive.uow(), actor=_actor(archive, username), event_id=event_id)
    text = json.dumps(proof, ensure_ascii=False)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"proof for event {event_id} (seq {proof['event']['seq']}, checkpoint "
                   f"{proof['checkpoint']['checkpoint']['number']}) written to {out}")
    else:
        click.echo(text)


@audit.command("seal")
@click.option("--from", "since", help="Events at or after this time.")
@click.option("--to", "until", help="Events before this time.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), required=True)
@as_option
@click.pass_context
def seal(ctx: click.Context, since: str | None, until: str | None, directory: Path, username: str | None) -> None:
    """Export a range, verify the file and write a seal beside it, for archiving the trail itself."""
    archive = archive_of(ctx)
    result = services.seal_range(archive.uow, actor=_actor(archive, username), directory=directory,
                                 public_keys=[services.public_key_for(archive.settings)], since=_moment(since),
                                 until=_moment(until))
    click.echo(f"sealed {result['events']} events (seq {result['from_seq']}..{result['to_seq']}) in "
               f"{directory / result['file']}: {'verified' if result['verified'] else 'NOT verified'}")
    sys.exit(0 if result["verified"] else 1)


@audit.command("public-key")
@click.pass_context
def public_key(ctx: click.Context) -> None:
    """Print where the public key file is (give it to customers and regulators), creating the key if needed."""
    archive = archive_of(ctx)
    services.signer_for(archive.settings)
    click.echo(public_key_path(archive.settings.audit_signing_key_file))


COMMANDS: list[click.Command] = [audit]
