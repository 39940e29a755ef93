"""Reference data: classification levels, retention periods, document types, departments."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import access, audit
from archive.actors import Actor
from archive.errors import NotFoundError, ValidationError
from archive.events import event_reference_changed
from archive.models import ClassificationLevel, Department, DocumentType, RequiredDocument, RetentionPeriod
from archive.permissions import permission_reference_manage
from archive.unit_of_work import UnitOfWork
from archive.views import DocumentTypeView

CUSTOMER_KINDS = ("individual", "organisation")

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
        session.flush()
        # The checklist only when it is empty: an administrator's edits are never undone by a re-seed.
        if session.scalar(select(RequiredDocument.id).limit(1)) is None:
            for kind, codes in data["required_document_types"].items():
                for code in codes:
                    session.add(RequiredDocument(customer_kind=kind, document_type_code=code))
                    added += 1
        uow.commit()
    return added


def required_document_types(session: Session, customer_kind: str) -> list[str]:
    """The document types a customer of this kind must have (the checklist table, in code order)."""
    return list(session.scalars(select(RequiredDocument.document_type_code)
                                .where(RequiredDocument.customer_kind == customer_kind)
                                .order_by(RequiredDocument.document_type_code)))


def ensure_department(uow: UnitOfWork, *, actor: Actor, code: str, name: str) -> int:
    """Create the department if missing; return its id."""
    with uow:
        access.require(actor, permission_reference_manage)
        existing = uow.session.scalar(select(Department).where(Department.code == code))
        if existing:
            return existing.id
        if not code.strip() or not name.strip():
            raise ValidationError("a department needs a code and a name", code="department_code_and_name")
        department = Department(code=code.strip(), name=name.strip())
        uow.session.add(department)
        uow.session.flush()
        audit.record(uow.session, actor, "department.created", target_type="department",
                     target_id=department.id, code=code)
        uow.commit()
        return department.id


def list_document_types(uow: UnitOfWork, *, active_only: bool = False) -> list[DocumentTypeView]:
    """Every type (to name what records carry), or with active_only those offered for new records."""
    with uow:
        query = select(DocumentType).order_by(DocumentType.code)
        rows = uow.session.scalars(query.where(DocumentType.active) if active_only else query)
        return [DocumentTypeView(r.code, r.name_zh, r.name_en, r.active) for r in rows]


def list_classifications(uow: UnitOfWork, *, active_only: bool = False) -> list[tuple[str, str, str]]:
    with uow:
        query = select(ClassificationLevel).order_by(ClassificationLevel.rank)
        rows = uow.session.scalars(query.where(ClassificationLevel.active) if active_only else query)
        return [(r.code, r.name_zh, r.name_en) for r in rows]


def list_departments(uow: UnitOfWork, *, active_only: bool = False) -> list[tuple[int, str, str]]:
    with uow:
        query = select(Department).order_by(Department.code)
        rows = uow.session.scalars(query.where(Department.active) if active_only else query)
        return [(r.id, r.code, r.name) for r in rows]


def check_active(row: Department | DocumentType | ClassificationLevel | RetentionPeriod | None, value: str,
                 field: str) -> None:
    """Reference data taken for new use exists and is active (a deactivated row only names old records)."""
    if row is None or not row.active:
        raise ValidationError(f"{field}: {value!r} is unknown or no longer in use", code="inactive_reference",
                              params={"value": value}, field=field)


def checklists(session: Session) -> dict[str, list[str]]:
    """Business process (the customer kind its checklist is for) → required document types."""
    required: dict[str, list[str]] = {}
    for kind, code in session.execute(select(RequiredDocument.customer_kind, RequiredDocument.document_type_code)
                                      .order_by(RequiredDocument.customer_kind, RequiredDocument.document_type_code)):
        required.setdefault(kind, []).append(code)
    return required


# --- administration (permission_reference_manage: the system administrator) ---------------------------


@dataclass(frozen=True)
class ReferenceData:
    """Everything the reference-data page lists."""

    departments: list[dict[str, Any]]
    document_types: list[dict[str, Any]]
    classification_levels: list[dict[str, Any]]
    retention_periods: list[dict[str, Any]]
    checklists: dict[str, list[str]]


def _row(obj: object, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in fields}


DEPARTMENT_FIELDS = ("id", "code", "name", "active")
TYPE_FIELDS = ("code", "name_zh", "name_en", "category", "retention_code", "default_classification",
               "minimum_classification", "active")
LEVEL_FIELDS = ("code", "rank", "name_zh", "name_en", "active")
PERIOD_FIELDS = ("code", "years", "archive_code", "name_zh", "name_en", "active")


def list_reference_data(uow: UnitOfWork, *, actor: Actor) -> ReferenceData:
    """All reference data for its administration page. Requires permission_reference_manage."""
    with uow:
        access.require(actor, permission_reference_manage)
        session = uow.session
        return ReferenceData(
            departments=[_row(d, DEPARTMENT_FIELDS) for d in session.scalars(select(Department).order_by(Department.code))],
            document_types=[_row(t, TYPE_FIELDS) for t in session.scalars(select(DocumentType).order_by(DocumentType.code))],
            classification_levels=[_row(c, LEVEL_FIELDS) for c in
                                   session.scalars(select(ClassificationLevel).order_by(ClassificationLevel.rank))],
            retention_periods=[_row(p, PERIOD_FIELDS) for p in
                               session.scalars(select(RetentionPeriod).order_by(RetentionPeriod.code))],
            checklists=checklists(session),
        )


def _changed(uow: UnitOfWork, actor: Actor, target_type: str, target_id: object,
             before: dict[str, Any] | None, after: dict[str, Any]) -> None:
    audit.record(uow.session, actor, event_reference_changed, target_type=target_type, target_id=target_id,
                 before=before, after=after)
    uow.commit()


def _text(value: str, what: str, limit: int) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit:
        raise ValidationError(f"{what} needs 1 to {limit} characters", code="text_length", params={"limit": limit})
    return value


def save_department(uow: UnitOfWork, *, actor: Actor, code: str, name: str) -> int:
    """Add a department, or rename the one with this code (codes stay: archive codes carry them)."""
    with uow:
        access.require(actor, permission_reference_manage)
        code, name = _text(code, "a department code", 32), _text(name, "a department name", 200)
        department = uow.session.scalar(select(Department).where(Department.code == code))
        before = _row(department, DEPARTMENT_FIELDS) if department else None
        if department is None:
            department = Department(code=code, name=name)
            uow.session.add(department)
        department.name = name
        uow.session.flush()
        _changed(uow, actor, "department", department.id, before, _row(department, DEPARTMENT_FIELDS))
        return department.id


def save_document_type(uow: UnitOfWork, *, actor: Actor, code: str, name_zh: str, name_en: str, category: str,
                       retention_code: str, default_classification: str,
                       minimum_classification: str | None = None) -> str:
    """Add a document type or edit one (its code stays: documents refer to it)."""
    with uow:
        access.require(actor, permission_reference_manage)
        session = uow.session
        code = _text(code, "a type code", 64)
        if session.get(RetentionPeriod, retention_code) is None:
            raise ValidationError(f"unknown retention period {retention_code!r}", code="unknown_retention_period",
                                  params={"value": retention_code}, field="retention_code")
        current = session.get(DocumentType, code)
        if current is None or current.retention_code != retention_code:
            check_active(session.get(RetentionPeriod, retention_code), retention_code, "retention_code")
        levels = {c.code: c.rank for c in session.scalars(select(ClassificationLevel))}
        if default_classification not in levels or (minimum_classification and minimum_classification not in levels):
            raise ValidationError("unknown classification level", code="unknown_classification",
                                  params={"value": default_classification}, field="default_classification")
        if minimum_classification and levels[default_classification] < levels[minimum_classification]:
            raise ValidationError("the default classification is below the type's minimum",
                                  code="default_below_minimum", field="default_classification")
        existing = session.get(DocumentType, code)
        before = _row(existing, TYPE_FIELDS) if existing else None
        document_type = existing or DocumentType(code=code)
        document_type.name_zh = _text(name_zh, "a Chinese name", 100)
        document_type.name_en = _text(name_en, "an English name", 100)
        document_type.category = _text(category, "a category code", 16)
        document_type.retention_code = retention_code
        document_type.default_classification = default_classification
        document_type.minimum_classification = minimum_classification or None
        if existing is None:
            session.add(document_type)
        session.flush()
        _changed(uow, actor, "document_type", code, before, _row(document_type, TYPE_FIELDS))
        return code


def rename_classification_level(uow: UnitOfWork, *, actor: Actor, code: str, name_zh: str, name_en: str) -> None:
    """Change a level's names only: adding levels or moving ranks changes who may read what, which is the
    security administrator's duty (三员分立), not reference data."""
    with uow:
        access.require(actor, permission_reference_manage)
        level = uow.session.get(ClassificationLevel, code)
        if level is None:
            raise ValidationError(f"unknown classification level {code!r}", code="unknown_classification",
                                  params={"value": code})
        before = _row(level, LEVEL_FIELDS)
        level.name_zh = _text(name_zh, "a Chinese name", 50)
        level.name_en = _text(name_en, "an English name", 50)
        _changed(uow, actor, "classification_level", code, before, _row(level, LEVEL_FIELDS))


