"""The compliance page shows the last fixity run above the audit log."""

from __future__ import annotations

from flask.testing import FlaskClient

from archive.actors import FIXITY_ACTOR, Actor
from archive.bootstrap import Archive
from archive.services import integrity


def test_the_compliance_page_says_when_no_fixity_check_has_run(client: FlaskClient, login_as) -> None:
    login_as(client, "auditor")
    html = client.get("/compliance/?lang=en").get_data(as_text=True)
    assert "No fixity check has run yet" in html


def test_the_compliance_page_shows_the_last_fixity_run_and_its_problems(
    client: FlaskClient, login_as, upload, scan, web_archive: Archive
) -> None:
    login_as(client, "clerk")
    [document] = upload(scan())["documents"]
    verifier = Actor.system("test", FIXITY_ACTOR.extra_permissions)
    assert integrity.verify_archive(web_archive.uow(), actor=verifier).ok

    auditor = client.application.test_client()
    login_as(auditor, "auditor")
    html = auditor.get("/compliance/?lang=en").get_data(as_text=True)
    assert "1 documents, 2 objects checked" in html and "all intact" in html

    page_key = next(k.key for k in web_archive.object_store.list("documents/") if "/pages/" in k.key)
    web_archive.object_store.delete(page_key)
    integrity.verify_archive(web_archive.uow(), actor=verifier)
    html = auditor.get("/compliance/?lang=en").get_data(as_text=True)
    fixity = html.split('class="fixity"', 1)[1].split("</section>", 1)[0]
    assert "1 problem" in fixity and "all intact" not in fixity
    assert page_key in fixity and document["archive_code"] in fixity and "missing" in fixity
    assert html.index('class="fixity"') < html.index('class="audit"')
