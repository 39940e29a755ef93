"""`archive retention ...`: schedules, trigger events, what is due, legal holds (pyproject: the
`archive.commands` entry points). Each command acts as `--as USER` and prints one line, or `--json`."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import click

from archive.cli.support import archive_of, named_actor, progress_bar
from retention.models import ACTIONS, DECISIONS, HOLD_TARGETS, HOLD_TYPES, TRIGGERS
from retention.pdf import transfer_pdf
from retention.services import appraisal, dispositions, holds, register, schedules, transfers

AS_USER = click.option("--as", "username", help="The person acting (default $ARCHIVE_USER).")
AS_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
DATE = click.DateTime(["%Y-%m-%d"])


def _echo_json(value: object) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, default=str))


@click.group()
def retention() -> None:
    """Retention schedules, trigger events, records due for disposition, legal holds 冻结."""


@retention.group()
def schedule() -> None:
    """Retention schedules per document type."""


@schedule.command("list")
@AS_USER
@AS_JSON
@click.pass_context
def schedule_list(ctx: click.Context, username: str | None, as_json: bool) -> None:
    """Every document type's schedule (its own, or the default from its retention period)."""
    archive = archive_of(ctx)
    rows = schedules.list_schedules(archive.uow(), actor=named_actor(archive, username))
    if as_json:
        _echo_json([asdict(row) for row in rows])
        return
    for row in rows:
        period = "permanent" if row.years is None and row.months is None else \
            f"{row.years or 0}y{row.months or 0}m"
        trigger = f"event:{row.event_name}" if row.trigger == "event" else row.trigger
        click.echo(f"{row.document_type:<24} {period:<10} from {trigger:<28} then {row.action}"
                   + ("" if row.explicit else "  (default)"))


@schedule.command("set")
@click.argument("document_type")
@click.option("--years", type=click.IntRange(min=0), help="Period in years (with --months, or alone).")
@click.option("--months", type=click.IntRange(min=0), help="Period in months.")
@click.option("--permanent", is_flag=True, help="Keep for ever (no period).")
@click.option("--trigger", type=click.Choice(TRIGGERS), default="filing_date", show_default=True)
@click.option("--event", "event_name", default="", help="The event's name when --trigger event (e.g. account_closed).")
@click.option("--action", type=click.Choice(ACTIONS), default="review", show_default=True)
@click.option("--dry-run", is_flag=True, help="Only say how many records the change would move.")
@AS_USER
@AS_JSON
@click.pass_context
def schedule_set(ctx: click.Context, document_type: str, years: int | None, months: int | None, permanent: bool,
                 trigger: str, event_name: str, action: str, dry_run: bool, username: str | None,
                 as_json: bool) -> None:
    """Set a document type's schedule and recompute its documents' disposition dates."""
    if permanent == (years is not None or months is not None):
        raise click.UsageError("give either --permanent or a period (--years and/or --months)")
    archive = archive_of(ctx)
    change = schedules.set_schedule(archive.uow(), actor=named_actor(archive, username), document_type=document_type,
                                    years=years, months=months, trigger=trigger, event_name=event_name,
                                    action=action, dry_run=dry_run)
    if as_json:
        _echo_json(asdict(change))
        return
    verb = "saved" if change.saved else "would move (not saved)"
    click.echo(f"{document_type}: {verb}; {change.records_moved} records move"
               + (f", {change.records_held} kept by a hold" if change.records_held else ""))


@retention.command("event")
@click.argument("name")
@click.option("--on", "occurred_on", type=DATE, required=True, help="The day it happened.")
@click.option("--customer", help="The customer's ID number or credit code.")
@click.option("--document", "archive_code", help="The document's archive code.")
@AS_USER
@AS_JSON
@click.pass_context
def event(ctx: click.Context, name: str, occurred_on: datetime, customer: str | None, archive_code: str | None,
          username: str | None, as_json: bool) -> None:
    """Record a named trigger event (account_closed, contract_terminated, ...) for a customer or a document."""
    archive = archive_of(ctx)
    changed = schedules.record_trigger_event(archive.uow(), actor=named_actor(archive, username), name=name,
                                             occurred_on=occurred_on.date(), customer=customer,
                                             archive_code=archive_code)
    if as_json:
        _echo_json({"event": name, "dispositions_changed": changed})
    else:
        click.echo(f"recorded {name} on {occurred_on.date()}: {changed} disposition dates changed")