def save_retention_period(uow: UnitOfWork, *, actor: Actor, code: str, name_zh: str, name_en: str,
                          years: int | None = None, archive_code: str = "") -> str:
    """Add a retention period, or rename one. An existing period's years and archive code stay: archive
    codes and disposal dates already carry them."""
    with uow:
        access.require(actor, permission_reference_manage)
        code = _text(code, "a period code", 32)
        period = uow.session.get(RetentionPeriod, code)
        before = _row(period, PERIOD_FIELDS) if period else None
        if period is None:
            if years is not None and years <= 0:
                raise ValidationError("a retention period's years must be positive (none: permanent)",
                                      code="retention_years_positive", field="years")
            period = RetentionPeriod(code=code, years=years, archive_code=_text(archive_code, "an archive code", 8))
            uow.session.add(period)
        period.name_zh = _text(name_zh, "a Chinese name", 50)
        period.name_en = _text(name_en, "an English name", 50)
        uow.session.flush()
        _changed(uow, actor, "retention_period", code, before, _row(period, PERIOD_FIELDS))
        return code


def set_required_documents(uow: UnitOfWork, *, actor: Actor, customer_kind: str, document_types: list[str]) -> None:
    """Replace one business process's checklist of required document types."""
    with uow:
        access.require(actor, permission_reference_manage)
        session = uow.session
        if customer_kind not in CUSTOMER_KINDS:
            raise ValidationError(f"unknown customer kind {customer_kind!r}", code="unknown_customer_kind",
                                  params={"value": customer_kind})
        wanted = sorted(set(document_types))
        known = set(session.scalars(select(DocumentType.code)))
        listed = set(required_document_types(session, customer_kind))
        for code in set(wanted) & known - listed:
            check_active(session.get(DocumentType, code), code, "document_types")
        if unknown := [t for t in wanted if t not in known]:
            raise ValidationError(f"unknown document types: {', '.join(unknown)}", code="unknown_document_type",
                                  params={"value": ", ".join(unknown)})
        rows = list(session.scalars(select(RequiredDocument).where(RequiredDocument.customer_kind == customer_kind)))
        before = sorted(r.document_type_code for r in rows)
        for row in rows:
            if row.document_type_code not in wanted:
                session.delete(row)
        for code in wanted:
            if code not in before:
                session.add(RequiredDocument(customer_kind=customer_kind, document_type_code=code))
        session.flush()
        _changed(uow, actor, "required_documents", customer_kind, {"document_types": before},
                 {"document_types": wanted})


