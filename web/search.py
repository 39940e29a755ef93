"""Full-text search with highlighted snippets, facets, a date range, sorting and pages."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from archive.errors import ValidationError
from archive.saved_searches import services as saved
from archive.services import searching
from web.errors import translated
from web.security import safe_next
from web.support import current_actor, new_uow, require_login

bp = Blueprint("search", __name__, url_prefix="/search")
require_login(bp)

PAGE_SIZE = 20
MAX_PAGE = 500
FILTER_KEYS = ("type", "department", "classification", "year", "dossier", "status")
FACET_FILTERS = {"document_type": "type", "department": "department", "year": "year",
                 "classification": "classification"}
FILTER_TITLES = {"type": _l("Type"), "department": _l("Department"), "year": _l("Year"),
                 "classification": _l("Classification"), "dossier": _l("Dossier"), "status": _l("Status")}
SORT_TITLES = {"relevance": _l("Relevance"), "newest": _l("Newest first"), "oldest": _l("Oldest first")}


def request_filters() -> dict[str, str]:
    return {key: value.strip()[:100] for key in FILTER_KEYS if (value := request.args.get(key, "")).strip()}


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(f"{name}: not a date (YYYY-MM-DD): {raw[:20]!r}") from None


def search_options() -> dict[str, Any]:
    """The sort and date range of the request, as search_documents takes them (ValidationError if bad)."""
    sort = request.args.get("sort", "relevance")
    searching.check_sort(sort)
    date_from, date_to = _date_arg("from"), _date_arg("to")
    if date_from and date_to and date_from > date_to:
        date_from, date_to = date_to, date_from
    return {"sort": sort, "date_from": date_from, "date_to": date_to}


def page_number() -> int:
    try:
        return min(max(int(request.args.get("page", "1")), 1), MAX_PAGE)
    except ValueError:
        return 1


@bp.get("/")
def index() -> ResponseReturnValue:
    query = request.args.get("q", "").strip()[:500]
    filters = request_filters()
    options = search_options()
    page = page_number()
    # What every link of the page keeps: the query, its filters, date range and sort (not the page).
    state = {"q": query, **filters, "sort": options["sort"],
             "from": options["date_from"].isoformat() if options["date_from"] else "",
             "to": options["date_to"].isoformat() if options["date_to"] else ""}
    state = {key: value for key, value in state.items() if value and not (key == "sort" and value == "relevance")}
    result = None
    if query or filters or options["date_from"] or options["date_to"]:
        result = searching.search_documents(
            new_uow(), actor=current_actor(), query=query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
            filters=filters, **options,
        )
    pages = ((result.total + PAGE_SIZE - 1) // PAGE_SIZE) if result else 0
    return render_template(
        "search/index.html", query=query, filters=filters, options=options, state=state, result=result,
        page=page, pages=min(pages, MAX_PAGE), facet_filters=FACET_FILTERS, filter_titles=FILTER_TITLES,
        sort_titles=SORT_TITLES, saved_searches=saved.list_saved_searches(new_uow(), actor=current_actor()),
    )


@bp.post("/saved")
def save() -> ResponseReturnValue:
    """Save the search the form carries (q and its filters, sort and dates) under a name."""
    form = request.form
    filters = {key: form.get(key, "") for key in saved.FILTER_KEYS if key in form}
    try:
        kept = saved.save_search(new_uow(), actor=current_actor(), name=form.get("name", "")[:200],
                                 query=form.get("q", "")[:1000], filters=filters)
    except ValidationError as error:
        flash(translated(error), "error")
    else:
        flash(_("Search saved as “%(name)s”.", name=kept.name), "ok")
    state = {key: form[key] for key in ("q", *saved.FILTER_KEYS) if form.get(key)}
    return redirect(url_for("search.index", **state))


@bp.get("/saved/<int:saved_search_id>")
def run_saved(saved_search_id: int) -> ResponseReturnValue:
    """Run one of the user's saved searches: the search page with its query and filters."""
    found = saved.get_saved_search(new_uow(), actor=current_actor(), saved_search_id=saved_search_id)
    return redirect(url_for("search.index", **found.parameters()))


@bp.post("/saved/<int:saved_search_id>/delete")
def delete_saved(saved_search_id: int) -> ResponseReturnValue:
    saved.delete_saved_search(new_uow(), actor=current_actor(), saved_search_id=saved_search_id)
    flash(_("The saved search was deleted."), "ok")
    return redirect(safe_next(request.form.get("next")) or url_for("search.index"))
