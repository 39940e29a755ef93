"""Incremental backup: after 1% of the objects changed, how much does the next backup copy?

One run, on an embedded archive (SQLite, filesystem store) in a temporary ARCHIVE_HOME:
  * --docs document rows inserted in bulk (capture is not what is measured), each with one stored
    object of random bytes (sizes spread around --kib KiB; stored objects are ciphertext, so random
    bytes are what the backup sees);
  * the baseline, in the same run: a full backup into an empty DEST (every object read and copied),
    and for context the floor of any full copy, `shutil.copytree` of the store's folder;
  * then 1% of the objects are rewritten with new bytes (same keys, same sizes) and the backup is run
    again into the same DEST: the figure is the bytes it copies over the bytes of the snapshot, and the
    bytes it reads from the store (objects whose key, size and modification time match the last
    manifest are not read).
Target: the incremental backup copies ≤ 2% of the bytes.

    .venv/bin/python benchmarks/backup_bench.py                    # 2,000 objects of ~128 KiB
    .venv/bin/python benchmarks/backup_bench.py --docs 500 --kib 64
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from archive.actors import OPERATOR  # noqa: E402
from archive.backup import services  # noqa: E402
from archive.backup.permissions import BACKUP_OPERATOR  # noqa: E402
from archive.bootstrap import Archive  # noqa: E402
from archive.config import load_settings  # noqa: E402
from archive.models import Customer, Department, Document, User  # noqa: E402
from archive.services import reference, users  # noqa: E402

PASSPHRASE = "benchmark passphrase, long enough"
TARGET_PERCENT = 2.0
CHANGED = 0.01


def new_archive(home: Path) -> Archive:
    archive = Archive(load_settings({"ARCHIVE_HOME": str(home)}))
    archive.migrate()
    reference.seed_reference_data(archive.uow())
    reference.ensure_department(archive.uow(), actor=OPERATOR, code="YX", name="营销部")
    users.create_user(archive.uow(), actor=OPERATOR, username="clerk", password="benchmark-password-1",
                      role="clerk", department="YX", clearance="confidential")
    return archive


def bulk_documents(archive: Archive, count: int, kib: int, rng: random.Random) -> list[tuple[str, int]]:
    """`count` document rows, each referencing one object of random bytes; return (key, size) of each."""
    objects = [(f"documents/{uuid.UUID(int=rng.getrandbits(128)).hex}/original",
                max(1024, int(rng.uniform(0.25, 1.75) * kib * 1024))) for _ in range(count)]
    for key, size in objects:
        archive.object_store.put(key, io.BytesIO(os.urandom(size)))
    with archive.uow() as uow:
        department = uow.session.scalar(select(Department.id))
        clerk = uow.session.scalar(select(User.id).where(User.username == "clerk"))
        uow.session.execute(insert(Customer), [{"kind": "individual", "id_type": "resident_id",
                                                "identity_sealed": "s", "identity_hash": "0" * 64,
                                                "identity_masked": "x", "name": "客户", "department_id": department}])
        customer = uow.session.scalar(select(Customer.id))
        rows = [{"customer_id": customer, "document_type": "supply_contract", "title": f"文件{n}",
                 "archive_code": f"Z001-B·2020-D30-YX-{n:07d}", "classification": "internal", "retention": "30y",
                 "department_id": department, "status": "ready", "document_date": date(2020, 1, 1),
                 "source_filename": "scan.png", "media_type": "image/png", "size_bytes": size,
                 "content_sha256": f"{n:064d}", "object_key": key, "cipher": "AES-256-GCM", "key_id": "k1",
                 "wrapped_key": b"x", "pii_hashes": [], "captured_by_id": clerk,
                 "captured_at": datetime(2020, 6, 1, tzinfo=UTC)}
                for n, (key, size) in enumerate(objects)]
        for start in range(0, count, 10000):
            uow.session.execute(insert(Document), rows[start:start + 10000])
        uow.commit()
    return objects


def back_up(archive: Archive, destination: Path, keyring: Path) -> tuple[services.BackupReport, float]:
    started = time.perf_counter()
    report = services.create_backup(archive.uow(), actor=BACKUP_OPERATOR, destination=destination,
                                    keyring_out=keyring, passphrase=PASSPHRASE)
    return report, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--kib", type=int, default=128, help="mean object size")
    args = parser.parse_args()
    rng = random.Random(14)
    print(f"load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        home, destination, keyring = Path(tmp) / "home", Path(tmp) / "backup", Path(tmp) / "safe" / "keyring.sealed"
        archive = new_archive(home)
        objects = bulk_documents(archive, args.docs, args.kib, rng)
        started = time.perf_counter()
        shutil.copytree(archive.settings.storage_path, Path(tmp) / "plain-copy")
        floor = time.perf_counter() - started
        full, full_seconds = back_up(archive, destination, keyring)
        assert full.objects == full.objects_copied == args.docs, full

        changed = rng.sample(objects, max(1, round(args.docs * CHANGED)))
        for key, size in changed:
            archive.object_store.put(key, io.BytesIO(os.urandom(size)))
        incremental, incremental_seconds = back_up(archive, destination, keyring)
        archive.close()
    changed_bytes = sum(size for _, size in changed)
    copied = 100 * incremental.bytes_copied / incremental.bytes
    read = 100 * incremental.bytes_read / incremental.bytes
    mib = 1024 * 1024
    print(f"full backup (baseline): {full.objects} objects, {full.bytes / mib:.1f} MiB copied in {full_seconds:.2f} s "
          f"(plain copy of the store folder {floor:.2f} s)")
    print(f"changed: {len(changed)} objects ({100 * len(changed) / args.docs:.1f}%), "
          f"{changed_bytes / mib:.1f} MiB ({100 * changed_bytes / full.bytes:.2f}% of the bytes)")
    print(f"incremental backup: {incremental.objects_copied} objects, {incremental.bytes_copied / mib:.2f} MiB copied "
          f"= {copied:.2f}% of the snapshot's {incremental.bytes / mib:.1f} MiB (read {read:.2f}%), "
          f"{incremental_seconds:.2f} s ({incremental_seconds / full_seconds:.2f}x the full backup); "
          f"target ≤ {TARGET_PERCENT:.0f}%: {'met' if copied <= TARGET_PERCENT else 'MISSED'}")
    print(f"backup: incremental after 1% changed copies {copied:.2f}% of the bytes")


if __name__ == "__main__":
    main()
