"""The marks on what is served under a borrow grant, burned in on the server: a visible diagonal tile
(borrower, time, request number) and an invisible mark carrying the grant id (watermark.py). The client
chooses none of it, and the originals in storage stay unmarked."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import BinaryIO

from PIL import Image

from archive.actors import Actor, DocumentGrant


def mark_lines(grant: DocumentGrant, actor: Actor, display_name: str = "", at: datetime | None = None) -> list[str]:
    when = (at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    return [f"{display_name or actor.username} ({actor.username})", f"借阅 {grant.request_number}  {when}"]


class GrantMarker:
    """archive.ports.PageMarker for borrowing's grants."""

    def page(self, image: BinaryIO, grant: DocumentGrant, actor: Actor) -> BinaryIO:
        from archive.borrowing import watermark  # numpy work, loaded when a page is first marked

        with Image.open(image) as page:
            marked = watermark.burn(page, mark_lines(grant, actor), grant.grant_id)
        out = io.BytesIO()
        marked.save(out, format="PNG", compress_level=1)
        out.seek(0)
        return out

    def pdf(self, images: Iterable[BinaryIO], grant: DocumentGrant, actor: Actor, out: BinaryIO) -> None:
        from archive.borrowing import watermark

        def pages() -> Iterator[Image.Image]:
            for stream in images:
                with stream, Image.open(stream) as page:
                    yield watermark.burn(page, mark_lines(grant, actor), grant.grant_id)

        watermark.marked_pdf(pages(), out)
