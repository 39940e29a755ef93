"""Save, list, load and delete a user's own searches; saving and deleting are audited.

Only the owner ever sees or deletes a saved search (anyone else gets NotFoundError, as for an id that
does not exist). Running one is an ordinary search: the access policy applies when it runs, so a saved
search never shows more than its owner may see at that moment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from archive import access, audit
from archive.actors import Actor
from archive.errors import NotFoundError, ValidationError
from archive.models import as_utc
from archive.pii import redact
from archive.saved_searches.events import event_saved_search_created, event_saved_search_deleted
from archive.saved_searches.models import SavedSearch
from archive.services.searching import check_sort
from archive.unit_of_work import UnitOfWork

# What a search request may carry besides the query: its filters, the sort and the date range.
FILTER_KEYS = ("type", "department", "classification", "year", "dossier", "status", "sort", "from", "to")
MAX_PER_USER = 100
MAX_QUERY = 500
MAX_VALUE = 100


@dataclass(frozen=True)
class SavedSearchView:
    id: int
    name: str
    query: str
    filters: dict[str, str] = field(default_factory=dict)
    created_at: datetime | None = None

    def parameters(self) -> dict[str, str]:
        """The search request's parameters (q and the filters), to run it again."""
        return {**({"q": self.query} if self.query else {}), **self.filters}


def _view(row: SavedSearch) -> SavedSearchView:
    return SavedSearchView(id=row.id, name=row.name, query=row.query, filters=dict(row.filters or {}),
                           created_at=as_utc(row.created_at))


def clean_filters(filters: Mapping[str, Any]) -> dict[str, str]:
    """The known filters with their values as short strings; ValidationError for an unknown key or a bad
    sort or date."""
    cleaned: dict[str, str] = {}
    for key, value in filters.items():
        if key not in FILTER_KEYS:
            raise ValidationError(f"unknown search filter {str(key)[:40]!r}", field="filters")
        text = str(value if value is not None else "").strip()
        if not text:
            continue
        if len(text) > MAX_VALUE:
            raise ValidationError(f"the filter {key} is longer than {MAX_VALUE} characters", field="filters")
        if key == "sort":
            check_sort(text)
        if key in ("from", "to"):
            try:
                date.fromisoformat(text)
            except ValueError:
                raise ValidationError(f"{key}: not a date (YYYY-MM-DD): {text[:20]!r}", field="filters") from None
        cleaned[key] = text
    return cleaned


def save_search(uow: UnitOfWork, *, actor: Actor, name: str, query: str = "",
                filters: Mapping[str, Any] | None = None) -> SavedSearchView:
    """Keep a search under a name for the actor. Requires permission to search (or a running grant);
    ValidationError for an empty or long name, a long query, bad filters, nothing to search for, or more
    than MAX_PER_USER saved searches."""
    with uow:  # a refusal leaving the unit of work is audited
        access.require_search(actor)
    name, query = name.strip(), query.strip()
    if not name or len(name) > 100:
        raise ValidationError("the name must be 1 to 100 characters", code="saved_search_name", field="name")
    if len(query) > MAX_QUERY:
        raise ValidationError(f"the query is longer than {MAX_QUERY} characters", field="query")
    cleaned = clean_filters(filters or {})
    if redact(query) != query or redact(name) != name or any(redact(v) != v for v in cleaned.values()):
        # ID and phone numbers never rest in clear: such a search is run, not kept.
        raise ValidationError("a search for an ID or phone number cannot be saved", code="saved_search_pii",
                              field="query")
    if not query and not cleaned:
        raise ValidationError("there is nothing to save: give a query or a filter", code="saved_search_empty",
                              field="query")
    if actor.user_id is None:
        raise ValidationError("only a user can save a search")
    with uow:
        held = uow.session.scalar(select(func.count(SavedSearch.id)).where(SavedSearch.owner_id == actor.user_id))
        if (held or 0) >= MAX_PER_USER:
            raise ValidationError(f"you already keep {MAX_PER_USER} saved searches: delete one first")
        row = SavedSearch(owner_id=actor.user_id, name=name, query=query, filters=cleaned,
                          created_at=uow.clock.now())
        uow.session.add(row)
        uow.session.flush()
        audit.record(uow.session, actor, event_saved_search_created, target_type="saved_search",
                     target_id=row.id, name=name, query=query, filters=cleaned)
        view = _view(row)
        uow.commit()
    return view


def list_saved_searches(uow: UnitOfWork, *, actor: Actor, limit: int = MAX_PER_USER,
                        before_id: int | None = None) -> list[SavedSearchView]:
    """The actor's own saved searches, newest first (those older than before_id, for the next page)."""
    with uow:
        query = select(SavedSearch).where(SavedSearch.owner_id == actor.user_id)
        if before_id is not None:
            query = query.where(SavedSearch.id < before_id)
        rows = uow.session.scalars(query.order_by(SavedSearch.id.desc()).limit(limit))
        return [_view(row) for row in rows]


def _own(uow: UnitOfWork, actor: Actor, saved_search_id: int) -> SavedSearch:
    row = uow.session.get(SavedSearch, saved_search_id)
    if row is None or row.owner_id != actor.user_id:
        raise NotFoundError(f"no saved search {saved_search_id}")
    return row


def get_saved_search(uow: UnitOfWork, *, actor: Actor, saved_search_id: int) -> SavedSearchView:
    """One of the actor's own saved searches; NotFoundError for anyone else's."""
    with uow:
        return _view(_own(uow, actor, saved_search_id))


def delete_saved_search(uow: UnitOfWork, *, actor: Actor, saved_search_id: int) -> None:
    """Delete one of the actor's own saved searches; NotFoundError for anyone else's."""
    with uow:
        row = _own(uow, actor, saved_search_id)
        audit.record(uow.session, actor, event_saved_search_deleted, target_type="saved_search",
                     target_id=row.id, name=row.name)
        uow.session.delete(row)
        uow.commit()
