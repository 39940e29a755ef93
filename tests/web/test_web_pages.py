"""Search, the audit log, user administration, navigation by role and the language switch."""

from __future__ import annotations

from flask.testing import FlaskClient

from archive.bootstrap import Archive
from archive.capture.recognition import ocr_progress
from archive.services import indexing, users


def nav_links(html: str) -> set[str]:
    nav = html.split('<nav id="main-menu"', 1)[1].split("</nav>", 1)[0]
    return {part.split('"', 1)[0] for part in nav.split('href="')[1:]}


def test_the_search_page_shows_highlighted_hits_with_a_total(
    client: FlaskClient, login_as, upload, scan, web_archive: Archive
) -> None:
    login_as(client, "clerk")
    [document] = upload(scan(lines=("供用电合同", "Supply contract 2024")))["documents"]
    ids = [document["document_id"]]
    assert web_archive.jobs.run_until(lambda: ocr_progress(web_archive.uow(), ids, actor=users.resolve_actor(web_archive.uow(), username="clerk")).finished, timeout=120)
    indexing.drain_outbox(web_archive.uow())

    response = client.get("/search/?q=contract&lang=en")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "1 document found" in html
    assert f'href="/documents/{document["document_id"]}?q=contract"' in html
    assert "<mark>" in html.lower()

    api = client.get("/api/v1/search?q=contract").get_json()
    assert api["total"] == 1
    assert api["hits"][0]["document_id"] == document["document_id"]

    outsider = client.application.test_client()
    login_as(outsider, "staff_kf")
    assert "0 documents found" in outsider.get("/search/?q=contract&lang=en").get_data(as_text=True)


def test_an_empty_search_page_shows_the_box_and_no_results(client: FlaskClient, login_as) -> None:
    login_as(client, "staff")
    html = client.get("/search/?lang=en").get_data(as_text=True)
    assert 'name="q"' in html and "document found" not in html and "documents found" not in html


def test_the_compliance_page_lists_events_with_filters(client: FlaskClient, login_as) -> None:
    login_as(client, "auditor")
    html = client.get("/compliance/").get_data(as_text=True)
    assert "user.logged_in" in html and "user.created" in html
    filtered = client.get("/compliance/?event_type=user.logged_in&user=auditor&outcome=ok").get_data(as_text=True)
    assert "user.created" not in filtered.split("<tbody>", 1)[1]
    assert "auditor" in filtered


def test_only_compliance_staff_may_open_the_audit_log(client: FlaskClient, login_as) -> None:
    login_as(client, "clerk")
    assert client.get("/compliance/").status_code == 403


def test_the_administrator_creates_a_user_who_logs_in_with_a_one_time_password(
    client: FlaskClient, app, login_as, password: str, web_archive: Archive
) -> None:
    login_as(client, "admin")
    assert "staff_kf" in client.get("/admin/users").get_data(as_text=True)
    response = client.post("/admin/users", data={
        "username": "li.si", "display_name": "李四", "role": "staff", "department": "KF", "clearance": "internal",
    })
    assert response.status_code == 200
    one_time = response.get_data(as_text=True).split('class="one-time-password">')[1].split("<")[0]
    assert users.resolve_actor(web_archive.uow(), username="li.si").department_code == "KF"
    newcomer = app.test_client()
    assert newcomer.post("/login", data={"username": "li.si", "password": one_time}).location == "/account/password"
    newcomer.post("/account/password", data={"current": one_time, "new": password, "confirm": password})
    assert newcomer.get("/customers/").status_code == 200


def test_a_clerk_cannot_manage_users(client: FlaskClient, login_as, password: str) -> None:
    login_as(client, "clerk")
    assert client.get("/admin/users").status_code == 403
    response = client.post("/admin/users", data={
        "username": "intruder", "password": password, "role": "sysadmin", "department": "", "clearance": "internal",
    })
    assert response.status_code == 403


def test_the_navigation_shows_only_what_the_role_may_use(client: FlaskClient, app, login_as) -> None:
    expected = {
        "clerk": {"/customers/", "/search/", "/work-orders/", "/dossiers/", "/capture/", "/rescan/", "/borrow/"},
        "staff": {"/customers/", "/search/", "/work-orders/", "/dossiers/", "/borrow/"},  # borrowing: own requests
        "approver": {"/customers/", "/search/", "/work-orders/", "/dossiers/", "/borrow/", "/borrow/approvals",
                     "/reports/"},  # their department's
        "auditor": {"/compliance/", "/compliance/checks", "/retention/", "/reports/"},  # the register, 四性检测, access
        "admin": {"/admin/users", "/admin/reference"},
    }
    for username, links in expected.items():
        browser = app.test_client()
        login_as(browser, username)
        home = browser.get("/")  # the home page (web/home.py), with the same menu as every page
        assert home.status_code == 200
        assert nav_links(home.get_data(as_text=True)) == links, username


