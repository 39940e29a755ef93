"""Retention at scale: disposition dates for many documents, and destroying a batch of real records.

One run, on an embedded archive (SQLite, filesystem store) in a temporary ARCHIVE_HOME:
  * dispositions: --docs document rows (inserted in bulk: capture is not what is measured) across five
    document types, one customer per ten documents, some trigger events; then `refresh_dispositions`
    computes and stores every date, and `due_records` finds the due ones thirty years on. The floor
    in the same run: reading the same rows and writing as many rows to a scratch table, plain SQL.
  * destruction: --destroy documents captured for real (a small scan each, objects encrypted on the
    filesystem store), appraised and approved; `destroy_batch` is timed. The floor: deleting as many
    objects of the same size from a filesystem store, with one committed row each.
Targets: dispositions ≤ 10 s at 100,000 documents; destroying 1,000 documents ≤ 60 s.

    .venv/bin/python benchmarks/retention_bench.py                      # 100,000 and 1,000
    .venv/bin/python benchmarks/retention_bench.py --docs 20000 --destroy 200
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402

from archive.actors import OPERATOR  # noqa: E402
from archive.bootstrap import Archive  # noqa: E402
from archive.capture.services import CaptureRequest, capture_document  # noqa: E402
from archive.config import load_settings  # noqa: E402
from archive.demo.samples import write_scan  # noqa: E402
from archive.identity import resident_id_check_digit  # noqa: E402
from archive.models import Customer, Department, Document, User  # noqa: E402
from archive.ports import FixedClock  # noqa: E402
from archive.services import reference, users  # noqa: E402
from archive.services.filing import file_documents  # noqa: E402
from retention.models import RetentionEvent  # noqa: E402
from retention.permissions import RETENTION_ACTOR  # noqa: E402
from retention.services import appraisal, dispositions, schedules  # noqa: E402
from retention.services.dispositions import add_period  # noqa: E402
from storage.filesystem import FilesystemStore  # noqa: E402

TYPES = ("supply_contract", "application_form", "bank_authorisation", "meter_work_order", "land_certificate")
PASSWORD = "benchmark-password-1"


def new_archive(home: Path) -> Archive:
    archive = Archive(load_settings({"ARCHIVE_HOME": str(home)}))
    archive.migrate()
    reference.seed_reference_data(archive.uow())
    reference.ensure_department(archive.uow(), actor=OPERATOR, code="YX", name="营销部")
    for username, role in (("clerk", "clerk"), ("records", "records_manager"), ("a1", "appraiser"),
                           ("a2", "appraiser"), ("leader", "leader")):
        users.create_user(archive.uow(), actor=OPERATOR, username=username, password=PASSWORD, role=role,
                          department="YX", clearance="confidential")
    return archive


def bulk_documents(archive: Archive, count: int) -> None:
    with archive.uow() as uow:
        department = uow.session.scalar(select(Department.id))
        clerk = uow.session.scalar(select(User.id).where(User.username == "clerk"))
        customers = [{"kind": "individual", "id_type": "resident_id", "identity_sealed": f"s{n}",
                      "identity_hash": f"{n:064d}", "identity_masked": "x", "name": f"客户{n}",
                      "department_id": department} for n in range(count // 10 + 1)]
        uow.session.execute(insert(Customer), customers)
        first = uow.session.scalar(select(Customer.id).order_by(Customer.id))
        rows = [{"customer_id": first + n // 10, "document_type": TYPES[n % len(TYPES)], "title": f"文件{n}",
                 "archive_code": f"Z001-B·2020-D30-YX-{n:07d}", "classification": "internal", "retention": "30y",
                 "department_id": department, "status": "ready", "document_date": date(2020, 1 + n % 12, 1),
                 "source_filename": "scan.png", "media_type": "image/png", "size_bytes": 1, "content_sha256": f"{n:064d}",
                 "object_key": f"documents/{n}/original", "cipher": "AES-256-GCM", "key_id": "k1", "wrapped_key": b"x",
                 "pii_hashes": [], "captured_by_id": clerk, "captured_at": datetime(2020, 6, 1, tzinfo=UTC),
                 "filed_at": datetime(2020, 6, 2, tzinfo=UTC), "filed_by_id": clerk}
                for n in range(count)]
        for start in range(0, count, 10000):
            uow.session.execute(insert(Document), rows[start:start + 10000])
        uow.session.execute(insert(RetentionEvent), [
            {"name": "account_closed", "customer_id": first + n, "occurred_on": date(2022, 3, 1),
             "recorded_at": datetime.now(UTC)} for n in range(0, count // 10, 3)])
        uow.commit()


def dispositions_run(home: Path, count: int) -> tuple[float, float, int]:
    archive = new_archive(home)
    manager = users.resolve_actor(archive.uow(), username="records")
    schedules.set_schedule(archive.uow(), actor=manager, document_type="bank_authorisation", years=5, months=None,
                           trigger="event", event_name="account_closed", action="destroy")
    schedules.set_schedule(archive.uow(), actor=manager, document_type="meter_work_order", years=3, months=6,
                           trigger="document_date", action="destroy")
    bulk_documents(archive, count)
    started = time.perf_counter()
    changed, _ = dispositions.refresh_dispositions(archive.uow(), actor=RETENTION_ACTOR)
    archive.clock = FixedClock(date(2051, 1, 1))
    due = dispositions.due_records(archive.uow(), actor=manager, limit=count)
    ours = time.perf_counter() - started
    assert changed == count, (changed, count)
    started = time.perf_counter()
    with archive.engine.begin() as connection:
        rows = connection.execute(text("SELECT id, document_type, captured_at, document_date FROM document")).all()
        connection.execute(text("CREATE TABLE scratch (document_id INTEGER PRIMARY KEY, due_on DATE)"))
        connection.execute(text("INSERT INTO scratch VALUES (:d, :u)"), [{"d": r[0], "u": "2050-06-01"} for r in rows])
        connection.execute(text("SELECT count(*) FROM scratch WHERE due_on <= '2051-01-01'")).scalar()
    floor = time.perf_counter() - started
    archive.close()
    return ours, floor, len(due)


def destruction_run(home: Path, count: int) -> tuple[float, float, int]:
    archive = new_archive(home)
    people = {name: users.resolve_actor(archive.uow(), username=name) for name in ("clerk", "records", "a1", "a2",
                                                                                      "leader")}
    scan_dir = home / "scans"
    scan_dir.mkdir()
    for n in range(count):
        first17 = f"110105{1950 + n % 50}0101{n % 1000:03d}"
        identity = first17 + resident_id_check_digit(first17)
        path = write_scan(scan_dir / f"s{n}.png", [f"合同 {n}"], format="PNG", dpi=50, seed=n)
        capture_document(archive.uow(), actor=people["clerk"], request=CaptureRequest(
            path=path, filename=path.name, customer=identity, customer_name="张伟", document_type="supply_contract"))
    archive.jobs.huey.flush()  # OCR is not what is measured: the pages are marked read, then filed
    with archive.engine.begin() as connection:
        connection.execute(text("UPDATE page SET ocr_status = 'done'"))
        connection.execute(text("UPDATE document SET status = 'ready'"))
    codes = [row[0] for row in archive.engine.connect().execute(text("SELECT archive_code FROM document"))]
    assert len(file_documents(archive.uow(), actor=people["clerk"], archive_codes=codes).filed) == count
    schedules.set_schedule(archive.uow(), actor=people["records"], document_type="supply_contract", years=1,
                           months=None, trigger="filing_date", action="destroy")
    archive.clock = FixedClock(add_period(date.today(), 2, None))
    (batch,) = appraisal.gather_due_records(archive.uow(), actor=people["records"])
    codes = [item.archive_code for item in appraisal.list_batches(archive.uow(), actor=people["records"])[0].items]
    for code in codes:
        for appraiser in ("a1", "a2"):
            appraisal.appraise_record(archive.uow(), actor=people[appraiser], batch_id=batch, archive_code=code,
                                      decision="destroy")
    appraisal.decide_batch(archive.uow(), actor=people["leader"], batch_id=batch, approve=True)
    objects = sum(1 for _ in archive.object_store.list("documents/"))
    started = time.perf_counter()
    run = appraisal.destroy_batch(archive.uow(), actor=people["records"], batch_id=batch)
    ours = time.perf_counter() - started
    assert run.destroyed == count and not list(archive.object_store.list("documents/"))
    floor_store = FilesystemStore(home / "floor")
    for n in range(objects):
        floor_store.put(f"documents/{n}", io.BytesIO(os.urandom(4096)))
    started = time.perf_counter()
    with archive.engine.connect() as connection:
        connection.execute(text("CREATE TABLE floor (id INTEGER PRIMARY KEY)"))
        connection.commit()
        for n in range(count):
            connection.execute(text("INSERT INTO floor VALUES (:n)"), {"n": n})
            connection.commit()
    for n in range(objects):
        floor_store.delete(f"documents/{n}")
    floor = time.perf_counter() - started
    archive.close()
    return ours, floor, objects


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--destroy", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ours, floor, due = dispositions_run(Path(tmp) / "dispositions", args.docs)
        print(f"dispositions: {args.docs} documents computed and stored, {due} due found: {ours:.2f} s "
              f"(floor {floor:.2f} s, ratio {ours / floor:.1f}; target ≤ 10 s at 100,000)")
        destroyed, floor_d, objects = destruction_run(Path(tmp) / "destruction", args.destroy)
        print(f"destruction: {args.destroy} documents ({objects} objects) destroyed in {destroyed:.2f} s "
              f"(floor {floor_d:.2f} s, ratio {destroyed / floor_d:.1f}; target ≤ 60 s at 1,000)")
    print(f"retention: dispositions {ours:.2f} s, destruction {destroyed:.2f} s")


if __name__ == "__main__":
    main()
