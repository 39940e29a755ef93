"""Cursor pagination on the API's lists: limit, next_cursor until null, and 400 invalid_cursor for a cursor
that is not the server's."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest
from archive_fixtures import captured
from flask.testing import FlaskClient

from archive.api_tokens import services as tokens
from archive.bootstrap import Archive
from archive.borrowing import services as borrowing
from archive.services import inbox, users


def _all_pages(client: FlaskClient, url: str, key: str, auth: dict[str, str]) -> tuple[list[dict], int]:
    """Follow next_cursor from the first page to the last; the items and the number of pages."""
    items, cursor, pages = [], None, 0
    while True:
        separator = "&" if "?" in url else "?"
        response = client.get(url + (f"{separator}cursor={cursor}" if cursor else ""), headers=auth)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        items += body[key]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages


@pytest.fixture
def bearer(web_archive: Archive) -> Callable[[str], dict[str, str]]:
    def make(username: str) -> dict[str, str]:
        actor = users.resolve_actor(web_archive.uow(), username=username)
        secret = tokens.create_api_token(web_archive.uow(), actor=actor, name="p", scope="write", days=1).secret
        return {"Authorization": f"Bearer {secret}"}

    return make


def test_tokens_page_by_cursor_to_the_end(client: FlaskClient, bearer) -> None:  # noqa: ANN001
    auth = bearer("clerk")
    for n in range(4):
        client.post("/api/v1/tokens", json={"name": f"t{n}", "scope": "read", "days": 1}, headers=auth)

    listed, pages = _all_pages(client, "/api/v1/tokens?limit=2", "tokens", auth)

    assert pages == 3 and [t["name"] for t in listed] == ["t3", "t2", "t1", "t0", "p"]


def test_search_pages_by_cursor_and_still_takes_an_offset(client: FlaskClient, bearer, web_archive: Archive,  # noqa: ANN001
                                                         tmp_path: Path) -> None:
    clerk = users.resolve_actor(web_archive.uow(), username="clerk")
    codes = {captured(web_archive, clerk, tmp_path, f"doc{n}").code for n in range(3)}
    auth = bearer("clerk")

    hits, pages = _all_pages(client, "/api/v1/search?q=合同&limit=2", "hits", auth)
    by_offset = client.get("/api/v1/search?q=合同&limit=2&offset=2", headers=auth).get_json()

    assert pages == 2 and {h["archive_code"] for h in hits} == codes and len(hits) == 3
    assert len(by_offset["hits"]) == 1 and by_offset["next_cursor"] is None


def test_borrow_requests_and_the_inbox_page_by_cursor(client: FlaskClient, bearer, web_archive: Archive,  # noqa: ANN001
                                                     tmp_path: Path) -> None:
    clerk = users.resolve_actor(web_archive.uow(), username="clerk")
    staff = users.resolve_actor(web_archive.uow(), username="staff")
    code = captured(web_archive, clerk, tmp_path, "doc").code
    numbers = [borrowing.request_borrow(web_archive.uow(), actor=staff, purpose=f"核对 {n}", mode="view", days=3,
                                        codes=[code]) for n in range(3)]
    with web_archive.uow() as uow:  # notify joins the caller's transaction
        inbox.notify(uow, [staff.user_id], "classification.decided", id=1, outcome="approved")
        inbox.notify(uow, [staff.user_id], "classification.decided", id=2, outcome="rejected")
        uow.commit()
    auth = bearer("staff")

    requests, request_pages = _all_pages(client, "/api/v1/borrow-requests?which=mine&limit=2", "requests", auth)
    entries, entry_pages = _all_pages(client, "/api/v1/inbox?limit=1", "entries", auth)

    assert request_pages == 2 and [r["number"] for r in requests] == numbers[::-1]
    assert entry_pages == 2 and [e["params"]["id"] for e in entries] == [2, 1]


@pytest.mark.parametrize("cursor", ["nonsense", base64.urlsafe_b64encode(b"0").decode(), "MA.forged"])
def test_a_cursor_that_is_not_the_servers_is_a_400_on_the_cursor_field(client: FlaskClient, bearer,  # noqa: ANN001
                                                                       cursor: str) -> None:
    auth = bearer("clerk")
    for url in ("/api/v1/tokens", "/api/v1/search?q=x", "/api/v1/inbox", "/api/v1/borrow-requests", "/api/v1/rescan"):
        response = client.get(f"{url}{'&' if '?' in url else '?'}cursor={cursor}", headers=auth)

        assert response.status_code == 400, url
        assert response.get_json()["error"] | {"message": ""} == {"code": "invalid_cursor", "field": "cursor",
                                                                  "message": ""}


def test_an_empty_list_is_its_own_last_page(client: FlaskClient, bearer) -> None:  # noqa: ANN001
    auth = bearer("clerk")

    body = client.get("/api/v1/rescan?limit=1", headers=auth).get_json()

    assert body["items"] == [] and body["next_cursor"] is None
