"""The API against its own OpenAPI description (GET /api/v1/openapi.json), with schemathesis in-process
over WSGI: every operation, as five users of different roles each with their own personal API token,
must answer no server error, a documented status code and a body that matches its schema."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from archive_fixtures import build_archive, captured
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from archive.api_tokens import services as tokens
from archive.bootstrap import Archive
from archive.borrowing import services as borrowing
from archive.services import users

ROLES = ("clerk", "staff", "approver", "auditor", "admin")  # clerk, business staff, approver, auditor, sysadmin
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
MAX_EXAMPLES = 20  # per operation, each sent by the 5 roles: the run stays under a minute on one core


@dataclass(frozen=True)
class Records:
    archive: Archive
    home: Path
    documents: tuple[int, int]
    borrow_request: int


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Records]:
    """One archive for the whole run: two documents, a borrow request waiting for the approver."""
    home = tmp_path_factory.mktemp("api_schema")
    archive = build_archive(home / "home")
    clerk = users.resolve_actor(archive.uow(), username="clerk")
    first = captured(archive, clerk, home, "contract")
    second = captured(archive, clerk, home, "annex", text="附件 供用电合同")
    staff = users.resolve_actor(archive.uow(), username="staff")
    number = borrowing.request_borrow(archive.uow(), actor=staff, purpose="核对合同", mode="view", days=7,
                                      codes=[first.code])
    request_id = next(v.id for v in borrowing.list_requests(archive.uow(), actor=staff) if v.number == number)
    yield Records(archive, home, (first.id, second.id), request_id)
    archive.close()


@pytest.fixture(scope="module")
def api_archive(records: Records) -> Archive:
    return records.archive


@pytest.fixture(scope="module")
def api_app(api_archive: Archive) -> Flask:
    from web import create_app

    return create_app({"TESTING": True}, archive=api_archive)  # CSRF on: bearer requests need none


@pytest.fixture(scope="module")
def role_tokens(api_archive: Archive) -> dict[str, tuple[int, str]]:
    """Each role's own write token: (token id, secret)."""
    made = {}
    for username in ROLES:
        actor = users.resolve_actor(api_archive.uow(), username=username)
        created = tokens.create_api_token(api_archive.uow(), actor=actor, name="schemathesis", scope="write", days=7)
        made[username] = (created.token.id, created.secret)
    return made


@pytest.fixture(scope="module")
def api_schema(api_app: Flask) -> Any:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_app)
    schema.config.generation.update(modes=["positive"], max_examples=MAX_EXAMPLES, deterministic=True)
    return schema


def test_every_operation_answers_as_described_to_every_role(api_schema: Any,
                                                           role_tokens: dict[str, tuple[int, str]]) -> None:
    """Each generated request is sent by every role with its own token; the failures of all operations
    are reported together. (schemathesis' pytest plugin is not used: its lazy schema breaks on pytest 9.2.)"""
    failures: list[str] = []

    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            for token_id, secret in role_tokens.values():
                if case.method == "DELETE" and (case.path_parameters or {}).get("token_id") == token_id:
                    continue  # revoking its own token would end that role's part of the run
                case.call_and_validate(headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS)

        try:
            run()
        except Exception as error:  # noqa: BLE001 - collected, reported below
            failures.append(f"{operation.label}: {error}")

    assert not failures, "\n\n".join(failures)


def test_the_known_records_answer_as_described_to_every_role(api_schema: Any, records: Records,
                                                            role_tokens: dict[str, tuple[int, str]]) -> None:
    """What random ids rarely reach: the documents, their pages, the borrow request, a capture, a rescan
    and a decision, each as every role (allowed or refused, always as described)."""
    from archive.demo.samples import write_scan

    first, second = records.documents
    scan = write_scan(records.home / "new.png", ["供用电合同 补充"], format="PNG", dpi=100)
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/search", {"query": {"q": "合同", "limit": 1}}),
        ("GET", "/documents/progress", {"query": {"ids": f"{first},{second}"}}),
        ("GET", "/borrow-requests", {"query": {"which": "to_approve"}}),
        ("GET", "/borrow-requests", {"query": {"which": "all", "limit": 1}}),
        ("GET", "/borrow-requests/{request_id}", {"path_parameters": {"request_id": records.borrow_request}}),
        ("GET", "/rescan", {"query": {"limit": 1}}),
        ("GET", "/inbox", {"query": {"limit": 1}}),
        ("GET", "/tokens", {"query": {"limit": 1}}),
    ]
    for document_id in records.documents:
        page = {"document_id": document_id, "number": 1}
        calls += [("GET", "/documents/{document_id}", {"path_parameters": {"document_id": document_id}}),
                  ("GET", "/documents/{document_id}/pages/{number}/words", {"path_parameters": page}),
                  ("POST", "/documents/{document_id}/pages/{number}",
                   {"path_parameters": page, "body": {"file": scan.read_bytes()}, "media_type": "multipart/form-data"}),
                  ("GET", "/documents/{document_id}/pages/{number}/versions/{version}",
                   {"path_parameters": page | {"version": 1}})]
    calls += [("POST", "/documents", {"body": {"files": [scan.read_bytes()], "customer": "11010519491231002X",
                                               "document_type": "supply_contract"},
                                      "media_type": "multipart/form-data"}),
              ("POST", "/borrow-requests/{request_id}/decision",
               {"path_parameters": {"request_id": records.borrow_request}, "body": {"approve": True}}),
              ("POST", "/borrow-requests", {"body": {"codes": ["NO-SUCH"], "purpose": "核对", "mode": "view", "days": 3}})]
    statuses: set[int] = set()
    for method, path, parts in calls:
        case = api_schema[path][method].Case(**parts)
        for _token_id, secret in role_tokens.values():
            statuses.add(case.call_and_validate(headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS).status_code)
    assert {200, 201, 403, 404} <= statuses


def test_the_description_covers_every_api_endpoint(api_app: Flask) -> None:
    from web.openapi import undescribed

    assert undescribed(api_app) == []


def test_the_description_declares_the_token_and_the_session_and_the_one_error_shape(api_app: Flask) -> None:
    document = api_app.test_client().get("/api/v1/openapi.json").get_json()

    assert document["openapi"].startswith("3.1")
    assert {"bearerAuth", "cookieAuth"} <= set(document["components"]["securitySchemes"])
    error = document["components"]["schemas"]["ApiError"]
    assert set(error["required"]) == {"code", "message", "field"}
    refusal = document["paths"]["/tokens"]["post"]["responses"]["400"]["content"]["application/json"]["schema"]
    assert refusal == {"$ref": "#/components/schemas/ErrorBody"}
    assert "cursor" in {p["name"] for p in document["paths"]["/search"]["get"]["parameters"]}


def test_the_docs_page_renders_swagger_ui_from_our_own_files(api_app: Flask) -> None:
    client = api_app.test_client()

    page = client.get("/api/v1/docs")
    bundle = client.get("/api/v1/docs/swagger-ui-bundle.js")
    other = client.get("/api/v1/docs/index.html")

    assert page.status_code == 200 and "script-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    assert "/api/v1/docs/swagger-ui-bundle.js" in html and "/static/api_docs.js" in html
    assert "<script>" not in html  # no inline script under the CSP
    assert bundle.status_code == 200 and b"SwaggerUIBundle" in bundle.data[:200_000]
    assert other.status_code == 404  # only the files the page uses are served
    assert Path(api_app.static_folder, "api_docs.js").is_file()  # type: ignore[arg-type]
