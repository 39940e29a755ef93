"""A small archive with known contents for the reports: two departments, customers of both kinds,
documents of every level over three years, flagged pages, borrowing, dispositions and a legal hold.
`dataset` holds what was inserted, so each test counts its expectations in Python, not through SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from archive_fixtures import PASSWORD
from sqlalchemy import insert, select

from archive import audit
from archive.actors import OPERATOR, Actor
from archive.borrowing.models import BorrowItem, BorrowRequest, Grant, PhysicalLoan
from archive.models import Customer, Department, Document, Dossier, Page, PageVersion, User
from archive.ports import FixedClock
from archive.services import users
from retention.models import Disposition, LegalHold
from retention.services.dispositions import add_period

TODAY = date(2026, 11, 15)
NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)
TYPES = ("application_form", "supply_contract", "id_copy", "business_licence", "meter_work_order")
LEVELS = ("public", "internal", "confidential", "secret")
RANK = {level: n for n, level in enumerate(LEVELS)}


@dataclass
class Dataset:
    departments: dict[str, int] = field(default_factory=dict)
    customers: list[dict] = field(default_factory=list)
    documents: list[dict] = field(default_factory=list)
    pages: list[dict] = field(default_factory=list)
    versions: list[dict] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    loans: list[dict] = field(default_factory=list)
    grants: list[dict] = field(default_factory=list)
    dispositions: list[dict] = field(default_factory=list)
    held_customer: int = 0

    def visible(self, doc: dict, departments: set[str] | None, clearance: str) -> bool:
        department = next(code for code, i in self.departments.items() if i == doc["department_id"])
        return ((departments is None or department in departments) and RANK[doc["classification"]] <= RANK[clearance]
                and doc["key_id"] != "shredded")


def add_report_people(web_archive) -> None:  # noqa: ANN001
    for username, role, department, clearance in (
            ("records", "records_manager", "YX", "confidential"), ("leader", "leader", "YX", "secret"),
            ("approver_kf", "approver", "KF", "internal")):
        users.create_user(web_archive.uow(), actor=OPERATOR, username=username, password=PASSWORD, role=role,
                          department=department, clearance=clearance)


def build_dataset(web_archive) -> Dataset:  # noqa: ANN001
    web_archive.clock = FixedClock(TODAY)
    data = Dataset()
    with web_archive.session_factory() as session:
        data.departments = {code: i for i, code in session.execute(select(Department.id, Department.code))}
        people = {name: i for i, name in session.execute(select(User.id, User.username))}
        for n in range(12):
            department = data.departments["KF" if n % 3 == 0 else "YX"]
            data.customers.append({"kind": "individual" if n % 2 == 0 else "organisation", "id_type": "resident_id",
                                   "identity_sealed": f"s{n}", "identity_hash": f"{n:064d}",
                                   "identity_masked": f"110105********{n:04d}", "name": f"客户{n}",
                                   "department_id": department})
        session.execute(insert(Customer), data.customers)
        customer_ids = list(session.scalars(select(Customer.id).order_by(Customer.id)))
        for row, cid in zip(data.customers, customer_ids, strict=True):
            row["id"] = cid
        session.execute(insert(Dossier), [{"customer_id": c["id"], "title": "客户档案", "department_id": c["department_id"],
                                           "classification": "public"} for c in data.customers])
        dossier_of = dict(session.execute(select(Dossier.customer_id, Dossier.id)).all())
        for n in range(60):
            customer = data.customers[n % 12]
            data.documents.append({
                "customer_id": customer["id"], "dossier_id": None if n % 5 == 4 else dossier_of[customer["id"]],
                "document_type": TYPES[n % len(TYPES)], "title": f"文件{n}", "archive_code": f"Z001-T·2024-D30-X-{n:04d}",
                "classification": LEVELS[n % 4], "retention": "30y", "department_id": customer["department_id"],
                "status": "shredded" if n == 59 else "ready",
                "document_date": None if n % 7 == 0 else date(2023 + n % 3, 1 + n % 12, 1),
                "source_filename": "scan.png", "media_type": "image/png", "size_bytes": 1,
                "content_sha256": f"{n:064x}", "object_key": f"documents/{n}/original", "cipher": "AES-256-GCM",
                "key_id": "shredded" if n == 59 else "k1", "wrapped_key": b"x", "pii_hashes": [],
                "captured_by_id": people["clerk"], "captured_at": datetime(2026, 6, 10, tzinfo=UTC)})
        session.execute(insert(Document), data.documents)
        for row, did in zip(data.documents, session.scalars(select(Document.id).order_by(Document.id)), strict=True):
            row["id"] = did
        for n, doc in enumerate(data.documents):
            for number in range(1, 2 + n % 4):
                data.pages.append({"document_id": doc["id"], "number": number, "version": 1, "object_key": f"p{n}-{number}",
                                   "width": 10, "height": 10, "ocr_status": "done",
                                   "rescan_needed": number == 1 and n % 6 == 0})
        session.execute(insert(Page), data.pages)
        page_ids = {(p.document_id, p.number): p.id for p in session.execute(select(Page.document_id, Page.number, Page.id))}
        for n, doc in enumerate(data.documents):
            if n % 10 == 3:  # an earlier flagged version, rescanned 40 days ago
                data.versions.append({"document_id": doc["id"], "page_id": page_ids[(doc["id"], 1)], "number": 1,
                                      "version": 0, "object_key": f"v{n}", "width": 10, "height": 10,
                                      "ocr_status": "done", "rescan_needed": True,
                                      "created_at": datetime(2026, 6, 10, tzinfo=UTC),
                                      "superseded_at": NOW - timedelta(days=40)})
        session.execute(insert(PageVersion), data.versions)
        # Borrowing: (document index, status, mode, hours to a decision, grant running, loan due in days)
        for number, (index, status, mode, hours, running, loan_due) in enumerate((
                (1, "approved", "view", 5.0, True, None), (2, "rejected", "view", 2.0, False, None),
                (5, "pending", "download", None, False, None), (7, "approved", "original", 10.0, False, -3),
                (13, "approved", "original", 1.0, False, 4), (10, "approved", "download", 3.0, True, None))):
            doc = data.documents[index]
            created = NOW - timedelta(days=10 + number)
            request = BorrowRequest(number=f"JY-2026-{number:06d}", requester_id=people["staff"], purpose="核对",
                                    mode=mode, days=7, asked={}, status=status, classification=doc["classification"],
                                    in_department=False, steps=[], step=0, step_started_at=created, created_at=created,
                                    decided_at=created + timedelta(hours=hours) if hours is not None else None)
            request.items.append(BorrowItem(document_id=doc["id"], department_id=doc["department_id"]))
            session.add(request)
            session.flush()
            data.requests.append({"document": doc, "status": status, "mode": mode, "hours": hours, "created": created,
                                  "number": request.number})
            if running:
                session.add(Grant(request_id=request.id, user_id=people["staff"], mode=mode, starts_at=NOW - timedelta(days=1),
                                  expires_at=NOW + timedelta(days=3)))
                data.grants.append({"document": doc, "mode": mode})
            if loan_due is not None:
                session.add(PhysicalLoan(request_id=request.id, document_id=doc["id"], box="B1", shelf="S1",
                                         lent_at=NOW - timedelta(days=5), lent_by_id=people["clerk"],
                                         due_on=TODAY + timedelta(days=loan_due)))
                data.loans.append({"document": doc, "due_on": TODAY + timedelta(days=loan_due),
                                   "number": request.number})
        for n, doc in enumerate(data.documents):
            if n % 2 == 0:
                due = add_period(TODAY, None, n % 15 - 2) if n % 15 >= 2 else TODAY - timedelta(days=20)
                action = ("review", "destroy", "transfer")[n % 3]
                data.dispositions.append({"document_id": doc["id"], "trigger_date": TODAY, "due_on": due,
                                          "action": action, "document": doc})
        session.execute(insert(Disposition), [{k: v for k, v in d.items() if k != "document"} for d in data.dispositions])
        data.held_customer = data.customers[1]["id"]
        session.add(LegalHold(target_type="customer", target_id=data.held_customer, hold_type="litigation",
                              reason="诉讼", placed_by_id=people["records"]))
        session.commit()
    return data


def record_access(archive, username: str, event_type: str, count: int, outcome: str = "ok") -> None:  # noqa: ANN001
    with archive.session_factory() as session:
        user = session.scalar(select(User).where(User.username == username))
        actor = Actor(user_id=user.id, username=username, role=user.role)
        for n in range(count):
            audit.record(session, actor, event_type, outcome=outcome, target_type="document", target_id=n + 1)
        session.commit()
