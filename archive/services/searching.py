"""Full-text search under the access policy; ID and phone numbers are looked up by keyed hash."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import lazyload

from archive import access, audit, redaction, registry
from archive.actors import Actor
from archive.errors import ValidationError, check_filter_value
from archive.events import event_documents_searched
from archive.models import SHREDDED, ClassificationLevel, Department, Document, DocumentType, SearchOutbox
from archive.permissions import permission_document_view
from archive.pii import find_identifiers, lookup_hash, redact
from archive.security import lookups
from archive.unit_of_work import UnitOfWork
from archive.views import SearchHitView, SearchPage
from search.base import QuerySyntaxError, SearchQuery, Visibility

SORTS = ("relevance", "newest", "oldest")
FILTER_KEYS = ("type", "department", "classification", "year", "dossier", "status")
DOCUMENT_STATUSES = ("processing", "ready", "failed", SHREDDED)


LENT_TERM_FROM = 64  # lent documents from which the engine filters by the borrower's tag, not by ids


def _engine_filter(uow: UnitOfWork, actor: Actor, scope: access.Scope) -> Visibility:
    lending = registry.lending()
    if actor.user_id is None or lending is None or len(scope.granted_document_ids) < LENT_TERM_FROM:
        return scope.for_search()
    lag = lending.index_lag(uow.session, actor.user_id, uow.clock.now(), scope.granted_document_ids)
    return scope.for_search(lent_to=actor.user_id, lag=lag)


def _levels(uow: UnitOfWork) -> list[str]:
    return list(uow.session.scalars(select(ClassificationLevel.code)))


def check_sort(sort: str) -> None:
    """A sort order search_documents takes, else a ValidationError naming the value."""
    if sort not in SORTS:
        raise ValidationError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}", code="unknown_sort",
                              params={"value": sort, "allowed": ", ".join(SORTS)}, field="sort")


def check_filters(uow: UnitOfWork, filters: dict[str, str]) -> None:
    """Filters that name what exists, else a ValidationError naming the key and the value (not an empty page).

    Document types, departments and classification levels are reference data every user may list, so
    naming one that does not exist tells nothing about documents. The dossier is free text.
    """
    check_filter_value("filter", ",".join(key for key in filters if key not in FILTER_KEYS), ())
    session = uow.session
    known = {
        "type": lambda: session.scalars(select(DocumentType.code)),
        "classification": lambda: session.scalars(select(ClassificationLevel.code)),
        "department": lambda: session.scalars(select(Department.code)),
        "status": lambda: DOCUMENT_STATUSES,
        "year": lambda: [filters["year"]] if filters["year"].isdigit() and len(filters["year"]) == 4 else [],
    }
    for key, value in filters.items():
        if key in known:
            check_filter_value(key, value, set(known[key]()))


def search_documents(
    uow: UnitOfWork, *, actor: Actor, query: str, limit: int = 20, offset: int = 0,
    filters: dict[str, str] | None = None, sort: str = "relevance", date_from: date | None = None,
    date_to: date | None = None,
) -> SearchPage:
    """Search what the actor may see. Requires permission_document_search (or a running borrow grant:
    access.require_search); audited with the query.

    A document whose removal from the index is still queued (shredded, deleted) is already left
    out of hits, totals and facets. Snippets come from text redacted before indexing and are masked
    again here, so no ID or phone number reaches a result page. Raises ValidationError for a
    malformed query or sort.
    """
    check_sort(sort)
    with uow:
        access.require_search(actor)
        check_filters(uow, filters or {})
        scope = access.visible(actor, permission_document_view)
        identifiers = find_identifiers(query)
        looked_up = find_identifiers(" ".join([query, *(filters or {}).values()]))  # filters can look up too
        if looked_up and not lookups.guard_identifier_lookup(uow.session, uow.settings, uow.keyring, actor,
                                                             looked_up):
            uow.commit()  # keep the refusal in the audit trail
            raise lookups.refusal(actor, uow.settings)
        text = redaction.substitute(query, lambda _value: " ")  # split and misread forms
        for value in identifiers:
            text = text.replace(value, " ").replace(value.lower(), " ")
        withdrawn = frozenset(uow.session.scalars(
            select(SearchOutbox.document_id).where(SearchOutbox.action == "delete")
        ))
        engine_query = SearchQuery(
            text=text.strip(), pii_hashes=tuple(lookup_hash(v, uow.keyring) for v in identifiers),
            filters=dict(filters or {}), limit=limit, offset=offset, sort=sort, date_from=date_from,
            date_to=date_to, exclude_ids=withdrawn,
        )
        # With ARCHIVE_BORROW_DISCOVERY, documents outside the actor's scope come back as metadata-only hits
        # (a borrow request's way in); the counts are then exact for what is shown.
        discovery = uow.settings.borrow_discovery
        visibility = Visibility(None, frozenset(_levels(uow))) if discovery else _engine_filter(uow, actor, scope)
        try:
            result = uow.index.search(engine_query, visibility)
        except QuerySyntaxError as error:
            raise ValidationError(f"查询语法错误 / query syntax: {error}") from error
        ids = [hit.document_id for hit in result.hits]
        # A hit shows no pages: leave them to a lazy load instead of the model's select-in of every page.
        found = select(Document).where(Document.id.in_(ids)).options(lazyload(Document.pages))
        documents = {d.id: d for d in uow.session.scalars(found).unique()}
        today = uow.clock.today()
        hits = []
        for hit in result.hits:
            if (doc := documents.get(hit.document_id)) is None:
                continue
            if access.allows(actor, permission_document_view, doc):
                hits.append(SearchHitView(
                    document_id=doc.id, archive_code=doc.archive_code, title=doc.title, customer=doc.customer.name,
                    document_type=doc.document_type, snippet=redact(hit.snippet), score=hit.score,
                    history=doc.is_history(today)))
            elif discovery:
                hits.append(SearchHitView(
                    document_id=doc.id, archive_code=doc.archive_code, title=redact(doc.title), customer="",
                    document_type=doc.document_type, snippet="", score=hit.score, restricted=True))
        scope_detail = {key: redact(str(value)) for key, value in (filters or {}).items()}
        if date_from or date_to:
            scope_detail["date"] = f"{date_from or ''}..{date_to or ''}"
        audit.record(uow.session, actor, event_documents_searched, query=redact(query), results=result.total,
                     filters=scope_detail, **({"restricted_hits": sum(h.restricted for h in hits)} if discovery else {}))
        uow.commit()
        return SearchPage(query=redact(query), total=result.total, hits=hits, facets=result.facets)
