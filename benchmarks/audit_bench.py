"""The audit trail's cost: writing with the hash chain, verifying 1,000,000 events, the desk's pages.

One run measures, on one database (SQLite under a temporary ARCHIVE_HOME, or PostgreSQL with
--postgres, started here from tests/servers.py):
  * writing audit events one transaction each, with the chain (audit.record: the head row locked,
    seq/prev_hash/hash assigned at commit) and without it (the same AuditEvent rows added plainly), in
    --rounds interleaved rounds so a busy spell on the shared machine hits both; each keeps its best;
  * loading --events events (default 1,000,000) with their chain data in bulk, then signing one
    checkpoint over all of them (the Merkle root);
  * `archive audit verify` over them: services.verify_trail, which is what the command runs;
  * the audit desk's filtered first and keyset pages: --queries random filters (user, type, outcome,
    address, document, archive-code-sized target lists, time ranges), p50 and p95.

Targets: chain write cost <= 1.3x the plain write (events/s, same run); verify over 1,000,000 events
<= 60 s; the desk's filtered page p95 <= 100 ms.

    .venv/bin/python benchmarks/audit_bench.py                       # SQLite, 1,000,000 events
    .venv/bin/python benchmarks/audit_bench.py --postgres                       # fsync on
    .venv/bin/python benchmarks/audit_bench.py --postgres --no-fsync --events 20000
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text, update  # noqa: E402

from archive import audit  # noqa: E402
from archive import audit_format as chainformat  # noqa: E402
from archive.actors import Actor  # noqa: E402
from archive.bootstrap import Archive  # noqa: E402
from archive.compliance import desk, services  # noqa: E402
from archive.compliance.permissions import AUDITOR, CHECKPOINTER  # noqa: E402
from archive.config import load_settings  # noqa: E402
from archive.models import (  # noqa: E402
    AuditChainHead,  # noqa: E402
    AuditEvent,
    utcnow,
)

TARGET_WRITE_RATIO = 1.3
TARGET_VERIFY_S = 60.0
TARGET_DESK_P95_MS = 100.0
TYPES = ["document.viewed"] * 60 + ["documents.searched"] * 20 + ["document.downloaded"] * 8 + \
        ["customer.viewed"] * 8 + ["access.denied"] * 2 + ["user.logged_in"] * 2
USERS = [f"user{i:03d}" for i in range(200)]
ADDRESSES = [f"10.{i // 250}.{i % 250}.{7 + i % 3}" for i in range(500)]


def write_rate(archive: Archive, count: int, chained: bool) -> float:
    actor = Actor.system("bench")
    started = time.perf_counter()
    for i in range(count):
        with archive.session_factory() as session:
            if chained:
                audit.record(session, actor, "document.viewed", target_type="document", target_id=i, n=i)
            else:
                session.add(AuditEvent(occurred_at=utcnow(), actor_id=None, actor_name=actor.username,
                                       event_type="document.viewed", target_type="document", target_id=str(i),
                                       outcome="ok", remote_addr="", detail={"n": i}))
            session.commit()
    return count / (time.perf_counter() - started)


def bulk_load(archive: Archive, total: int, seed: int = 7) -> None:
    """`total` events with a valid chain, spread over 90 days, inserted in batches."""
    rng = random.Random(seed)
    with archive.engine.begin() as connection:
        seq, prev = connection.execute(text("SELECT seq, hash FROM audit_chain_head WHERE id = 1")).one()
    start = datetime.now(UTC) - timedelta(days=90)
    step = timedelta(days=90) / total
    table = AuditEvent.__table__
    batch: list[dict] = []
    for i in range(total):
        seq += 1
        kind = rng.choice(TYPES)
        event = {
            "occurred_at": start + step * i, "actor_id": None, "actor_name": rng.choice(USERS), "event_type": kind,
            "target_type": "customer" if kind == "customer.viewed" else "document",
            "target_id": str(rng.randrange(50_000)), "outcome": "denied" if kind == "access.denied" else "ok",
            "remote_addr": rng.choice(ADDRESSES), "detail": {"n": i} if i % 2 else {},
        }
        digest = chainformat.entry_hash("audit_event", seq, prev, chainformat.audit_event_values(event))
        batch.append({**event, "seq": seq, "prev_hash": prev, "hash": digest})
        prev = digest
        if len(batch) == 20_000 or i == total - 1:
            with archive.engine.begin() as connection:
                connection.execute(insert(table), batch)
                connection.execute(update(AuditChainHead.__table__).where(AuditChainHead.__table__.c.id == 1)
                                   .values(seq=seq, hash=prev))
            batch = []
    with archive.engine.begin() as connection:
        if archive.engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE audit_event"))
        else:
            connection.execute(text("ANALYZE"))


def random_filters(rng: random.Random) -> desk.DeskFilters:
    now = datetime.now(UTC)
    choice = rng.randrange(8)
    if choice == 0:
        return desk.DeskFilters(user=rng.choice(USERS))
    if choice == 1:
        return desk.DeskFilters(event_type=rng.choice(["document.downloaded", "customer.viewed", "user.logged_in"]))
    if choice == 2:
        return desk.DeskFilters(outcome="denied")
    if choice == 3:
        return desk.DeskFilters(address=rng.choice(ADDRESSES))
    if choice == 4:
        return desk.DeskFilters(document=str(rng.randrange(50_000)))
    if choice == 5:
        return desk.DeskFilters(user=rng.choice(USERS), event_type="document.viewed")
    if choice == 6:
        since = now - timedelta(days=rng.randrange(1, 89))
        return desk.DeskFilters(since=since, until=since + timedelta(days=1))
    return desk.DeskFilters(user=rng.choice(USERS), since=now - timedelta(days=30), outcome="ok")


def desk_latencies(archive: Archive, queries: int) -> list[float]:
    rng = random.Random(11)
    times = []
    for _ in range(queries):
        filters = random_filters(rng)
        started = time.perf_counter()
        page = desk.search_trail(archive.uow(), actor=AUDITOR, filters=filters)
        if page.next_before is not None and rng.random() < 0.5:  # and the next page, by keyset
            times.append(time.perf_counter() - started)
            started = time.perf_counter()
            desk.search_trail(archive.uow(), actor=AUDITOR, filters=filters, before=page.next_before)
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--writes", type=int, default=300, help="transactions per write round and mode")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--postgres", action="store_true", help="start a PostgreSQL server and use it")
    parser.add_argument("--no-fsync", action="store_true",
                        help="keep the test server's fsync=off (commits free: the chain's extra round trip "
                             "then dominates); by default the benchmark turns fsync and synchronous_commit on")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="audit-bench-"))
    server = None
    env = {"ARCHIVE_HOME": str(home)}
    if args.postgres:
        sys.path.insert(0, str(ROOT / "tests"))
        from servers import start_postgres

        server = start_postgres(Path(tempfile.mkdtemp(prefix="archive-pg-")))
        env["ARCHIVE_DATABASE_URL"] = server.create_database("audit_bench")
    archive = Archive(load_settings(env))
    try:
        archive.migrate()
        backend = archive.engine.dialect.name
        if server is not None and not args.no_fsync:  # durable commits, as in production
            with archive.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                    connection.execute(text(f"ALTER SYSTEM SET {setting} = on"))
                connection.execute(text("SELECT pg_reload_conf()"))
            archive.close()
            archive = Archive(load_settings(env))
        if server is not None:
            with archive.engine.connect() as connection:
                print("fsync", connection.execute(text("SHOW fsync")).scalar(), "synchronous_commit",
                      connection.execute(text("SHOW synchronous_commit")).scalar())
        print(f"backend {backend}; {args.events} events")
        plain, chained = [], []
        for _ in range(args.rounds):
            plain.append(write_rate(archive, args.writes, chained=False))
            chained.append(write_rate(archive, args.writes, chained=True))
        best_plain, best_chained = max(plain), max(chained)
        ratio = best_plain / best_chained
        paired = statistics.median(p / c for p, c in zip(plain, chained, strict=True))
        print(f"write: plain {best_plain:.0f} events/s, chained {best_chained:.0f} events/s (best rounds), cost "
              f"{ratio:.2f}x; median of the rounds' paired ratios {paired:.2f}x; rounds plain "
              f"{[round(p) for p in plain]} chained {[round(c) for c in chained]}")

        # The plain rows have no place in the chain; start the big trail from a clean table.
        archive.close()
        if server is None:
            shutil.rmtree(home)
            home.mkdir()
        else:
            env["ARCHIVE_DATABASE_URL"] = server.create_database("audit_bench_big")
        archive = Archive(load_settings(env))
        archive.migrate()
        started = time.perf_counter()
        bulk_load(archive, args.events)
        print(f"loaded {args.events} chained events in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        view = services.sign_checkpoint(archive.uow(), actor=CHECKPOINTER,
                                        signer=services.signer_for(archive.settings), interval_minutes=15)
        checkpoint_s = time.perf_counter() - started
        print(f"checkpoint {view.number} over {view.event_count} events in {checkpoint_s:.2f} s")

        started = time.perf_counter()
        report = services.verify_trail(archive.uow(), actor=AUDITOR,
                                       public_keys=[services.public_key_for(archive.settings)])
        verify_s = time.perf_counter() - started
        print(f"verify: {report.summary()} in {verify_s:.1f} s")

        times = sorted(desk_latencies(archive, args.queries))
        p50 = statistics.median(times) * 1000
        p95 = times[max(0, int(len(times) * 0.95) - 1)] * 1000
        print(f"desk: {len(times)} pages, p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {times[-1] * 1000:.1f} ms")

        verdicts = {
            f"chain write cost <= {TARGET_WRITE_RATIO}x plain": ratio <= TARGET_WRITE_RATIO,
            f"verify {args.events} events <= {TARGET_VERIFY_S:.0f} s (target is for 1,000,000)":
                verify_s <= TARGET_VERIFY_S and report.ok,
            f"desk filtered page p95 <= {TARGET_DESK_P95_MS:.0f} ms": p95 <= TARGET_DESK_P95_MS,
        }
        for what, ok in verdicts.items():
            print(f"{'PASS' if ok else 'FAIL'}  {what}")
        prefix = f"audit_{backend}"
        metrics = {
            f"{prefix}_plain_write_events_per_s": best_plain,
            f"{prefix}_chained_write_events_per_s": best_chained,
            f"{prefix}_checkpoint_s": checkpoint_s,
            f"{prefix}_verify_s": verify_s,
            f"{prefix}_verify_events_per_s": report.events_checked / verify_s,
            f"{prefix}_desk_p50_ms": p50,
            f"{prefix}_desk_p95_ms": p95,
            f"{prefix}_chain_write_cost_ratio": ratio,
        }
        for name, value in metrics.items():
            print(f"{name}: {value:.2f}")
        return 0
    finally:
        archive.close()
        if server is not None:
            server.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
