"""The audit log for compliance staff, filtered by event type, user and outcome; the last fixity run."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from archive import registry
from archive.services import audit_log, integrity
from web.support import current_actor, new_uow, require_login

bp = Blueprint("compliance", __name__, url_prefix="/compliance")
require_login(bp)

OUTCOMES = ("ok", "failed", "denied")


@bp.get("/")
def index() -> ResponseReturnValue:
    filters = {
        "event_type": request.args.get("event_type", "").strip()[:100],
        "actor_name": request.args.get("user", "").strip()[:100],
        "outcome": request.args.get("outcome", "").strip()[:20],
    }
    found = audit_log.list_audit_events(new_uow(), actor=current_actor(), limit=500, **filters)
    fixity = integrity.last_fixity_run(new_uow(), actor=current_actor())
    return render_template("compliance/index.html", events=found, filters=filters, event_types=sorted(registry.event_types()),
                           outcomes=OUTCOMES, fixity=fixity)