@retention.command("refresh")
@AS_USER
@AS_JSON
@click.pass_context
def refresh(ctx: click.Context, username: str | None, as_json: bool) -> None:
    """Recompute every disposition date now (the daily job does it at 03:00 UTC)."""
    archive = archive_of(ctx)
    changed, held = dispositions.refresh_dispositions(archive.uow(), actor=named_actor(archive, username))
    if as_json:
        _echo_json({"changed": changed, "held": held})
    else:
        click.echo(f"{changed} disposition dates changed, {held} kept by a hold")


@retention.command("due")
@click.option("--on", "on", type=DATE, help="Due by this day (default today).")
@click.option("--gather", is_flag=True, help="Also put them into their departments' appraisal batches.")
@AS_USER
@AS_JSON
@click.pass_context
def due(ctx: click.Context, on: datetime | None, gather: bool, username: str | None, as_json: bool) -> None:
    """Records whose disposition date has come, not on hold, oldest first (--gather: into batches)."""
    archive = archive_of(ctx)
    actor = named_actor(archive, username)
    day = on.date() if on else None
    rows = dispositions.due_records(archive.uow(), actor=actor, on=day)
    batches = appraisal.gather_due_records(archive.uow(), actor=actor, on=day) if gather else []
    if as_json:
        _echo_json({"due": [asdict(row) for row in rows], "batches": batches})
        return
    for row in rows:
        click.echo(f"{row.due_on}  {row.archive_code}  {row.document_type}  {row.department}  {row.action}")
    click.echo(f"{len(rows)} records due" + (f"; in appraisal batches {', '.join(map(str, batches))}"
                                             if batches else ""))


@retention.command("batches")
@click.option("--status", help="Only batches in this state (appraising, appraised, approved, done).")
@AS_USER
@AS_JSON
@click.pass_context
def batches(ctx: click.Context, status: str | None, username: str | None, as_json: bool) -> None:
    """Appraisal batches and their records."""
    archive = archive_of(ctx)
    rows = appraisal.list_batches(archive.uow(), actor=named_actor(archive, username), status=status)
    if as_json:
        _echo_json([asdict(row) for row in rows])
        return
    for batch in rows:
        click.echo(f"batch {batch.id}  {batch.department}  {batch.status}  {len(batch.items)} records"
                   + (f"  ({batch.comment})" if batch.comment else ""))
        for item in batch.items:
            click.echo(f"    {item.archive_code}  due {item.due_on}  votes {item.votes}  "
                       f"{item.decision or 'undecided'}" + (f"  → {item.outcome}" if item.outcome else ""))


@retention.command("appraise")
@click.argument("batch_id", type=int)
@click.argument("archive_code")
@click.option("--decision", type=click.Choice(DECISIONS), required=True)
@click.option("--years", "extend_years", type=click.IntRange(min=1), help="With --decision extend.")
@click.option("--reason", default="", help="Required to extend.")
@AS_USER
@AS_JSON
@click.pass_context
def appraise(ctx: click.Context, batch_id: int, archive_code: str, decision: str, extend_years: int | None,
             reason: str, username: str | None, as_json: bool) -> None:
    """Give your decision on one record of a batch (two appraisers must agree)."""
    archive = archive_of(ctx)
    agreed = appraisal.appraise_record(archive.uow(), actor=named_actor(archive, username), batch_id=batch_id,
                                       archive_code=archive_code, decision=decision, extend_years=extend_years,
                                       reason=reason)
    if as_json:
        _echo_json({"archive_code": archive_code, "agreed": agreed})
    else:
        click.echo(f"{archive_code}: {'agreed: ' + agreed if agreed else 'waiting for a second appraiser to agree'}")


@retention.command("approve")
@click.argument("batch_id", type=int)
@click.option("--reject", is_flag=True, help="Return the batch to the appraisal group.")
@click.option("--comment", default="", help="Required with --reject.")
@AS_USER
@AS_JSON
@click.pass_context
def approve(ctx: click.Context, batch_id: int, reject: bool, comment: str, username: str | None,
            as_json: bool) -> None:
    """Approve an appraised batch (a leader), or --reject it with a comment."""
    archive = archive_of(ctx)
    appraisal.decide_batch(archive.uow(), actor=named_actor(archive, username), batch_id=batch_id,
                           approve=not reject, comment=comment)
    if as_json:
        _echo_json({"batch_id": batch_id, "approved": not reject})
    else:
        click.echo(f"batch {batch_id} {'returned to the appraisal group' if reject else 'approved'}")


