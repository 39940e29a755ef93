"""Full-text search with highlighted snippets, facets and pages."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from archive.services import searching
from web.support import current_actor, new_uow, require_login

bp = Blueprint("search", __name__, url_prefix="/search")
require_login(bp)

PAGE_SIZE = 20
MAX_PAGE = 500
FILTER_KEYS = ("type", "department", "classification", "year")
FACET_FILTERS = {"document_type": "type", "department": "department", "year": "year",
                 "classification": "classification"}
FILTER_TITLES = {"type": _l("Type"), "department": _l("Department"), "year": _l("Year"),
                 "classification": _l("Classification")}


def request_filters() -> dict[str, str]:
    return {key: value.strip()[:100] for key in FILTER_KEYS if (value := request.args.get(key, "")).strip()}


def page_number() -> int:
    try:
        return min(max(int(request.args.get("page", "1")), 1), MAX_PAGE)
    except ValueError:
        return 1


@bp.get("/")
def index() -> ResponseReturnValue:
    query = request.args.get("q", "").strip()[:500]
    filters = request_filters()
    page = page_number()
    result = None
    if query or filters:
        result = searching.search_documents(
            new_uow(), actor=current_actor(), query=query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
            filters=filters,
        )
    pages = ((result.total + PAGE_SIZE - 1) // PAGE_SIZE) if result else 0
    return render_template(
        "search/index.html", query=query, filters=filters, result=result, page=page, pages=min(pages, MAX_PAGE),
        facet_filters=FACET_FILTERS, filter_titles=FILTER_TITLES,
    )
