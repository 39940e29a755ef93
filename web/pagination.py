"""Cursor pagination for the API's lists: `?limit=` and `?cursor=`; each answer carries `next_cursor`
(null on the last page), which the client sends back as `cursor` for the next page.

A cursor is opaque: the position after the page's last item (the last id of a newest-first list, or an
offset into a ranked list) signed with the app's secret, so a client can neither read nor forge one. A
cursor that is not ours is a 400 with code invalid_cursor on field cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from flask import current_app, request
from itsdangerous import BadData, URLSafeSerializer
from pydantic import BaseModel, Field

from archive.errors import ValidationError
from web.security import MAX_ID

T = TypeVar("T")

CURSOR = Field("", description="next_cursor of the previous page; absent for the first page")


class PageQuery(BaseModel):
    """A list's query in the API's description: `limit` and `cursor` (subclasses add their filters)."""

    limit: int = Field(50, ge=1, le=200)
    cursor: str = CURSOR


@dataclass(frozen=True)
class PageRequest:
    limit: int
    position: int | None  # from the cursor; None on the first page


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="api-v1-cursor")


def whole_number(raw: str | None, name: str) -> int | None:
    """A whole number sent as text (a query argument or a form field): None when empty; ValidationError
    not_a_number on field `name` unless it is plain digits a database can store (0..MAX_ID), so "²"
    (which str.isdigit() accepts and int() refuses) or a hundred digits is a 400, not a server error."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_ID)) or int(raw) > MAX_ID:
        raise ValidationError(f"{name} must be a whole number", code="not_a_number", field=name)
    return int(raw)


def number_arg(name: str) -> int | None:
    """A whole-number query argument (a record id, a count), None when absent: see whole_number."""
    return whole_number(request.args.get(name), name)


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """A whole-number query argument clamped to [low, high]; ValidationError when it is not a number."""
    try:
        return min(max(int(request.args.get(name, default)), low), high)
    except ValueError:
        raise ValidationError(f"{name} must be a number", code="not_a_number", field=name) from None


def page_request(*, default_limit: int, max_limit: int) -> PageRequest:
    """The request's limit and the position its cursor points at."""
    limit = int_arg("limit", default_limit, 1, max_limit)
    cursor = request.args.get("cursor")
    if not cursor:
        return PageRequest(limit, None)
    try:
        position = _serializer().loads(cursor)
    except BadData:
        position = None
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise ValidationError("the cursor is not valid; start again without one", code="invalid_cursor",
                              field="cursor")
    return PageRequest(limit, position)


def cursor_for(position: int | None) -> str | None:
    """The cursor of a position, None for none (the end of the list)."""
    return None if position is None else _serializer().dumps(position)


def keyset_page(fetch: Callable[[int, int | None], Sequence[T]], page: PageRequest,
                key: Callable[[T], int]) -> tuple[list[T], str | None]:
    """One page of a newest-first list: fetch(limit, before_id) asks for one item more than the page
    to know whether another page follows; the cursor is the last item's key."""
    items = list(fetch(page.limit + 1, page.position))
    if len(items) <= page.limit:
        return items, None
    items = items[:page.limit]
    return items, cursor_for(key(items[-1]))


def offset_cursor(offset: int, shown: int, total: int) -> str | None:
    """The cursor after a page of a ranked list (an offset), None once the total is reached."""
    return cursor_for(offset + shown) if shown and offset + shown < total else None


def list_page(items: Sequence[T], page: PageRequest) -> tuple[list[T], str | None]:
    """One page of a short list a service answers whole (an offset into it)."""
    offset = page.position or 0
    shown = list(items[offset:offset + page.limit])
    return shown, offset_cursor(offset, len(shown), len(items))
