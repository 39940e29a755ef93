"""Reference data: classification levels, retention periods, document types, departments."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select

from archive import access, audit
from archive.actors import Actor
from archive.errors import ValidationError
from archive.models import ClassificationLevel, Department, DocumentType, RetentionPeriod
from archive.permissions import permission_reference_manage
from archive.unit_of_work import UnitOfWork
from archive.views import DocumentTypeView

REFERENCE_FILE = Path(__file__).resolve().parent.parent / "reference_data.json"


@cache
def defaults() -> dict[str, Any]:
    return json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))


def seed_reference_data(uow: UnitOfWork) -> int:
    """Insert the default levels, periods and types that are missing; return how many were added."""
    data = defaults()
    added = 0
    with uow:
        session = uow.session
        for row in data["classification_levels"]:
            if session.get(ClassificationLevel, row["code"]) is None:
                session.add(ClassificationLevel(**row))
                added += 1
        for row in data["retention_periods"]:
            if session.get(RetentionPeriod, row["code"]) is None:
                session.add(RetentionPeriod(**row))
                added += 1
        session.flush()
        for row in data["document_types"]:
            existing = session.get(DocumentType, row["code"])
            if existing is None:
                session.add(
                    DocumentType(
                        code=row["code"], name_zh=row["name_zh"], name_en=row["name_en"],
                        category=row["category"], retention_code=row["retention"],
                        default_classification=row["classification"],
                        minimum_classification=row.get("minimum_classification"),
                    )
                )
                added += 1
            elif existing.minimum_classification is None and row.get("minimum_classification"):
                existing.minimum_classification = row["minimum_classification"]  # types seeded before 0004
        uow.commit()
    return added


def required_document_types(customer_kind: str) -> list[str]:
    return list(defaults()["required_document_types"].get(customer_kind, []))


def ensure_department(uow: UnitOfWork, *, actor: Actor, code: str, name: str) -> int:
    """Create the department if missing; return its id."""
    with uow:
        access.require(actor, permission_reference_manage)
        existing = uow.session.scalar(select(Department).where(Department.code == code))
        if existing:
            return existing.id
        if not code.strip() or not name.strip():
            raise ValidationError("a department needs a code and a name")
        department = Department(code=code.strip(), name=name.strip())
        uow.session.add(department)
        uow.session.flush()
        audit.record(uow.session, actor, "department.created", target_type="department",
                     target_id=department.id, code=code)
        uow.commit()
        return department.id


def list_document_types(uow: UnitOfWork) -> list[DocumentTypeView]:
    with uow:
        rows = uow.session.scalars(select(DocumentType).order_by(DocumentType.code))
        return [DocumentTypeView(r.code, r.name_zh, r.name_en) for r in rows]


def list_classifications(uow: UnitOfWork) -> list[tuple[str, str, str]]:
    with uow:
        rows = uow.session.scalars(select(ClassificationLevel).order_by(ClassificationLevel.rank))
        return [(r.code, r.name_zh, r.name_en) for r in rows]


def list_departments(uow: UnitOfWork) -> list[tuple[int, str, str]]:
    with uow:
        rows = uow.session.scalars(select(Department).order_by(Department.code))
        return [(r.id, r.code, r.name) for r in rows]
