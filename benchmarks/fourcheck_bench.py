"""The four-property check 四性检测 over a whole archive against the fixity check on the same data.

One run, on an embedded archive (SQLite, filesystem store) in a temporary ARCHIVE_HOME:
  * --docs documents of --pages pages each, built in bulk (capture is not what is measured, nor its fsync): each has
    its own data key, its original (a PDF of its pages) and its page images (lossless PNG, as capture
    writes them, --dpi) encrypted on the filesystem store, its rows, and its chained capture event;
  * the baseline: `archive verify` (services/integrity.verify_archive: decrypt every object, SHA-256);
  * ours: `archive check` (compliance/fourcheck.run_fourcheck): every check, the set checks, the report;
  * for context, the deep run (every page decoded in full) over the first --deep-docs documents, with
    verify over the same documents' share scaled from the whole run.
Both runs read from the page cache (the data was just written) and run in --repeat interleaved rounds,
each keeping its fastest. Target: check ≤ 1.5 × verify at 10,000 documents of 3 pages.

    .venv/bin/python benchmarks/fourcheck_bench.py                        # 10,000 documents
    .venv/bin/python benchmarks/fourcheck_bench.py --docs 1000 --repeat 1
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from archive import audit  # noqa: E402
from archive.actors import OPERATOR, VERIFIER, Actor  # noqa: E402
from archive.bootstrap import Archive  # noqa: E402
from archive.compliance import fourcheck  # noqa: E402
from archive.compliance.permissions import FOURCHECK_ACTOR  # noqa: E402
from archive.config import load_settings  # noqa: E402
from archive.demo.samples import write_scan  # noqa: E402
from archive.models import ArchiveCodeCounter, Customer, Department, Document, Page, User  # noqa: E402
from archive.services import integrity, reference, users  # noqa: E402
from storage import filesystem  # noqa: E402
from storage.envelope import new_data_key  # noqa: E402

TARGET = 1.5
TYPES = ("application_form", "supply_contract", "id_copy")
SCOPE = "Z001-HT·2026-D30-YX"


def new_archive(home: Path) -> Archive:
    archive = Archive(load_settings({"ARCHIVE_HOME": str(home)}))
    archive.migrate()
    reference.seed_reference_data(archive.uow())
    reference.ensure_department(archive.uow(), actor=OPERATOR, code="YX", name="营销部")
    users.create_user(archive.uow(), actor=OPERATOR, username="clerk", password="correct horse battery",
                      role="clerk", department="YX", clearance="confidential")
    return archive


def sample_pages(folder: Path, pages: int, dpi: int) -> tuple[list[bytes], list[bytes]]:
    """The page PNGs (as capture stores them: decoded, then written lossless) and three PDF originals of
    them (the pages in three orders: a customer's three documents differ in content)."""
    images = []
    for n in range(pages):
        path = write_scan(folder / f"page{n}.png", [f"供用电合同 第{n + 1}页 客户 张伟 合同编号 2026-{n:04d}"] * 12,
                          format="PNG", dpi=dpi, seed=n)
        images.append(Image.open(path).convert("L"))
    pngs = []
    for image in images:
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        pngs.append(buffer.getvalue())
    pdfs = []
    for shift in range(3):
        order = images[shift % len(images):] + images[:shift % len(images)]
        pdf = io.BytesIO()
        order[0].save(pdf, "PDF", save_all=True, append_images=order[1:], resolution=dpi + shift)
        pdfs.append(pdf.getvalue())
    return pngs, pdfs


@contextmanager
def no_fsync() -> Iterator[None]:
    """The build is not measured: the filesystem store's fsync per object would make it take an hour."""
    real = filesystem.os.fsync
    filesystem.os.fsync = lambda fd: None  # type: ignore[assignment]
    try:
        yield
    finally:
        filesystem.os.fsync = real  # type: ignore[assignment]


def build(archive: Archive, count: int, pngs: list[bytes], pdfs: list[bytes]) -> None:
    """Objects encrypted per document, rows in bulk, one chained capture event per document; a customer
    per three documents, which are the three its business process requires."""
    with no_fsync():
        _build(archive, count, pngs, pdfs)
    os.sync()


def _build(archive: Archive, count: int, pngs: list[bytes], pdfs: list[bytes]) -> None:
    store, keyring = archive.store, archive.keyring
    with archive.uow() as uow:
        department = uow.session.scalar(select(Department.id))
        clerk_id = uow.session.scalar(select(User.id).where(User.username == "clerk"))
        uow.session.execute(insert(Customer), [
            {"kind": "individual", "id_type": "resident_id", "identity_sealed": f"s{n}", "identity_hash": f"{n:064d}",
             "identity_masked": "x", "name": f"客户{n}", "department_id": department} for n in range(count // 3 + 1)])
        first_customer = uow.session.scalar(select(Customer.id).order_by(Customer.id))
        uow.commit()
    clerk = users.resolve_actor(archive.uow(), username="clerk")
    for start in range(0, count, 500):
        documents, pages = [], []
        for n in range(start, min(start + 500, count)):
            data_key = new_data_key()
            prefix = f"documents/{uuid.uuid4()}"
            original = store.put(f"{prefix}/original", io.BytesIO(pdfs[n % 3]), data_key=data_key)
            wrapped = keyring.wrap(data_key)
            documents.append({
                "customer_id": first_customer + n // 3, "document_type": TYPES[n % 3], "title": f"张伟 文件{n}",
                "archive_code": f"{SCOPE}-{n + 1:05d}", "classification": "internal", "retention": "30y",
                "department_id": department, "status": "ready", "document_date": date(2026, 1 + n % 12, 1),
                "source_filename": "scan.pdf", "media_type": "application/pdf", "size_bytes": original.size,
                "content_sha256": original.sha256, "object_key": f"{prefix}/original", "cipher": wrapped.algorithm,
                "key_id": wrapped.key_id, "wrapped_key": wrapped.wrapped, "pii_hashes": [], "captured_by_id": clerk_id,
                "captured_at": datetime.now(UTC)})
            for number, png in enumerate(pngs, 1):
                key = f"{prefix}/pages/{number:04d}.png"
                stored = store.put(key, io.BytesIO(png), data_key=data_key)
                pages.append({"code": documents[-1]["archive_code"], "number": number, "object_key": key,
                              "image_sha256": stored.sha256, "width": 1, "height": 1, "ocr_status": "done",
                              "ocr_text": "供用电合同 客户 张伟"})
        with archive.uow() as uow:
            uow.session.execute(insert(Document), documents)
            ids = dict(uow.session.execute(select(Document.archive_code, Document.id).where(
                Document.archive_code.in_([d["archive_code"] for d in documents]))).all())
            uow.session.execute(insert(Page), [{**{k: v for k, v in p.items() if k != "code"},
                                                "document_id": ids[p["code"]]} for p in pages])
            for d in documents:
                audit.record(uow.session, clerk, "document.captured", target_type="document",
                             target_id=ids[d["archive_code"]], archive_code=d["archive_code"], pages=len(pngs),
                             sha256=d["content_sha256"], filename="scan.pdf")
            uow.commit()
    with archive.uow() as uow:
        uow.session.add(ArchiveCodeCounter(scope=SCOPE, last_number=count))
        uow.commit()


def timed(work: object) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()  # type: ignore[operator]
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--pages", type=int, default=3)
    parser.add_argument("--dpi", type=int, default=150, help="page images' resolution (A4 at 150 dpi: 1240×1754)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--deep-docs", type=int, default=300)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        archive = new_archive(home)
        pngs, pdfs = sample_pages(Path(tmp), args.pages, args.dpi)
        build_time, _ = timed(lambda: build(archive, args.docs, pngs, pdfs))
        print(f"built {args.docs} documents of {args.pages} pages ({len(pdfs[0])} B original, "
              f"{sum(map(len, pngs)) // len(pngs)} B a page) in {build_time:.1f} s")
        checker = Actor.system("bench-fourcheck", FOURCHECK_ACTOR.extra_permissions)
        verify_best = check_best = float("inf")
        for _ in range(args.repeat):
            seconds, fixity = timed(lambda: integrity.verify_archive(archive.uow(), actor=VERIFIER))
            assert fixity.ok and fixity.documents_checked == args.docs, fixity.problems[:3]  # type: ignore[attr-defined]
            verify_best = min(verify_best, seconds)
            seconds, report = timed(lambda: fourcheck.run_fourcheck(archive.uow(), actor=checker))
            assert report.documents_checked == args.docs  # type: ignore[attr-defined]
            assert report.ok, report.problems[:3]  # type: ignore[attr-defined]  # warnings: a last customer's file
            check_best = min(check_best, seconds)
        ratio = check_best / verify_best
        print(f"verify: {args.docs} documents, {args.docs * (1 + args.pages)} objects in {verify_best:.2f} s")
        print(f"check: {args.docs} documents, every check, in {check_best:.2f} s "
              f"(ratio {ratio:.2f} × verify; target ≤ {TARGET})")
        deep_docs = min(args.deep_docs, args.docs)
        with archive.uow() as uow:
            ids = tuple(uow.session.scalars(select(Document.id).order_by(Document.id).limit(deep_docs)))
        seconds, deep = timed(lambda: fourcheck.run_fourcheck(
            archive.uow(), actor=checker, deep=True, scope=fourcheck.CheckScope(document_ids=ids)))
        share = verify_best * deep.documents_checked / args.docs  # type: ignore[attr-defined]
        print(f"deep check (every page decoded): {deep.documents_checked} documents in {seconds:.2f} s "  # type: ignore[attr-defined]
              f"(≈ {seconds / share:.1f} × verify's share for them)")
        archive.close()
    print(f"fourcheck_vs_verify: {ratio:.2f}")


if __name__ == "__main__":
    main()
