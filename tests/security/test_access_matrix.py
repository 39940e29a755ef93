"""The access matrix (issue 11, item 10), generated from the route map and the CLI: every reading
endpoint × every role × the four classification levels × own/other department × with and without an
active borrow grant. The oracle is written here, independently of archive/access.py: a person reads a
document when their role reads documents, it is their department's and within their clearance — or
when a grant of theirs covers it. Every other answer is a leak; every refusal must be in the audit
trail."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from archive_fixtures import PASSWORD, captured
from click.testing import CliRunner
from sqlalchemy import func, insert, select

from archive import registry
from archive.actors import OPERATOR
from archive.borrowing.models import BorrowItem, BorrowRequest, Grant
from archive.identity import resident_id_check_digit
from archive.models import AuditEvent
from archive.services import users

AUDIT_PAGES = ("/compliance", "/audit-desk")
LEVELS = ("public", "internal", "confidential", "secret")
DEPARTMENTS = ("YX", "KF")
WORD = "矩阵"  # in every matrix document's text, so every search finds them all if it leaks
ID_FOR = {"YX": "11010519491231002", "KF": "31010419900621328"}


def _people() -> list[tuple[str, str, str | None, bool]]:
    """(username, role, department, holds a grant) for every registered role, without and with a grant
    (a grant exists only for roles that may ask to borrow)."""
    held = registry.role_permissions()
    people = []
    for role in registry.roles():
        department = "YX" if role in ("clerk", "staff", "approver") else None
        people.append((f"m_{role}", role, department, False))
        if "borrow.request" in held[role]:
            people.append((f"g_{role}", role, department, True))
    return people


@pytest.fixture
def matrix(web_archive, tmp_path: Path):  # noqa: ANN001, ANN201
    archive = web_archive
    for department in DEPARTMENTS:
        users.create_user(archive.uow(), actor=OPERATOR, username=f"cap_{department}", password=PASSWORD,
                          role="clerk", department=department, clearance="secret")
    documents: dict[int, tuple[str, str, str]] = {}  # id -> (department, level, archive code)
    for department in DEPARTMENTS:
        clerk = users.resolve_actor(archive.uow(), username=f"cap_{department}")
        customer = ID_FOR[department] + resident_id_check_digit(ID_FOR[department])
        for level in LEVELS:
            made = captured(archive, clerk, tmp_path, f"{department}-{level}", level=level, customer=customer,
                            document_type="application_form", text=f"{WORD} 增容 {department} {level}")
            documents[made.id] = (department, level, made.code)
    now = datetime.now(UTC)
    people = _people()
    for username, role, department, granted in people:
        users.create_user(archive.uow(), actor=OPERATOR, username=username, password=PASSWORD, role=role,
                          department=department, clearance="internal")
        if granted:
            with archive.uow() as uow:
                user_id = users.resolve_actor(archive.uow(), username=username).user_id
                request_id = uow.session.execute(insert(BorrowRequest).values(
                    number=f"JY-M-{user_id}", requester_id=user_id, purpose="matrix", mode="download", days=7,
                    asked={}, status="approved", classification="secret", in_department=False, steps=[],
                    step=0, step_started_at=now, created_at=now)).inserted_primary_key[0]
                for document_id, (dept, _level, _code) in documents.items():
                    uow.session.execute(insert(BorrowItem).values(request_id=request_id, document_id=document_id,
                                                                  department_id=_department_id(uow, dept)))
                uow.session.execute(insert(Grant).values(request_id=request_id, user_id=user_id, mode="download",
                                                         starts_at=now - timedelta(minutes=1),
                                                         expires_at=now + timedelta(days=7)))
                uow.commit()
    return archive, documents, people


def _department_id(uow, code: str) -> int:  # noqa: ANN001
    from archive.models import Department

    return uow.session.scalar(select(Department.id).where(Department.code == code))


def may_read(role: str, department: str | None, granted: bool, document: tuple[str, str, str],
             permission: str = "document.view") -> bool:
    """The oracle: the role holds the permission (viewing; downloading the original; the word boxes, which
    hold PII), the document is its department's and within clearance internal; or a download grant
    covers it (a grant opens viewing and downloading, never PII)."""
    if granted and permission in ("document.view", "document.download"):
        return True
    doc_department, level, _code = document
    holds = permission in registry.role_permissions()[role]
    return holds and department == doc_department and LEVELS.index(level) <= LEVELS.index("internal")


def _permission(rule: str) -> str:
    if rule.endswith("/words"):
        return "pii.view"
    return "document.download" if rule.endswith("/original") else "document.view"


def _document_routes(app) -> list[str]:  # noqa: ANN001
    """Every GET route about one document, from the route map (the audit desk's is the auditor's)."""
    rules = [r.rule for r in app.url_map.iter_rules()
             if "GET" in r.methods and "document_id" in r.arguments and not r.rule.startswith("/audit-desk")]
    assert len(rules) >= 6, rules
    return rules


def _fill(rule: str, document_id: int) -> str:
    path = rule.replace("<int:document_id>", str(document_id))
    return re.sub(r"<int:(number|version)>", "1", path)


def _denials(archive, username: str) -> int:  # noqa: ANN001
    with archive.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.event_type == "access.denied", AuditEvent.actor_name == username)) or 0


def test_no_route_and_no_search_leaks_a_document_and_every_refusal_is_audited(matrix, make_app) -> None:  # noqa: ANN001
    archive, documents, people = matrix
    app = make_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
    routes = _document_routes(app)
    listing = [r.rule for r in app.url_map.iter_rules()
               if "GET" in r.methods and not r.arguments and not r.rule.startswith(("/static", "/logout"))]
    leaks, unaudited, cells = [], [], 0
    for username, role, department, granted in people:
        client = app.test_client()
        assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
        for document_id, document in documents.items():
            for rule in routes:
                allowed = may_read(role, department, granted, document, _permission(rule))
                before = _denials(archive, username)
                response = client.get(_fill(rule, document_id))
                cells += 1
                if not allowed and response.status_code < 400:
                    leaks.append((username, rule, document))
                if not allowed and response.status_code == 403 and _denials(archive, username) == before:
                    unaudited.append((username, rule, document))
                if allowed and response.status_code == 403:
                    leaks.append((username, rule, document, "refused though allowed"))
        visible = {code for doc_id, (d, lvl, code) in documents.items()
                   if may_read(role, department, granted, (d, lvl, code))}
        hidden = {code for _d, _l, code in documents.values()} - visible
        for rule in listing:  # lists, search and dashboards: no hidden archive code anywhere on them
            if rule.startswith(AUDIT_PAGES) and "audit.view" in registry.role_permissions()[role]:
                continue  # the trail names the records it concerns: metadata the auditor reads, no content
            response = client.get(rule, query_string={"q": WORD})
            body = response.data.decode("utf-8", "replace")
            if not response.mimetype.startswith(("text/", "application/json")):
                assert response.mimetype not in ("image/png", "application/pdf"), (username, rule)  # no page here
                continue
            shown = {code for code in hidden if code in body}
            if shown:
                leaks.append((username, rule, sorted(shown)))
        api = client.get("/api/v1/search", query_string={"q": WORD})
        if api.status_code == 200:
            found = {hit["archive_code"] for hit in api.get_json()["hits"]}
            if found != visible:  # nothing hidden, nothing granted missing (8 documents: one page)
                leaks.append((username, "/api/v1/search", sorted(found ^ visible)))
            assert api.get_json()["total"] == len(found), username  # counts exact for what is shown
        else:
            assert api.status_code == 403 and not visible, username
    assert cells >= len(people) * len(documents) * len(routes)
    assert leaks == [], "\n".join(map(str, leaks))
    assert unaudited == [], "\n".join(map(str, unaudited))


def test_the_cli_search_shows_each_person_exactly_what_the_oracle_allows(matrix) -> None:  # noqa: ANN001
    archive, documents, people = matrix
    from archive.cli import cli

    archive.settings = archive.settings.with_overrides(cli_trusted=True)  # `--as` without a token, as on a trusted host
    for username, role, department, granted in people:
        result = CliRunner().invoke(cli, ["search", WORD, "--as", username, "--json"], obj={"archive": archive},
                                    catch_exceptions=False)
        visible = {code for d, lvl, code in documents.values() if may_read(role, department, granted, (d, lvl, code))}
        if result.exit_code == 3:  # the role does not search at all, and reads nothing
            assert not visible, username
            continue
        assert result.exit_code == 0, (username, result.output)
        found = {hit["archive_code"] for hit in json.loads(result.output)}
        assert found == visible, username


def test_an_image_under_a_grant_is_marked_and_one_seen_in_ones_own_right_is_not(matrix, make_app) -> None:  # noqa: ANN001
    from PIL import Image

    from archive.borrowing import watermark
    from archive.borrowing.lending import mark_key

    archive, documents, _people = matrix
    app = make_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
    own = next(i for i, (d, lvl, _c) in documents.items() if d == "YX" and lvl == "public")
    lent = next(i for i, (d, lvl, _c) in documents.items() if d == "KF" and lvl == "secret")
    for username, document_id, expect_mark in (("m_staff", own, False), ("g_staff", own, False),
                                               ("g_staff", lent, True)):
        client = app.test_client()
        client.post("/login", data={"username": username, "password": PASSWORD})
        response = client.get(f"/documents/{document_id}/pages/1.png")
        assert response.status_code == 200
        found = watermark.identify(Image.open(io.BytesIO(response.data)), key=mark_key(archive.keyring))
        assert (found is not None) == expect_mark, (username, document_id)
