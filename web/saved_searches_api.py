"""The user's own saved searches under /api/v1/saved-searches: list, save, delete.

A saved search is a name, a query string and filters (the search's `type`, `department`,
`classification`, `year`, `dossier`, `status`, `sort`, `from`, `to`). Each entry carries `search_url`:
GET it (with the same credentials) to run the search through /api/v1/search.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from archive.errors import ValidationError
from archive.saved_searches import services
from archive.saved_searches.services import SavedSearchView
from web.api_auth import protect_api
from web.support import current_actor, new_uow, require_login

bp = Blueprint("saved_searches_api", __name__, url_prefix="/api/v1")
protect_api(bp)  # before require_login: a bearer token logs the user in
require_login(bp)


def _json(view: SavedSearchView) -> dict[str, Any]:
    return {**asdict(view), "search_url": url_for("api.search", **view.parameters())}


@bp.get("/saved-searches")
def list_saved_searches() -> ResponseReturnValue:
    """200 {"saved_searches": [{"id", "name", "query", "filters", "created_at", "search_url"}, …]}, newest first."""
    return jsonify(saved_searches=[_json(v) for v in services.list_saved_searches(new_uow(), actor=current_actor())])


@bp.post("/saved-searches")
def create_saved_search() -> ResponseReturnValue:
    """{"name": str, "query": str, "filters": {key: str}} → 201 {"saved_search": {...}}; 400 for a bad
    name, query or filter, or a query holding an ID or phone number (never kept in clear)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("filters", {}), dict):
        raise ValidationError("send a JSON object with name, query and filters (an object)")
    created = services.save_search(new_uow(), actor=current_actor(), name=str(body.get("name") or ""),
                                   query=str(body.get("query") or ""), filters=body.get("filters") or {})
    return jsonify(saved_search=_json(created)), 201


@bp.delete("/saved-searches/<int:saved_search_id>")
def delete_saved_search(saved_search_id: int) -> ResponseReturnValue:
    """204 once deleted; 404 for an id that is not one of the user's own saved searches."""
    services.delete_saved_search(new_uow(), actor=current_actor(), saved_search_id=saved_search_id)
    return "", 204
