"""Full-text search under the access policy; ID and phone numbers are looked up by keyed hash."""

from __future__ import annotations

from sqlalchemy import select

from archive import access, audit
from archive.actors import Actor
from archive.errors import ValidationError
from archive.events import event_documents_searched
from archive.models import Document
from archive.permissions import permission_document_search, permission_document_view
from archive.pii import find_identifiers, lookup_hash, redact
from archive.unit_of_work import UnitOfWork
from archive.views import SearchHitView, SearchPage
from search.base import QuerySyntaxError, SearchQuery


def search_documents(
    uow: UnitOfWork, *, actor: Actor, query: str, limit: int = 20, offset: int = 0,
    filters: dict[str, str] | None = None,
) -> SearchPage:
    """Search what the actor may see. Requires permission_document_search; audited with the query."""
    with uow:
        access.require(actor, permission_document_search)
        scope = access.visible(actor, permission_document_view)
        identifiers = find_identifiers(query)
        text = query
        for value in identifiers:
            text = text.replace(value, " ").replace(value.lower(), " ")
        engine_query = SearchQuery(
            text=text.strip(), pii_hashes=tuple(lookup_hash(v, uow.keyring) for v in identifiers),
            filters=dict(filters or {}), limit=limit, offset=offset,
        )
        try:
            result = uow.index.search(engine_query, scope.for_search())
        except QuerySyntaxError as error:
            raise ValidationError(f"查询语法错误 / query syntax: {error}") from error
        ids = [hit.document_id for hit in result.hits]
        documents = {d.id: d for d in uow.session.scalars(select(Document).where(Document.id.in_(ids))).unique()}
        hits = [
            SearchHitView(
                document_id=hit.document_id, archive_code=doc.archive_code, title=doc.title,
                customer=doc.customer.name, document_type=doc.document_type, snippet=hit.snippet,
                score=hit.score,
            )
            for hit in result.hits
            if (doc := documents.get(hit.document_id)) is not None
            and access.allows(actor, permission_document_view, doc)
        ]
        audit.record(uow.session, actor, event_documents_searched, query=redact(query), results=result.total,
                     filters=dict(filters or {}))
        uow.commit()
        return SearchPage(query=redact(query), total=result.total, hits=hits, facets=result.facets)
