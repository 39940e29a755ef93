"""The search page: date range and sort controls, filters kept in page links, clickable facets."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from archive.bootstrap import Archive
from archive.capture.services import CaptureRequest, capture_document
from archive.demo.samples import write_scan
from archive.identity import resident_id_check_digit
from archive.models import Document, SearchOutbox
from archive.services import indexing, users

ID_NUMBER = "11010519491231002" + resident_id_check_digit("11010519491231002")


def links(page: str, rel: str | None = None) -> list[dict[str, list[str]]]:
    """The query strings of the page's links (those with the given rel only, if given)."""
    pattern = f'<a rel="{rel}" href="([^"]+)"' if rel else r'<a (?:class="[^"]*" )?href="([^"]+)"'
    return [parse_qs(urlsplit(html.unescape(href)).query) for href in re.findall(pattern, page)]


@pytest.fixture
def indexed(web_archive: Archive, tmp_path: Path) -> list[int]:
    """22 documents with 电费 in their text, one an application form: 21 contracts fill two pages."""
    clerk = users.resolve_actor(web_archive.uow(), username="clerk")
    ids = []
    for n in range(22):
        path = write_scan(tmp_path / f"scan{n}.png", [f"第{n}号"], format="PNG", seed=n, dpi=100)
        kind = "application_form" if n == 0 else "supply_contract"
        request = CaptureRequest(path=path, customer=ID_NUMBER, customer_name="张三", document_type=kind)
        ids.append(capture_document(web_archive.uow(), actor=clerk, request=request).document_id)
    with web_archive.uow() as uow:
        for document in uow.session.query(Document).filter(Document.id.in_(ids)):
            for page in document.pages:
                page.ocr_text, page.ocr_status = f"电费通知 第{document.id}号", "done"
            uow.session.add(SearchOutbox(document_id=document.id, action="index"))
        uow.commit()
    indexing.drain_outbox(web_archive.uow())
    return ids


def test_the_page_links_keep_the_query_filters_date_range_and_sort(client: FlaskClient, login_as, indexed):
    login_as(client, "clerk")
    page = client.get("/search/?q=电费&type=supply_contract&from=2000-01-01&sort=newest&lang=en")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "21 documents found" in text
    [following] = links(text, rel="next")
    assert following == {"q": ["电费"], "type": ["supply_contract"], "from": ["2000-01-01"], "sort": ["newest"],
                         "page": ["2"]}
    second = client.get("/search/?" + "&".join(f"{k}={v[0]}" for k, v in following.items()) + "&lang=en")
    assert second.get_data(as_text=True).count('class="hit"') == 1
    assert links(second.get_data(as_text=True), rel="prev") == [{**following, "page": ["1"]}]
    assert '<option value="newest" selected>' in text
    assert 'name="from" value="2000-01-01"' in text


def test_a_facet_is_a_link_that_adds_its_filter_and_keeps_the_rest(client: FlaskClient, login_as, indexed):
    login_as(client, "clerk")
    text = client.get("/search/?q=电费&sort=oldest&lang=en").get_data(as_text=True)
    assert "22 documents found" in text
    facets = [q for q in links(text.split('<aside class="facets">', 1)[1]) if "type" in q]
    assert {"q": ["电费"], "sort": ["oldest"], "type": ["application_form"]} in facets
    narrowed = client.get("/search/?q=电费&sort=oldest&type=application_form&lang=en").get_data(as_text=True)
    assert "1 document found" in narrowed
    assert 'class="chosen"' in narrowed


def test_a_date_range_narrows_the_hits_and_a_bad_date_is_refused(client: FlaskClient, login_as, indexed):
    login_as(client, "clerk")
    assert "0 documents found" in client.get("/search/?q=电费&to=2000-01-01&lang=en").get_data(as_text=True)
    assert "22 documents found" in client.get("/search/?from=2000-01-01&lang=en").get_data(as_text=True)
    assert client.get("/search/?q=电费&from=yesterday").status_code == 400
    assert client.get("/search/?q=电费&sort=size").status_code == 400