# What can be deactivated, by the kind the page posts.
ACTIVATABLE: dict[str, Any] = {
    "department": Department, "document_type": DocumentType, "classification_level": ClassificationLevel,
    "retention_period": RetentionPeriod,
}
FIELDS_OF = {Department: DEPARTMENT_FIELDS, DocumentType: TYPE_FIELDS, ClassificationLevel: LEVEL_FIELDS,
             RetentionPeriod: PERIOD_FIELDS}


def set_reference_active(uow: UnitOfWork, *, actor: Actor, kind: str, code: str, active: bool) -> None:
    """Deactivate (or reactivate) a department, document type, classification level or retention period.

    Nothing is deleted: documents, users and types keep referring to the row and show its name; a
    deactivated row is only no longer offered or accepted for new use (capture, accounts, types).
    Audited as reference.changed with before and after.
    """
    with uow:
        access.require(actor, permission_reference_manage)
        model = ACTIVATABLE.get(kind)
        if model is None:
            raise ValidationError(f"unknown kind of reference data {kind!r}", code="unknown_reference_kind",
                                  params={"value": kind})
        session = uow.session
        row = (session.scalar(select(Department).where(Department.code == code)) if model is Department
               else session.get(model, code))
        if row is None:
            raise NotFoundError(f"no {kind} {code!r}")
        fields = FIELDS_OF[model]
        before = _row(row, fields)
        if row.active == active:
            return
        row.active = active
        session.flush()
        _changed(uow, actor, kind, getattr(row, "id", code), before, _row(row, fields))
REFERENCE_KINDS = ("department", "document_type", "classification_level", "retention_period", "checklist")


def _years(value: object) -> int | None:
    """A retention period's years from a form or JSON: empty or None is permanent."""
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    if not text.isdigit():
        raise ValidationError("years must be a whole number (empty: permanent)", code="reference_years",
                              field="years")
    return int(text)


def save_reference_row(uow: UnitOfWork, *, actor: Actor, kind: str, values: dict[str, Any]) -> None:
    """Add or edit one row of reference data of a kind (REFERENCE_KINDS) from its fields, as the page's
    forms and the API send them; the checklist takes `customer_kind` and `document_types` (a list)."""

    def text(name: str) -> str:
        value = values.get(name)
        return "" if value is None else str(value)

    if kind == "department":
        save_department(uow, actor=actor, code=text("code"), name=text("name"))
    elif kind == "document_type":
        save_document_type(uow, actor=actor, code=text("code"), name_zh=text("name_zh"), name_en=text("name_en"),
                           category=text("category"), retention_code=text("retention_code"),
                           default_classification=text("default_classification"),
                           minimum_classification=text("minimum_classification") or None)
    elif kind == "classification_level":
        rename_classification_level(uow, actor=actor, code=text("code"), name_zh=text("name_zh"),
                                    name_en=text("name_en"))
    elif kind == "retention_period":
        save_retention_period(uow, actor=actor, code=text("code"), name_zh=text("name_zh"), name_en=text("name_en"),
                              years=_years(values.get("years")), archive_code=text("archive_code"))
    elif kind == "checklist":
        types = values.get("document_types") or []
        set_required_documents(uow, actor=actor, customer_kind=text("customer_kind"),
                               document_types=[str(t) for t in types] if isinstance(types, list) else [str(types)])
    else:
        raise ValidationError(f"unknown kind of reference data {kind!r}", code="unknown_reference_kind",
                              params={"value": kind})