@retention.command("destroy")
@click.argument("batch_id", type=int)
@AS_USER
@AS_JSON
@click.pass_context
def destroy(ctx: click.Context, batch_id: int, username: str | None, as_json: bool) -> None:
    """Execute an approved batch: destroy, extend or mark for transfer each record (rerun to resume)."""
    archive = archive_of(ctx)
    with progress_bar("destroy", "record", disable=as_json) as progress:
        run = appraisal.destroy_batch(archive.uow(), actor=named_actor(archive, username), batch_id=batch_id,
                                      progress=progress)
    if as_json:
        _echo_json(asdict(run))
    else:
        click.echo(f"batch {batch_id}: {run.destroyed} destroyed, {run.extended} extended, "
                   f"{run.for_transfer} for transfer, {run.held} kept by a hold"
                   + (f"; register kept as snapshot {run.register_snapshot}" if run.register_snapshot else ""))


@retention.command("register")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, path_type=Path), help="Write it as Excel.")
@click.option("--pdf", "pdf", type=click.Path(dir_okay=False, path_type=Path), help="Write it as PDF.")
@click.option("--verify", is_flag=True, help="Check every entry against its chained audit event, and every kept "
              "snapshot's SHA-256; exit 1 on a difference.")
@click.option("--keep", is_flag=True, help="Keep the register as a record now: a sealed PDF snapshot.")
@click.option("--snapshots", is_flag=True, help="List the kept snapshots.")
@click.option("--snapshot", "snapshot_id", type=int, help="Write this kept snapshot's PDF to --out FILE.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Where --snapshot writes the PDF.")
@AS_USER
@AS_JSON
@click.pass_context
def register_(ctx: click.Context, xlsx: Path | None, pdf: Path | None, verify: bool, keep: bool, snapshots: bool,
              snapshot_id: int | None, out: Path | None, username: str | None, as_json: bool) -> None:
    """The destruction register 销毁清册 (permanent), or --xlsx FILE / --pdf FILE / --verify, or the register
    kept as a record: --keep, --snapshots, --snapshot ID --out FILE."""
    archive = archive_of(ctx)
    actor = named_actor(archive, username)
    if verify:
        differing = register.verify_register(archive.uow(), actor=actor)
        snapshots_differing = register.verify_register_snapshots(archive.uow(), actor=actor)
        if as_json:
            click.echo(json.dumps({"differing": differing, "snapshots_differing": snapshots_differing}))
        else:
            click.echo("the register agrees with the audit chain" if not differing
                       else "entries that differ from their chained audit event: " + ", ".join(differing))
            click.echo("every kept snapshot matches its recorded SHA-256" if not snapshots_differing
                       else "snapshots that differ from their recorded SHA-256: "
                       + ", ".join(map(str, snapshots_differing)))
        sys.exit(1 if differing or snapshots_differing else 0)
    if keep:
        kept = register.keep_register(archive.uow(), actor=actor)
        if as_json:
            _echo_json(asdict(kept))
        else:
            click.echo(f"register kept as snapshot {kept.id}: {kept.entries} entries, sha256 {kept.sha256}")
        return
    if snapshots:
        rows = register.list_register_snapshots(archive.uow(), actor=actor)
        if as_json:
            _echo_json([asdict(row) for row in rows])
            return
        for row in rows:
            click.echo(f"{row.id:>4}  {row.created_at:%Y-%m-%d %H:%M}  {row.entries:>6} entries  "
                       f"{row.period_from or '-'}..{row.period_to or '-'}  {row.created_by}  "
                       + (f"batch {row.batch_id}  " if row.batch_id else "on demand  ") + row.sha256)
        return
    if snapshot_id is not None:
        if out is None:
            raise click.UsageError("--snapshot needs --out FILE")
        stream, _name = register.open_register_snapshot(archive.uow(), actor=actor, snapshot_id=snapshot_id)
        with stream, out.open("wb") as target:
            shutil.copyfileobj(stream, target, 1 << 20)
        click.echo(json.dumps({"snapshot": snapshot_id, "file": str(out)}) if as_json
                   else f"wrote snapshot {snapshot_id} to {out}")
        return
    for path, export in ((xlsx, register.export_register_xlsx), (pdf, register.export_register_pdf)):
        if path is not None:
            count = export(archive.uow(), actor=actor, path=path)
            click.echo(json.dumps({"entries": count, "file": str(path)}) if as_json
                       else f"wrote {count} entries to {path}")
    if xlsx is not None or pdf is not None:
        return
    rows = register.list_register(archive.uow(), actor=actor)
    if as_json:
        _echo_json([asdict(row) for row in rows])
        return
    for row in rows:
        click.echo(f"{row.id:>5}  {row.destroyed_at:%Y-%m-%d}  {row.archive_code}  {row.document_type}  "
                   f"appraised by {row.appraisers}, approved by {row.approved_by}")


