"""`archive borrow`: borrow requests, decisions, returns and revocations, as a named person."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from typing import Any

import click

from archive.borrowing import services
from archive.cli.support import archive_of, named_actor

AS = click.option("--as", "username", help="The person acting (default $ARCHIVE_USER).")
JSON = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _echo(as_json: bool, data: Any, line: str) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, default=_plain))
    else:
        click.echo(line)


@click.group()
def borrow() -> None:
    """借阅: ask to borrow documents, decide requests, return and revoke."""


@borrow.command("request")
@click.argument("codes", nargs=-1)
@click.option("--dossier", type=int, help="Borrow a whole dossier by its id.")
@click.option("--customer", help="A customer's ID number or credit code (looked up by its hash).")
@click.option("--types", default="", help="With --customer: document types, comma-separated.")
@click.option("--purpose", required=True, help="用途: why the documents are needed.")
@click.option("--mode", type=click.Choice(["view", "download", "original"]), default="view", show_default=True)
@click.option("--days", type=int, default=7, show_default=True, help="The period asked for.")
@AS
@JSON
@click.pass_context
def request_(ctx: click.Context, codes: tuple[str, ...], dossier: int | None, customer: str | None, types: str,
             purpose: str, mode: str, days: int, username: str | None, as_json: bool) -> None:
    """Ask to borrow archive CODES, a --dossier, or a --customer's documents of some --types."""
    archive = archive_of(ctx)
    number = services.request_borrow(archive.uow(), actor=named_actor(archive, username), purpose=purpose,
                                     mode=mode, days=days, codes=codes, dossier_id=dossier, customer=customer,
                                     types=types.split(","))
    _echo(as_json, {"number": number}, f"requested {number}")


@borrow.command("list")
@click.option("--mine", "which", flag_value="mine", default=True, help="Your own requests (default).")
@click.option("--to-approve", "which", flag_value="to_approve", help="Requests waiting for your decision.")
@click.option("--decided", "which", flag_value="decided", help="Requests you decided.")
@click.option("--overdue", "which", flag_value="overdue", help="Originals past their due date (archive room).")
@AS
@JSON
@click.pass_context
def list_(ctx: click.Context, which: str, username: str | None, as_json: bool) -> None:
    """List borrow requests (or overdue originals)."""
    archive = archive_of(ctx)
    actor = named_actor(archive, username)
    if which == "overdue":
        loans = services.list_loans(archive.uow(), actor=actor, overdue_only=True)
        if as_json:
            _echo(True, [dataclasses.asdict(loan) for loan in loans], "")
        for loan in [] if as_json else loans:
            click.echo(f"{loan.request_number}  {loan.archive_code}  {loan.borrower}  box {loan.box} shelf "
                       f"{loan.shelf}  due {loan.due_on}  {loan.days_overdue} days overdue")
        return
    views = services.list_requests(archive.uow(), actor=actor, which=which)
    if as_json:
        _echo(True, [dataclasses.asdict(view) for view in views], "")
        return
    for view in views:
        until = f"  until {view.grant_expires_at:%Y-%m-%d %H:%M}" if view.grant_expires_at else ""
        step = f"  step {view.step + 1}/{len(view.steps)} {view.steps[view.step]['capacity']}" \
            if view.status == "pending" else ""
        click.echo(f"{view.id}  {view.number}  {view.status}  {view.mode}  {view.requester}  {view.purpose}{step}{until}")


@borrow.command("approve")
@click.argument("request_id", type=int)
@click.option("--comment", default="", help="Your comment.")
@AS
@JSON
@click.pass_context
def approve(ctx: click.Context, request_id: int, comment: str, username: str | None, as_json: bool) -> None:
    """Approve the step of REQUEST_ID that waits for you."""
    archive = archive_of(ctx)
    status = services.decide(archive.uow(), actor=named_actor(archive, username), request_id=request_id,
                             approve=True, comment=comment)
    _echo(as_json, {"id": request_id, "status": status}, f"request {request_id}: {status}")


@borrow.command("reject")
@click.argument("request_id", type=int)
@click.option("--comment", required=True, help="Why (required to reject).")
@AS
@JSON
@click.pass_context
def reject(ctx: click.Context, request_id: int, comment: str, username: str | None, as_json: bool) -> None:
    """Reject REQUEST_ID, with the reason."""
    archive = archive_of(ctx)
    status = services.decide(archive.uow(), actor=named_actor(archive, username), request_id=request_id,
                             approve=False, comment=comment)
    _echo(as_json, {"id": request_id, "status": status}, f"request {request_id}: {status}")


@borrow.command("return")
@click.argument("request_id", type=int)
@AS
@JSON
@click.pass_context
def return_(ctx: click.Context, request_id: int, username: str | None, as_json: bool) -> None:
    """Give a borrowing back before it expires."""
    archive = archive_of(ctx)
    services.return_borrow(archive.uow(), actor=named_actor(archive, username), request_id=request_id)
    _echo(as_json, {"id": request_id, "status": "returned"}, f"request {request_id}: returned")


@borrow.command("revoke")
@click.argument("request_id", type=int)
@click.option("--reason", required=True, help="Why the access ends now.")
@AS
@JSON
@click.pass_context
def revoke(ctx: click.Context, request_id: int, reason: str, username: str | None, as_json: bool) -> None:
    """End a running grant at once (its approvers, the security administrator)."""
    archive = archive_of(ctx)
    services.revoke(archive.uow(), actor=named_actor(archive, username), request_id=request_id, reason=reason)
    _echo(as_json, {"id": request_id, "status": "revoked"}, f"request {request_id}: revoked")


COMMANDS: list[click.Command] = [borrow]
