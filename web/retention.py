"""Retention pages: what is due and the appraisal batches (records manager, appraisers, leader), legal
holds and schedules (records manager), the destruction register and its kept snapshots, transfers to
another department or fonds. Views translate; the services decide."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from flask import Blueprint, after_this_request, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from archive import access
from archive.errors import ValidationError
from retention.models import DECISIONS, HOLD_TARGETS, HOLD_TYPES, TRIGGERS
from retention.pdf import transfer_pdf
from retention.permissions import (
    permission_appraisal_decide,
    permission_disposition_approve,
    permission_disposition_execute,
    permission_disposition_view,
    permission_hold_manage,
    permission_register_keep,
    permission_register_view,
    permission_schedule_manage,
    permission_transfer_manage,
)
from retention.services import appraisal, dispositions, holds, register, schedules, transfers
from web.errors import translated
from web.pagination import whole_number
from web.support import current_actor, may, new_uow, require_login

bp = Blueprint("retention", __name__, url_prefix="/retention")
require_login(bp)


@bp.app_context_processor
def retention_navigation() -> dict[str, object]:
    """Whether the layout offers the retention pages (base.html); the services still decide."""
    return {"may_retention": may(permission_disposition_view) or may(permission_hold_manage)}


@bp.get("/")
def index() -> ResponseReturnValue:
    actor = current_actor()
    allowed = {name: access.allows(actor, permission) for name, permission in (
        ("view", permission_disposition_view), ("decide", permission_appraisal_decide),
        ("approve", permission_disposition_approve), ("execute", permission_disposition_execute),
        ("holds", permission_hold_manage), ("schedules", permission_schedule_manage),
        ("register", permission_register_view), ("transfers", permission_transfer_manage))}
    due = dispositions.due_records(new_uow(), actor=actor) if allowed["view"] else []
    batches = appraisal.list_batches(new_uow(), actor=actor) if allowed["view"] else []
    active_holds = holds.list_legal_holds(new_uow(), actor=actor) if allowed["holds"] else []
    found_schedules = schedules.list_schedules(new_uow(), actor=actor) if allowed["view"] else []
    return render_template("retention/index.html", due=due, batches=batches, holds=active_holds,
                           schedules=found_schedules, allowed=allowed, hold_types=HOLD_TYPES,
                           hold_targets=HOLD_TARGETS, decisions=DECISIONS, triggers=TRIGGERS)


def _back(message: str) -> ResponseReturnValue:
    flash(message, "success")
    return redirect(url_for("retention.index"))


def _whole(form: Mapping[str, str], name: str) -> int | None:
    """A whole-number form field (empty: None), else a ValidationError naming the field."""
    return whole_number(form.get(name), name)


def _refused(error: ValidationError) -> ResponseReturnValue:
    flash(_("Refused: %(reason)s", reason=translated(error)), "error")
    return redirect(url_for("retention.index"))


@bp.post("/gather")
def gather() -> ResponseReturnValue:
    found = appraisal.gather_due_records(new_uow(), actor=current_actor())
    return _back(_("Due records gathered into batches: %(ids)s", ids=", ".join(map(str, found)) or "—"))


@bp.post("/batches/<int:batch_id>/votes")
def vote(batch_id: int) -> ResponseReturnValue:
    form = request.form
    try:
        years = _whole(form, "years")
        agreed = appraisal.appraise_record(new_uow(), actor=current_actor(), batch_id=batch_id,
                                           archive_code=form.get("archive_code", ""),
                                           decision=form.get("decision", ""), extend_years=years,
                                           reason=form.get("reason", ""))
    except ValidationError as error:
        return _refused(error)
    return _back(_("Decision recorded; agreed: %(agreed)s", agreed=agreed or _("not yet")))


@bp.post("/batches/<int:batch_id>/decision")
def decide(batch_id: int) -> ResponseReturnValue:
    approve = request.form.get("approve") == "yes"
    try:
        appraisal.decide_batch(new_uow(), actor=current_actor(), batch_id=batch_id, approve=approve,
                               comment=request.form.get("comment", ""))
    except ValidationError as error:
        return _refused(error)
    return _back(_("Batch %(id)s approved.", id=batch_id) if approve else
                 _("Batch %(id)s returned to the appraisal group.", id=batch_id))


@bp.post("/batches/<int:batch_id>/destruction")
def destroy(batch_id: int) -> ResponseReturnValue:
    try:
        run = appraisal.destroy_batch(new_uow(), actor=current_actor(), batch_id=batch_id)
    except ValidationError as error:
        return _refused(error)
    return _back(_("Batch %(id)s: %(d)s destroyed, %(e)s extended, %(t)s for transfer, %(h)s kept by a hold.",
                   id=batch_id, d=run.destroyed, e=run.extended, t=run.for_transfer, h=run.held))


@bp.post("/holds")
def place_hold() -> ResponseReturnValue:
    form = request.form
    try:
        hold_id = holds.place_legal_hold(new_uow(), actor=current_actor(),
                                         target=holds.HoldTarget(form.get("target_type", ""), form.get("ref", "")),
                                         hold_type=form.get("hold_type", ""), reason=form.get("reason", ""))
    except ValidationError as error:
        return _refused(error)
    return _back(_("Legal hold %(id)s placed.", id=hold_id))


@bp.post("/holds/<int:hold_id>/release")
def release_hold(hold_id: int) -> ResponseReturnValue:
    try:
        holds.release_legal_hold(new_uow(), actor=current_actor(), hold_id=hold_id,
                                 reason=request.form.get("reason", ""))
    except ValidationError as error:
        return _refused(error)
    return _back(_("Legal hold %(id)s released.", id=hold_id))


@bp.post("/schedules/<document_type>")
def set_schedule(document_type: str) -> ResponseReturnValue:
    """Preview first (how many records move), save on confirmation."""
    form = request.form
    try:
        years, months = _whole(form, "years"), _whole(form, "months")
        change = schedules.set_schedule(new_uow(), actor=current_actor(), document_type=document_type,
                                        years=years, months=months, trigger=form.get("trigger", ""),
                                        event_name=form.get("event_name", ""), action=form.get("action", ""),
                                        dry_run=form.get("confirm") != "yes")
    except ValidationError as error:
        return _refused(error)
    if not change.saved:
        return render_template("retention/schedule_preview.html", change=change, form=form)
    return _back(_("Schedule of %(type)s saved; %(n)s records moved.", type=document_type, n=change.records_moved))


@bp.get("/register")
def register_page() -> ResponseReturnValue:
    actor = current_actor()
    entries = register.list_register(new_uow(), actor=actor)
    snapshots = register.list_register_snapshots(new_uow(), actor=actor)
    return render_template("retention/register.html", entries=entries, snapshots=snapshots,
                           may_keep=access.allows(actor, permission_register_keep))


@bp.post("/register/snapshots")
def keep_register() -> ResponseReturnValue:
    kept = register.keep_register(new_uow(), actor=current_actor())
    flash(_("The register was kept as snapshot %(id)s (%(n)s entries).", id=kept.id, n=kept.entries), "success")
    return redirect(url_for("retention.register_page"))


@bp.get("/register/snapshots/<int:snapshot_id>.pdf")
def register_snapshot(snapshot_id: int) -> ResponseReturnValue:
    stream, name = register.open_register_snapshot(new_uow(), actor=current_actor(), snapshot_id=snapshot_id)
    return send_file(stream, as_attachment=True, download_name=name, mimetype="application/pdf")


@bp.get("/register.xlsx")
def register_xlsx() -> ResponseReturnValue:
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115 - removed after sending
    handle.close()
    path = Path(handle.name)
    register.export_register_xlsx(new_uow(), actor=current_actor(), path=path)

    @after_this_request
    def remove(response):  # noqa: ANN001, ANN202
        path.unlink(missing_ok=True)
        return response

    return send_file(path, as_attachment=True, download_name=f"destruction-register-{date.today()}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _send_temporary(path: Path, download_name: str, mimetype: str, *, also: Path | None = None) -> ResponseReturnValue:
    """Send a file written for this response, removing it (and the directory also) afterwards."""

    @after_this_request
    def remove(response):  # noqa: ANN001, ANN202
        path.unlink(missing_ok=True)
        if also is not None:
            shutil.rmtree(also, ignore_errors=True)
        return response

    return send_file(path, as_attachment=True, download_name=download_name, mimetype=mimetype)


@bp.get("/transfers")
def transfers_page() -> ResponseReturnValue:
    actor = current_actor()
    found = transfers.list_transfers(new_uow(), actor=actor)
    return render_template("retention/transfers.html", transfers=found, my_department=actor.department_code)


def _to_transfers(message: str, category: str = "success") -> ResponseReturnValue:
    flash(message, category)
    return redirect(url_for("retention.transfers_page"))


@bp.post("/transfers")
def send_transfer() -> ResponseReturnValue:
    form = request.form
    destination = form.get("destination", "department")
    try:
        transfer_id = transfers.send_transfer(
            new_uow(), actor=current_actor(), archive_codes=form.get("archive_codes", "").split(),
            to_department=form.get("to_department") if destination == "department" else None,
            to_fonds=form.get("to_fonds") if destination == "fonds" else None,
            to_archive=form.get("to_archive", ""), note=form.get("note", ""))
    except ValidationError as error:
        return _to_transfers(_("Refused: %(reason)s", reason=translated(error)), "error")
    return _to_transfers(_("Transfer %(id)s sent.", id=transfer_id))


@bp.post("/transfers/<int:transfer_id>/receipt")
def confirm_transfer(transfer_id: int) -> ResponseReturnValue:
    form = request.form
    try:
        if form.get("kind") == "fonds":
            transfers.confirm_fonds_receipt(new_uow(), actor=current_actor(), transfer_id=transfer_id,
                                            reference=form.get("reference", ""), signed_by=form.get("signed_by", ""))
        else:
            transfers.receive_transfer(new_uow(), actor=current_actor(), transfer_id=transfer_id)
    except ValidationError as error:
        return _to_transfers(_("Refused: %(reason)s", reason=translated(error)), "error")
    return _to_transfers(_("Receipt of transfer %(id)s recorded.", id=transfer_id))


@bp.get("/transfers/<int:transfer_id>.pdf")
def transfer_receipt(transfer_id: int) -> ResponseReturnValue:
    view = transfers.get_transfer(new_uow(), actor=current_actor(), transfer_id=transfer_id)
    handle = tempfile.NamedTemporaryFile(suffix=".pdf", delete=False)  # noqa: SIM115 - removed after sending
    handle.close()
    path = Path(handle.name)
    transfer_pdf(view, path)
    return _send_temporary(path, f"handover-receipt-{transfer_id}.pdf", "application/pdf")


@bp.get("/transfers/<int:transfer_id>/package.zip")
def transfer_package(transfer_id: int) -> ResponseReturnValue:
    """The handover package for another fonds, zipped: written to a temporary directory, streamed from disk."""
    work = Path(tempfile.mkdtemp(prefix="archive-handover-"))
    try:
        transfers.write_handover_package(new_uow(), actor=current_actor(), transfer_id=transfer_id,
                                         directory=work / "package")
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    archive_path = work / "package.zip"
    with zipfile.ZipFile(archive_path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for file in sorted((work / "package").rglob("*")):
            if file.is_file():
                bundle.write(file, file.relative_to(work / "package").as_posix())
    shutil.rmtree(work / "package", ignore_errors=True)
    return _send_temporary(archive_path, f"handover-package-{transfer_id}.zip", "application/zip", also=work)