@retention.group()
def hold() -> None:
    """Legal holds 冻结: they block disposition of everything under their target."""


@hold.command("place")
@click.option("--customer", help="ID number or credit code: every document of the customer, later ones too.")
@click.option("--dossier", help="Dossier id: its documents.")
@click.option("--document", "archive_code", help="One document, by archive code.")
@click.option("--type", "hold_type", type=click.Choice(HOLD_TYPES), required=True)
@click.option("--reason", required=True, help="Why (the case, the inspection, the audit).")
@AS_USER
@AS_JSON
@click.pass_context
def hold_place(ctx: click.Context, customer: str | None, dossier: str | None, archive_code: str | None,
               hold_type: str, reason: str, username: str | None, as_json: bool) -> None:
    """Place a legal hold."""
    given = [(kind, ref) for kind, ref in zip(HOLD_TARGETS, (customer, dossier, archive_code), strict=True) if ref]
    if len(given) != 1:
        raise click.UsageError("name exactly one of --customer, --dossier, --document")
    archive = archive_of(ctx)
    hold_id = holds.place_legal_hold(archive.uow(), actor=named_actor(archive, username),
                                     target=holds.HoldTarget(*given[0]), hold_type=hold_type, reason=reason)
    if as_json:
        _echo_json({"hold_id": hold_id})
    else:
        click.echo(f"hold {hold_id} placed on {given[0][0]}")


@hold.command("release")
@click.argument("hold_id", type=int)
@click.option("--reason", required=True, help="Why it ends.")
@AS_USER
@AS_JSON
@click.pass_context
def hold_release(ctx: click.Context, hold_id: int, reason: str, username: str | None, as_json: bool) -> None:
    """Release a legal hold."""
    archive = archive_of(ctx)
    holds.release_legal_hold(archive.uow(), actor=named_actor(archive, username), hold_id=hold_id, reason=reason)
    if as_json:
        _echo_json({"hold_id": hold_id, "released": True})
    else:
        click.echo(f"hold {hold_id} released")


@hold.command("list")
@click.option("--all", "everything", is_flag=True, help="Released holds too.")
@AS_USER
@AS_JSON
@click.pass_context
def hold_list(ctx: click.Context, everything: bool, username: str | None, as_json: bool) -> None:
    """Legal holds, newest first."""
    archive = archive_of(ctx)
    rows = holds.list_legal_holds(archive.uow(), actor=named_actor(archive, username), active_only=not everything)
    if as_json:
        _echo_json([asdict(row) for row in rows])
        return
    for row in rows:
        state = f"released {row.released_at:%Y-%m-%d}" if row.released_at else "active"
        click.echo(f"{row.id:>4}  {row.target_type:<8} {row.target_label:<28} {row.hold_type:<22} {state}  "
                   f"{row.reason}")


@retention.group()
def transfer() -> None:
    """Transfers 移交 to another department or to another fonds, with handover receipts and packages."""


@transfer.command("send")
@click.argument("archive_codes", nargs=-1, required=True)
@click.option("--to", "to_department", help="The receiving department's code.")
@click.option("--to-fonds", "to_fonds", help="Or the receiving archive's fonds number (全宗号, e.g. Z002).")
@click.option("--to-archive", "to_archive", default="", help="With --to-fonds: the receiving archive's name.")
@click.option("--note", default="", help="A note for the receipt.")
@AS_USER
@AS_JSON
@click.pass_context
def transfer_send(ctx: click.Context, archive_codes: tuple[str, ...], to_department: str | None,
                  to_fonds: str | None, to_archive: str, note: str, username: str | None, as_json: bool) -> None:
    """Hand filed records over to another department (--to) or another fonds (--to-fonds, --to-archive)."""
    if bool(to_department) == bool(to_fonds):
        raise click.UsageError("give either --to DEPT or --to-fonds FONDS (with --to-archive NAME)")
    archive = archive_of(ctx)
    transfer_id = transfers.send_transfer(archive.uow(), actor=named_actor(archive, username),
                                          archive_codes=archive_codes, to_department=to_department,
                                          to_fonds=to_fonds, to_archive=to_archive, note=note)
    click.echo(json.dumps({"transfer_id": transfer_id}) if as_json else f"transfer {transfer_id} sent")


