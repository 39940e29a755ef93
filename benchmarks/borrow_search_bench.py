"""Search with borrow grants in the filter: p95 with 10,000 granted documents against p95 without.

The corpus and the 200-query mix are search_bench.py's (sentences from ../shared/seeds/, 50,000
documents by default). The user is that benchmark's staff member (two departments, up to internal).
All runs query the same Tantivy index through our interface (search.tantivy_index, facets, a 20-hit
page with snippets). The baseline filters by department and clearance; then 10,000 documents outside
the user's scope are lent to them, as the access policy then adds them to the engine filter: first by
their ids (what the filter did before, and still does below 64 lent documents), then by the borrower's
tag that indexing puts on lent documents (archive.services.searching: from 64 on). Each query's
total is checked: with grants it must equal the documents the user may see plus the granted ones that
match. Also timed: loading 10,000 grants for one user at sign-in (borrowing.services.grants_for on
SQLite), which every request pays while the grants run.

Target (issue 11): p95 with 10,000 grants <= 2x the p95 without.

    .venv/bin/python benchmarks/borrow_search_bench.py              # 50,000 documents
    .venv/bin/python benchmarks/borrow_search_bench.py --docs 10000 # a quick run
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from dataclasses import replace  # noqa: E402

from search_bench import STAFF, _searchable, _visible, batches, corpus, query_mix  # noqa: E402

from search.base import Visibility  # noqa: E402
from search.tantivy_index import TantivyIndex  # noqa: E402

TARGET_RATIO = 2.0
GRANTS = 10_000
BORROWER = 4242


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def run(index: TantivyIndex, queries: list, visibility: Visibility, rounds: int) -> tuple[list[float], list[int]]:
    for q in queries[:10]:
        index.search(q.query, visibility)
    latencies, totals = [], []
    for _ in range(rounds):
        for q in queries:
            started = time.perf_counter()
            result = index.search(q.query, visibility)
            latencies.append((time.perf_counter() - started) * 1000)
            totals.append(result.total)
    return latencies, totals


def grant_loading_ms(count: int, per_grant: int) -> float:
    """What each request pays to resolve the user: `count` lent documents, `per_grant` to a grant, read
    by borrowing.services.grants_for (SQLite, in memory)."""
    from sqlalchemy import create_engine, insert
    from sqlalchemy.orm import Session

    from archive.borrowing.models import BorrowItem, BorrowRequest, Grant
    from archive.borrowing.services import grants_for
    from archive.models import Base

    engine = create_engine("sqlite://")
    tables = [Base.metadata.tables[name] for name in ("department", "classification_level", "user_account",
                                                       "customer", "dossier", "document_type", "retention_period",
                                                       "document", "borrow_request", "borrow_item", "borrow_grant")]
    Base.metadata.create_all(engine, tables=tables)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with Session(engine) as session:
        grants = range(1, count // per_grant + 1)
        session.execute(insert(BorrowRequest), [
            {"id": g, "number": f"JY-2026-{g:06d}", "requester_id": 1, "purpose": "bench", "mode": "view",
             "days": 30, "asked": {}, "status": "approved", "classification": "secret", "in_department": False,
             "steps": [], "step": 0, "step_started_at": now, "created_at": now} for g in grants])
        session.execute(insert(BorrowItem), [{"request_id": 1 + (i - 1) // per_grant, "document_id": i,
                                              "department_id": 1} for i in range(1, count + 1)])
        session.execute(insert(Grant), [{"id": g, "request_id": g, "user_id": 1, "mode": "view", "starts_at": now,
                                         "expires_at": now + timedelta(days=30)} for g in grants])
        session.commit()
        samples = []
        for _ in range(20):
            started = time.perf_counter()
            assert sum(len(g.document_ids) for g in grants_for(session, 1, now + timedelta(hours=1))) == count
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--grants", type=int, default=GRANTS)
    parser.add_argument("--rounds", type=int, default=3, help="passes over the 200 queries per run")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    documents = corpus(args.docs, args.seed)
    queries = query_mix(documents, args.seed)
    outside = [d for d in documents if not _visible(d)]
    granted = random.Random(args.seed).sample(outside, min(args.grants, len(outside)))
    lent_ids = frozenset(d.document_id for d in granted)
    documents = [replace(d, lent_to=(BORROWER,)) if d.document_id in lent_ids else d for d in documents]
    by_ids = Visibility(STAFF.departments, STAFF.classifications, lent_ids)
    by_tag = Visibility(STAFF.departments, STAFF.classifications, lent_ids, lent_to=BORROWER)
    with tempfile.TemporaryDirectory() as tmp:
        index = TantivyIndex(Path(tmp) / "tantivy")
        started = time.perf_counter()
        build = index.begin_rebuild()
        for batch in batches(documents):
            build.add(batch)
        build.publish()
        print(f"indexed {len(documents):,} documents in {time.perf_counter() - started:.1f} s; "
              f"{len(granted):,} grants outside the user's scope")
        plain, plain_totals = run(index, queries, STAFF, args.rounds)
        listed, listed_totals = run(index, queries, by_ids, args.rounds)
        lent, lent_totals = run(index, queries, by_tag, args.rounds)
    granted_text = [_searchable(d) for d in granted]
    misses = 0
    for q, before, after, listed_after in zip(queries, plain_totals, lent_totals, listed_totals, strict=False):
        if q.word is not None and not after == listed_after == before + sum(q.word in text for text in granted_text):
            misses += 1
    loading = {per: grant_loading_ms(args.grants, per) for per in (1, 100)}
    ratio = p95(lent) / p95(plain)
    print(f"{'filter':<34}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}")
    for name, values in (("department + clearance", plain), (f"+ {len(granted):,} lent, by id", listed),
                         (f"+ {len(granted):,} lent, by tag (ours)", lent)):
        print(f"{name:<34}{statistics.median(values):>8.2f}{p95(values):>8.2f}"
              f"{statistics.quantiles(values, n=100)[-1]:>8.2f}")
    print(f"word queries whose total missed the lent documents (either filter): {misses}")
    print(f"by id: p95 {p95(listed) / p95(plain):.2f}x the baseline")
    for per, ms in loading.items():
        print(f"resolving a user with {args.grants:,} lent documents, {per} per grant: {ms:.1f} ms median")
    print(f"target: p95 with grants <= {TARGET_RATIO:.1f}x without ({'met' if ratio <= TARGET_RATIO else 'MISSED'})")
    print(f"borrow_search_p95_ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
