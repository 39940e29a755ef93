"""The user's own saved searches under /api/v1/saved-searches: list, save, delete.

A saved search is a name, a query string and filters (the search's `type`, `department`,
`classification`, `year`, `dossier`, `status`, `sort`, `from`, `to`). Each entry carries `search_url`:
GET it (with the same credentials) to run the search through /api/v1/search.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, jsonify, url_for
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field

from archive.errors import ValidationError
from archive.saved_searches import services
from archive.saved_searches.services import MAX_PER_USER, SavedSearchView
from web.api_auth import protect_api
from web.openapi import operation, with_fields
from web.pagination import CURSOR, keyset_page, page_request
from web.support import current_actor, json_body, new_uow, require_login

bp = Blueprint("saved_searches_api", __name__, url_prefix="/api/v1")
protect_api(bp)  # before require_login: a bearer token logs the user in
require_login(bp)


SavedSearchJson = with_fields(SavedSearchView, "SavedSearch", search_url=str)


class SavedSearchesQuery(BaseModel):
    limit: int = Field(MAX_PER_USER, ge=1, le=MAX_PER_USER)
    cursor: str = CURSOR


class SavedSearchesAnswer(BaseModel):
    saved_searches: list[SavedSearchJson]  # type: ignore[valid-type]
    next_cursor: str | None


class NewSavedSearch(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    query: str = Field("", max_length=500)
    filters: dict[str, str] = Field(default_factory=dict, description=", ".join(sorted(services.FILTER_KEYS)))


class OneSavedSearch(BaseModel):
    saved_search: SavedSearchJson  # type: ignore[valid-type]


def _json(view: SavedSearchView) -> dict[str, Any]:
    return {**asdict(view), "search_url": url_for("api.search", **view.parameters())}


@bp.get("/saved-searches")
@operation("The user's saved searches", query=SavedSearchesQuery, response=SavedSearchesAnswer)
def list_saved_searches() -> ResponseReturnValue:
    """The user's own saved searches, newest first."""
    found, next_cursor = keyset_page(
        lambda limit, before: services.list_saved_searches(new_uow(), actor=current_actor(), limit=limit,
                                                           before_id=before),
        page_request(default_limit=MAX_PER_USER, max_limit=MAX_PER_USER), key=lambda v: v.id)
    return jsonify(saved_searches=[_json(v) for v in found], next_cursor=next_cursor)


@bp.post("/saved-searches")
@operation("Save a search", body=NewSavedSearch, response=OneSavedSearch, status=201)
def create_saved_search() -> ResponseReturnValue:
    """{"name": str, "query": str, "filters": {key: str}} → 201 {"saved_search": {...}}; 400 for a bad
    name, query or filter, or a query holding an ID or phone number (never kept in clear)."""
    body = json_body()
    if not isinstance(body.get("filters", {}), dict):
        raise ValidationError("send a JSON object with name, query and filters (an object)")
    created = services.save_search(new_uow(), actor=current_actor(), name=str(body.get("name") or ""),
                                   query=str(body.get("query") or ""), filters=body.get("filters") or {})
    return jsonify(saved_search=_json(created)), 201


@bp.delete("/saved-searches/<int:saved_search_id>")
@operation("Delete a saved search", status=204)
def delete_saved_search(saved_search_id: int) -> ResponseReturnValue:
    """204 once deleted; 404 for an id that is not one of the user's own saved searches."""
    services.delete_saved_search(new_uow(), actor=current_actor(), saved_search_id=saved_search_id)
    return "", 204