@transfer.command("package")
@click.argument("transfer_id", type=int)
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="A new or empty directory for the package.")
@AS_USER
@AS_JSON
@click.pass_context
def transfer_package(ctx: click.Context, transfer_id: int, directory: Path, username: str | None,
                     as_json: bool) -> None:
    """Write a transfer to another fonds as a handover package: originals, manifest.json, receipt.pdf."""
    archive = archive_of(ctx)
    package = transfers.write_handover_package(archive.uow(), actor=named_actor(archive, username),
                                               transfer_id=transfer_id, directory=directory)
    if as_json:
        _echo_json(asdict(package))
    else:
        click.echo(f"transfer {transfer_id}: {package.records} records ({package.bytes_written} bytes) written to "
                   f"{package.directory}; manifest sha256 {package.manifest_sha256}")


@transfer.command("receive")
@click.argument("transfer_id", type=int)
@click.option("--reference", default="", help="To another fonds: the receiving archive's reference for it.")
@click.option("--signed-by", "signed_by", default="", help="To another fonds: who signed for it there.")
@AS_USER
@AS_JSON
@click.pass_context
def transfer_receive(ctx: click.Context, transfer_id: int, reference: str, signed_by: str, username: str | None,
                     as_json: bool) -> None:
    """Confirm receipt: the receiving department's records manager, or, for another fonds, ours recording the
    receiving archive's --reference and --signed-by."""
    archive = archive_of(ctx)
    actor = named_actor(archive, username)
    if reference or signed_by:
        view = transfers.confirm_fonds_receipt(archive.uow(), actor=actor, transfer_id=transfer_id,
                                               reference=reference, signed_by=signed_by)
    else:
        view = transfers.receive_transfer(archive.uow(), actor=actor, transfer_id=transfer_id)
    click.echo(json.dumps(asdict(view), ensure_ascii=False, default=str) if as_json
               else f"transfer {transfer_id} received: {len(view.items)} records")


@transfer.command("list")
@AS_USER
@AS_JSON
@click.pass_context
def transfer_list(ctx: click.Context, username: str | None, as_json: bool) -> None:
    """The transfers your department sent or receives, newest first."""
    archive = archive_of(ctx)
    rows = transfers.list_transfers(archive.uow(), actor=named_actor(archive, username))
    if as_json:
        _echo_json([asdict(row) for row in rows])
        return
    for row in rows:
        destination = f"fonds {row.to_fonds} ({row.to_archive})" if row.to_fonds else row.to_department
        click.echo(f"{row.id:>4}  {row.sent_at:%Y-%m-%d}  {row.from_department} → {destination}  "
                   f"{len(row.items)} records  " + ("received" if row.received_at else "not received"))


@transfer.command("show")
@click.argument("transfer_id", type=int)
@click.option("--pdf", "pdf", type=click.Path(dir_okay=False, path_type=Path), help="Write the receipt as PDF.")
@AS_USER
@AS_JSON
@click.pass_context
def transfer_show(ctx: click.Context, transfer_id: int, pdf: Path | None, username: str | None,
                  as_json: bool) -> None:
    """A transfer's handover receipt: records, hashes, page counts."""
    archive = archive_of(ctx)
    view = transfers.get_transfer(archive.uow(), actor=named_actor(archive, username), transfer_id=transfer_id)
    if pdf is not None:
        transfer_pdf(view, pdf)
    if as_json:
        _echo_json(asdict(view))
        return
    destination = f"fonds {view.to_fonds} ({view.to_archive})" if view.to_fonds else view.to_department
    click.echo(f"transfer {view.id}: {view.from_department} → {destination}, sent by {view.sent_by} "
               f"{view.sent_at:%Y-%m-%d}, " + (f"received by {view.received_by}" if view.received_by else "not received"))
    for item in view.items:
        click.echo(f"    {item.archive_code}  {item.pages} pages  {item.content_sha256}")
