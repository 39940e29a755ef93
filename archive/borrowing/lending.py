"""Borrowing as the core asks it (archive.ports.Lending): the grants running for a user, the borrowers
the search index tags documents with, and the marks burned into what is served under a grant — a
visible diagonal tile (borrower, time, request number) and an invisible mark carrying the grant id
(watermark.py). The client chooses none of it, and the originals in storage stay unmarked."""

from __future__ import annotations

import io
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import BinaryIO

from PIL import Image
from sqlalchemy.orm import Session

from archive.actors import Actor, DocumentGrant
from archive.borrowing import services
from archive.page_images import encode_png
from storage.envelope import Keyring, keyed_hash


def mark_key(keyring: Keyring) -> bytes:
    """The archive's own watermark key, derived from its lookup key (the module's default is public)."""
    return keyed_hash("borrowing/watermark/v1", keyring).encode("ascii")


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

    def page(self, image: Image.Image, grant: DocumentGrant, actor: Actor, keyring: Keyring) -> BinaryIO:
        from archive.borrowing import watermark  # numpy work, loaded when a page is first marked

        marked = watermark.burn(image, mark_lines(grant, actor), grant.grant_id, key=mark_key(keyring))
        return io.BytesIO(encode_png(marked))

    def pdf(self, images: Iterable[Image.Image], grant: DocumentGrant, actor: Actor, keyring: Keyring,
            out: BinaryIO) -> None:
        from archive.borrowing import watermark

        lines, key = mark_lines(grant, actor), mark_key(keyring)
        watermark.marked_pdf((watermark.burn(image, lines, grant.grant_id, key=key) for image in images), out)
