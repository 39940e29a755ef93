"""Every user's inbox 消息: requests to decide, decisions, reminders, in the reader's language; the unread
count in the navigation. archive/services/inbox keeps the entries."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_login import current_user

from archive.services import inbox
from web.support import current_actor, label, new_uow, require_login

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
require_login(bp)

# Outcomes and end reasons inside a sentence ("已{outcome}", "({reason})") in the reader's language.
IN_SENTENCE_ZH = {"approved": "批准", "rejected": "驳回", "expired": "到期", "returned": "归还", "revoked": "撤销"}


@bp.app_context_processor
def inbox_navigation() -> dict[str, object]:
    """The unread count beside the inbox link (base.html)."""
    if not current_user.is_authenticated:
        return {"inbox_unread": 0}
    return {"inbox_unread": inbox.unread_count(new_uow(), actor=current_actor())}


def language() -> str:
    return "en" if str(get_locale()) == "en" else "zh"


def sentence(entry: inbox.InboxEntry, lang: str) -> str:
    """The entry's sentence, with stored codes (outcome, reason) said in the reader's language."""
    params: dict[str, Any] = dict(entry.params)
    for key in ("outcome", "reason"):
        value = params.get(key)
        if isinstance(value, str):
            params[key] = IN_SENTENCE_ZH.get(value, label(value)) if lang == "zh" else label(value).lower()
    return inbox.text(entry.kind, params, lang)


def safe_link(link: str) -> str:
    """Only a path of this site (no scheme, no other host) is offered as the entry's page."""
    return link if link.startswith("/") and not link.startswith("//") and "\\" not in link else ""


@bp.get("/")
def index() -> ResponseReturnValue:
    lang = language()
    entries = [(entry, sentence(entry, lang), safe_link(entry.link))
               for entry in inbox.list_inbox(new_uow(), actor=current_actor())]
    return render_template("inbox/index.html", entries=entries)


@bp.post("/read")
def mark_read() -> ResponseReturnValue:
    """Mark the entries named in the form (`entry`, repeated) as read, or all of them (`all=yes`)."""
    ids = None if request.form.get("all") == "yes" else [int(i) for i in request.form.getlist("entry")
                                                           if i.isdigit()]
    inbox.mark_read(new_uow(), actor=current_actor(), entry_ids=ids)
    return redirect(url_for("inbox.index"))


@bp.post("/<int:entry_id>/open")
def open_entry(entry_id: int) -> ResponseReturnValue:
    """Mark the entry read and go to its page."""
    inbox.mark_read(new_uow(), actor=current_actor(), entry_ids=[entry_id])
    found = next((e for e in inbox.list_inbox(new_uow(), actor=current_actor(), limit=1000) if e.id == entry_id),
                 None)
    target = safe_link(found.link) if found is not None else ""
    return redirect(target or url_for("inbox.index"))
