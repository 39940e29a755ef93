"""The document viewer: page thumbnails and search-hit boxes, both authorised, audited and never showing PII
to those who may not see it."""

from __future__ import annotations

import io
import json

from flask.testing import FlaskClient
from PIL import Image

from archive.bootstrap import Archive
from archive.models import Document
from archive.services.documents import document_key
from tests.web.test_web_documents import PNG_MAGIC, audit_events, captured

PHONE = "13912345678"


def with_words(archive: Archive, document_id: int) -> tuple[int, int]:
    """Give page 1 stored word boxes: 电费 at the top left, a phone number as a whole black-able band."""
    with archive.uow() as uow:
        document = uow.session.get(Document, document_id)
        page = document.pages[0]
        width, height = page.width, page.height
        words = [
            {"text": "电费", "confidence": 95.0, "left": 10, "top": 10, "width": 200, "height": 60},
            {"text": PHONE, "confidence": 95.0, "left": 0, "top": height // 2, "width": width, "height": 100},
        ]
        key = f"{page.object_key}.words.test.json"
        body = json.dumps({"width": width, "height": height, "words": words}).encode()
        uow.store.put(key, io.BytesIO(body), data_key=document_key(uow, document))
        page.words_object_key = key
        uow.commit()
    return width, height


def test_the_clerk_gets_a_small_thumbnail_and_the_read_is_audited(client: FlaskClient, login_as, upload, scan,
                                                                  web_archive: Archive) -> None:
    document_id = captured(client, login_as, upload, scan, classification="internal")
    with_words(web_archive, document_id)
    response = client.get(f"/documents/{document_id}/pages/1/thumbnail.png")
    assert response.status_code == 200 and response.data.startswith(PNG_MAGIC)
    assert response.headers["Cache-Control"] == "private, no-store"
    thumb = Image.open(io.BytesIO(response.data))
    assert thumb.width == 160
    middle = thumb.convert("L").getpixel((80, thumb.height // 2 + 3))
    assert middle > 100  # the clerk may see PII: the band is not blacked out
    [event] = [e for e in audit_events(web_archive, event_type="page.image_viewed", actor_name="clerk")
               if e.detail.get("thumbnail")]
    assert event.target == f"document:{document_id}" and "redacted" not in event.detail
    assert client.get(f"/documents/{document_id}/pages/9/thumbnail.png").status_code == 404


def test_staff_without_pii_view_get_the_thumbnail_with_the_phone_number_blacked_out(
    client: FlaskClient, login_as, upload, scan, web_archive: Archive
) -> None:
    document_id = captured(client, login_as, upload, scan, classification="internal")
    with_words(web_archive, document_id)
    login_as(client, "staff")
    response = client.get(f"/documents/{document_id}/pages/1/thumbnail.png")
    assert response.status_code == 200
    thumb = Image.open(io.BytesIO(response.data)).convert("L")
    assert thumb.getpixel((80, thumb.height // 2 + 3)) == 0  # the phone number's band is black
    assert thumb.getpixel((80, 2)) > 100  # the rest is not
    [event] = [e for e in audit_events(web_archive, event_type="page.image_viewed", actor_name="staff")
               if e.detail.get("thumbnail")]
    assert event.detail["redacted"] == 1


def test_staff_of_another_department_get_no_thumbnail_and_no_hits(client: FlaskClient, login_as, upload, scan,
                                                                  web_archive: Archive) -> None:
    document_id = captured(client, login_as, upload, scan, classification="internal")
    with_words(web_archive, document_id)
    login_as(client, "staff_kf")
    assert client.get(f"/documents/{document_id}/pages/1/thumbnail.png").status_code == 404  # hidden: not even its existence
    assert client.get(f"/documents/{document_id}/pages/1/hits?q=电费").status_code == 404
    assert not [e for e in audit_events(web_archive, event_type="page.image_viewed", actor_name="staff_kf")]


def test_the_hit_boxes_are_the_matching_words_and_never_a_phone_number(client: FlaskClient, login_as, upload,
                                                                       scan, web_archive: Archive) -> None:
    document_id = captured(client, login_as, upload, scan, classification="internal")
    width, height = with_words(web_archive, document_id)
    login_as(client, "staff")
    body = client.get(f"/documents/{document_id}/pages/1/hits?q=电费 type:supply_contract").get_json()
    assert body == {"width": width, "height": height, "boxes": [[10, 10, 210, 70]]}
    assert client.get(f"/documents/{document_id}/pages/1/hits?q={PHONE}").get_json()["boxes"] == []
    hits = [e.detail["hits"] for e in audit_events(web_archive, event_type="page.words_viewed", actor_name="staff")]
    assert sorted(hits) == [0, 1]
    assert not any(PHONE in json.dumps(e.detail) for e in audit_events(web_archive, actor_name="staff"))


def test_the_page_image_is_given_its_size_so_the_page_does_not_jump_when_it_loads(
        client: FlaskClient, login_as, upload, scan) -> None:
    document_id = captured(client, login_as, upload, scan, classification="internal")
    served = Image.open(io.BytesIO(client.get(f"/documents/{document_id}/pages/1.png").data))
    html = client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert f'width="{served.width}" height="{served.height}" loading="lazy"' in html
