"""Borrowing as the core asks it (archive.ports.Lending): the grants running for a user, the borrowers
the search index tags documents with, and the marks burned into what is served under a grant — a
visible diagonal tile (borrower, time, request number) and an invisible mark carrying the grant id
(watermark.py). The client chooses none of it, and the originals in storage stay unmarked."""

from __future__ import annotations

import io
from collections.abc import Collection, Iterable, Iterator
from datetime import UTC, datetime
from typing import BinaryIO

from PIL import Image
from sqlalchemy.orm import Session

from archive.actors import Actor, DocumentGrant
from archive.borrowing import services


def mark_lines(grant: DocumentGrant, actor: Actor, at: datetime | None = None) -> list[str]:
    when = (at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    return [f"{grant.borrower or actor.username} ({actor.username})", f"借阅 {grant.request_number}  {when}"]


class Lending:
    def grants(self, session: Session, user_id: int, now: datetime) -> list[DocumentGrant]:
        return services.grants_for(session, user_id, now)

    def borrowers(self, session: Session, document_ids: Collection[int], now: datetime) -> dict[int, tuple[int, ...]]:
        return services.borrowers(session, document_ids, now)

    def index_lag(self, session: Session, user_id: int, now: datetime,
                  lent: frozenset[int]) -> tuple[frozenset[int], frozenset[int]]:
        return services.index_lag(session, user_id, now, lent)

    def page(self, image: BinaryIO, grant: DocumentGrant, actor: Actor) -> BinaryIO:
        from archive.borrowing import watermark  # numpy work, loaded when a page is first marked

        with Image.open(image) as page:
            return io.BytesIO(watermark.encode_png(watermark.burn(page, mark_lines(grant, actor), grant.grant_id)))

    def pdf(self, images: Iterable[BinaryIO], grant: DocumentGrant, actor: Actor, out: BinaryIO) -> None:
        from archive.borrowing import watermark

        def pages() -> Iterator[Image.Image]:
            for stream in images:
                with stream, Image.open(stream) as page:
                    yield watermark.burn(page, mark_lines(grant, actor), grant.grant_id)

        watermark.marked_pdf(pages(), out)