def test_the_interface_is_chinese_by_default_and_switches_to_english(client: FlaskClient, login_as) -> None:
    assert "登录" in client.get("/login").get_data(as_text=True)
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert "Log in" in english and "登录" not in english
    assert "Log in" in client.get("/login").get_data(as_text=True)  # the choice is kept in the session
    assert "登录" in client.get("/login?lang=zh_CN").get_data(as_text=True)


def test_the_browser_language_is_used_when_none_was_chosen(client: FlaskClient) -> None:
    assert "Log in" in client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "登录" in client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)


def test_every_message_has_a_chinese_translation() -> None:
    from pathlib import Path

    from babel.messages.pofile import read_po

    import web

    po = Path(web.__file__).parent / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        catalog = read_po(handle)
    untranslated = [m.id for m in catalog if m.id and not all(m.string if isinstance(m.string, tuple) else [m.string])]
    assert untranslated == []
    assert [m.id for m in catalog if m.id and m.fuzzy] == []
    assert po.with_suffix(".mo").stat().st_mtime >= po.stat().st_mtime - 1


def test_every_message_in_the_code_is_in_the_catalog(tmp_path) -> None:  # noqa: ANN001
    """Extract the messages from the code as the catalog was made (web/babel.cfg): none may be missing."""
    import subprocess
    import sys
    from pathlib import Path

    from babel.messages.pofile import read_po

    import web

    root = Path(web.__file__).parent
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(root / "babel.cfg"),
                    "-k", "_l", "-k", "lazy_gettext", "--no-location", "-o", str(pot), str(root)],
                   check=True, capture_output=True)
    with pot.open("rb") as extracted, (root / "translations" / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        wanted, have = {m.id for m in read_po(extracted) if m.id}, {m.id for m in read_po(po) if m.id}
    assert sorted(map(str, wanted - have)) == []


def test_the_empty_search_page_explains_the_syntax_and_no_hits_say_what_is_not_shown(
    client: FlaskClient, login_as
) -> None:
    login_as(client, "staff")
    empty = client.get("/search/?lang=en").get_data(as_text=True)
    assert "How to search" in empty and "two-character Chinese words" in empty
    none = client.get("/search/?q=nothingmatchesthis&lang=en").get_data(as_text=True)
    assert "Nothing found." in none and "How to search" not in none
    assert "Documents outside your department or clearance are not shown" in none
    assert 'href="/borrow/new"' in none  # staff may ask to borrow
    zh = client.get("/search/?lang=zh_CN").get_data(as_text=True)
    assert "检索说明" in zh and "How to search" not in zh


def test_every_page_links_the_favicon_and_the_browser_default_path_finds_it(client: FlaskClient, login_as) -> None:
    login_as(client, "staff")
    assert 'rel="icon"' in client.get("/search/").get_data(as_text=True)
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301 and answer.headers["Location"].endswith("/static/favicon.svg")
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.data.startswith(b"<svg")


def test_a_pdf_page_not_rendered_yet_says_so_then_shows_its_image(
    client: FlaskClient, login_as, upload, tmp_path, web_archive: Archive
) -> None:
    from scale_env import text_pdf

    login_as(client, "clerk")
    path = tmp_path / "contract.pdf"
    path.write_bytes(text_pdf(["Supply contract HT-2024-0107"], pages=1))
    [document] = upload(path)["documents"]
    document_id = document["document_id"]
    html = client.get(f"/documents/{document_id}?lang=en").get_data(as_text=True)
    assert "being rendered from the PDF" in html and f"/documents/{document_id}/pages/1.png" not in html
    pending = client.get(f"/api/v1/documents/{document_id}/pages/1.png")
    assert pending.status_code == 404 and "page 1 is not made yet" in pending.get_json()["error"]["message"]
    assert "正在后台从 PDF 渲染" in client.get(f"/documents/{document_id}?lang=zh_CN").get_data(as_text=True)
    assert "尚未生成" in client.get(f"/api/v1/documents/{document_id}/pages/1.png").get_json()["error"]["message"]
    assert client.get(f"/api/v1/documents/{document_id}").get_json()["pages"][0]["image_ready"] is False

    clerk = users.resolve_actor(web_archive.uow(), username="clerk")
    assert web_archive.jobs.run_until(lambda: ocr_progress(web_archive.uow(), [document_id], actor=clerk).finished,
                                      timeout=120)
    image = client.get(f"/api/v1/documents/{document_id}/pages/1.png")
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    assert "being rendered" not in client.get(f"/documents/{document_id}?lang=en").get_data(as_text=True)
