"""The access policy on its own: roles, departments, clearance, grants (no database)."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from archive import access
from archive.actors import Actor, DocumentGrant
from archive.capture.permissions import permission_document_capture
from archive.errors import AccessDenied
from archive.models import Document
from archive.permissions import permission_audit_view, permission_document_download, permission_document_view

LEVELS = ["public", "internal", "confidential", "secret"]


def person(role: str, department_id: int | None, clearance: str) -> Actor:
    visible = frozenset(LEVELS[: LEVELS.index(clearance) + 1])
    return Actor(user_id=1, username=role, role=role, department_id=department_id, department_code=f"D{department_id}",
                 clearance=clearance, visible_classifications=visible)


def document(department_id: int = 1, classification: str = "internal") -> Document:
    return Document(id=7, department_id=department_id, classification=classification)


def test_staff_may_view_their_own_departments_documents_up_to_their_clearance():
    staff = person("staff", 1, "internal")
    access.require(staff, permission_document_view, document())
    with pytest.raises(AccessDenied, match="classification"):
        access.require(staff, permission_document_view, document(classification="confidential"))
    with pytest.raises(AccessDenied, match="department"):
        access.require(staff, permission_document_view, document(department_id=2))


def test_download_needs_more_than_viewing():
    assert not access.allows(person("staff", 1, "secret"), permission_document_download, document())
    assert access.allows(person("clerk", 1, "secret"), permission_document_download, document())


def test_admin_and_compliance_do_not_read_documents_by_virtue_of_their_role():
    for role in ("sysadmin", "auditor"):
        assert not access.allows(person(role, 1, "secret"), permission_document_view, document())
    assert access.allows(person("auditor", None, "public"), permission_audit_view)
    assert not access.allows(person("staff", 1, "secret"), permission_audit_view)


def _lent(actor: Actor, *permissions: str) -> Actor:
    grant = DocumentGrant(document_ids=frozenset({7}), grant_id=3, request_number="JY-2026-000003", purpose="核对合同",
                          permissions=frozenset(permissions), expires_at=datetime(2027, 1, 1, tzinfo=UTC))
    return replace(actor, grants=(grant,))


def test_a_granted_document_is_visible_outside_the_department():
    staff = _lent(person("staff", 2, "public"), permission_document_view)
    secret = document(department_id=1, classification="secret")
    access.require(staff, permission_document_view, secret)
    assert access.via_grant(staff, permission_document_view, secret).request_number == "JY-2026-000003"
    assert not access.allows(staff, permission_document_download, secret)  # viewing only
    scope = access.visible(staff, permission_document_view)
    assert scope.for_search().granted_document_ids == frozenset({7})


def test_a_download_grant_opens_the_download_a_role_lacks_and_an_own_document_is_not_via_grant():
    staff = _lent(person("staff", 1, "secret"), permission_document_view, permission_document_download)
    access.require(staff, permission_document_download, document())
    assert access.via_grant(staff, permission_document_download, document()) is not None
    assert access.via_grant(staff, permission_document_view, document()) is None  # their own department's


def test_clerks_capture_only_for_their_department():
    clerk = person("clerk", 1, "confidential")
    access.require(clerk, permission_document_capture, document())
    assert not access.allows(clerk, permission_document_capture, document(department_id=2))
    assert not access.allows(person("staff", 1, "secret"), permission_document_capture)


def test_the_search_filter_describes_department_and_clearance():
    scope = access.visible(person("staff", 1, "internal"), permission_document_view)
    visibility = scope.for_search()
    assert visibility.departments == frozenset({"D1"})
    assert visibility.classifications == frozenset({"public", "internal"})
