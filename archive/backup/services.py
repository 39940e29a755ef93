"""Back up, restore, and the restore drill.

A backup copies the database first (one consistent moment, `database.copy_database`), then the
objects that moment's documents reference, each into the content-addressed object folder of the
destination unless it is already there: the stored objects are encrypted already and are copied as
they are, in chunks. An object whose key, size and last-modified time match the previous snapshot's
manifest is not even read again (`rehash` reads every one). Objects written after the database copy
(a capture finishing meanwhile) belong to no document of the copy and are left out, as are the objects
a shredding left behind. The keyring and the audit signing key go into a passphrase-sealed file kept
apart (`keyfile`). The search index is not copied: a restore rebuilds it from the database.

A restore puts the database back, writes the keys, copies every object back checking its hash (an
object that does not match is not restored and is reported), migrates, rebuilds the search index and
records `backup.restored` in the restored archive. The drill restores into a scratch ARCHIVE_HOME and
runs fixity and the audit verification there, and checks that no shredded document's data key can be
recovered from the copy.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from archive import access, audit
from archive.actors import Actor
from archive.backup import database
from archive.backup.events import (
    event_backup_created,
    event_backup_pruned,
    event_backup_restored,
    event_backup_verified,
)
from archive.backup.keyfile import (
    KeyFileError,
    KeyMaterial,
    check_passphrase,
    open_keys,
    seal_keys,
)
from archive.backup.layout import (
    INDEX_NOTE,
    MANIFEST,
    PUBLIC_KEY,
    BackupDirectory,
    BackupLayoutError,
    HashingReader,
    ManifestEntry,
    Snapshot,
    file_sha256,
    snapshot_name,
)
from archive.backup.permissions import permission_backup_create, permission_backup_restore
from archive.bootstrap import Archive
from archive.compliance.services import verify_trail
from archive.compliance.signing import PublicKey, Signer, public_key_path
from archive.compliance.verify import Report as AuditReport
from archive.config import Settings, load_settings
from archive.errors import ValidationError
from archive.models import Document, Page, PageVersion
from archive.services import indexing
from archive.services.integrity import DOCUMENTS, object_prefix, verify_archive
from archive.unit_of_work import UnitOfWork
from archive.views import FixityReport
from storage.base import DecryptionError, ObjectNotFoundError
from storage.envelope import Keyring, WrappedKey, keyed_hash, write_private

Progress = Callable[[str, int, int], None]  # (step, done, in all): "copy", "restore", "index", "fixity"
LOOKUP_CHECK = "archive-backup/lookup-key-check"  # hashed under the lookup key: which archive a keyring is
INDEX_REBUILT = {
    "included": False,
    "restore": "rebuilt from the database",
    "why": "the index holds nothing the database lacks (redacted text, keyed hashes); rebuilding it is "
           "`archive reindex`, which a restore runs",
}


class BackupError(ValidationError):
    """A backup or restore refused or could not finish (the message says why)."""


@dataclass(frozen=True)
class BackupReport:
    snapshot: str
    destination: str
    database: str  # sqlite | postgresql
    objects: int  # in the snapshot's manifest
    bytes: int
    objects_copied: int  # new in the destination
    bytes_copied: int
    objects_unchanged: int  # already there, by the previous manifest or by hash
    bytes_read: int  # of the object store
    missing: list[str]  # referenced by the database copy but gone from the store before they were copied


@dataclass(frozen=True)
class RestoreProblem:
    kind: str  # missing | corrupted
    key: str
    detail: str


@dataclass(frozen=True)
class RestoreReport:
    snapshot: str
    database: str
    objects_restored: int
    bytes_restored: int
    documents_indexed: int
    index: str  # what happened to the search index
    problems: list[RestoreProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class DrillReport:
    snapshot: str
    restore: RestoreReport
    fixity: FixityReport | None
    audit: AuditReport | None
    shredded_checked: int
    shred_problems: list[str]
    problems: list[str]  # every failure, one line each

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        fixity = self.fixity
        return {
            "ok": self.ok, "snapshot": self.snapshot, "problems": self.problems,
            "restore": {"objects_restored": self.restore.objects_restored, "index": self.restore.index,
                        "documents_indexed": self.restore.documents_indexed,
                        "problems": [vars(p) for p in self.restore.problems]},
            "fixity": None if fixity is None else {"ok": fixity.ok, "documents_checked": fixity.documents_checked,
                                                   "objects_checked": fixity.objects_checked,
                                                   "problems": [vars(p) for p in fixity.problems]},
            "audit": None if self.audit is None else self.audit.as_json(),
            "shredded_checked": self.shredded_checked, "shred_problems": self.shred_problems,
        }


def _step(progress: Progress | None, step: str) -> Callable[[int, int], None] | None:
    """A service's progress(done, total) callback feeding one step of ours."""
    if progress is None:
        return None
    return lambda done, total: progress(step, done, total)


# --- back up ---------------------------------------------------------------------------------------


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _data_folders(settings: Settings) -> list[Path]:
    folders = [settings.home, settings.index_path]
    if settings.storage == "filesystem":
        folders.append(settings.storage_path)
    return folders


def create_backup(uow: UnitOfWork, *, actor: Actor, destination: Path, keyring_out: Path, passphrase: str,
                  progress: Progress | None = None, rehash: bool = False) -> BackupReport:
    """Write a snapshot into `destination` and the sealed keyring file to `keyring_out`.

    `rehash` reads every object again, and checks the copies already in the destination against their hash
    (replacing a damaged one), instead of trusting the previous manifest. Requires permission_backup_create;
    audited as backup.created. Raises BackupError when the keyring file
    would lie inside the destination or the archive's data, or the destination inside the archive's data;
    KeyFileError for a passphrase too short.
    """
    settings = uow.settings
    destination, keyring_out = Path(destination).absolute(), Path(keyring_out).absolute()
    with uow:
        access.require(actor, permission_backup_create)
        engine = uow.session.get_bind()
    if database.kind_of(settings.database_url) == "sqlite" and not database.sqlite_path(settings.database_url).exists():
        raise BackupError(f"no archive database at {settings.database_url}: nothing to back up")
    if _inside(keyring_out, destination):
        raise BackupError(f"the keyring file {keyring_out} must not lie inside the backup {destination}: "
                          "keep it apart from the data (another disk, a safe)")
    for folder in _data_folders(settings):
        if _inside(keyring_out, folder):
            raise BackupError(f"the keyring file {keyring_out} must not lie inside the archive's data ({folder})")
        if _inside(destination, folder):
            raise BackupError(f"the backup {destination} must not lie inside the archive's data ({folder})")
    check_passphrase(passphrase)
    # The key file, not this process's copy, is the truth: another process may have rotated since.
    keyring = Keyring.load(settings.key_file) if not settings.master_keys and settings.key_file.exists() else uow.keyring
    signing_key = (json.loads(settings.audit_signing_key_file.read_text(encoding="utf-8"))
                   if settings.audit_signing_key_file.is_file() else None)
    target = BackupDirectory(destination)
    with target.locked():
        report = _write_snapshot(uow, target, engine=engine, keyring=keyring, signing_key=signing_key,
                                 keyring_out=keyring_out, passphrase=passphrase, progress=progress, rehash=rehash)
    with uow:
        audit.record(uow.session, actor, event_backup_created, outcome="failed" if report.missing else "ok",
                     target_type="backup", target_id=report.snapshot, destination=str(destination),
                     keyring_file=str(keyring_out), database=report.database, objects=report.objects,
                     bytes=report.bytes, objects_copied=report.objects_copied, bytes_copied=report.bytes_copied,
                     missing=len(report.missing))
        uow.commit()
    return report


def _write_snapshot(uow: UnitOfWork, target: BackupDirectory, *, engine: Engine, keyring: Keyring,
                    signing_key: dict[str, Any] | None, keyring_out: Path, passphrase: str,
                    progress: Progress | None, rehash: bool) -> BackupReport:
    settings = uow.settings
    previous = _previous_manifest(target)
    started = datetime.now(UTC)
    name = snapshot_name(started)
    folder = target.new_snapshot(name)
    try:
        copied_database = database.copy_database(engine, settings.database_url, folder)
        database_file, prefixes = copied_database.file, copied_database.prefixes
        lacking = sorted(copied_database.key_ids - set(keyring.key_ids))
        if lacking:
            raise BackupError(f"the keyring lacks master key(s) {', '.join(lacking)} that documents use: "
                              "the key file changed under this process; run the backup again")
        counts = {"objects": 0, "bytes": 0, "copied": 0, "bytes_copied": 0, "unchanged": 0, "bytes_read": 0}
        missing: list[str] = []
        wanted = [info for info in uow.object_store.list("")
                  if not info.key.startswith(DOCUMENTS) or object_prefix(info.key) in prefixes]
        with open(folder / MANIFEST, "wb") as manifest:
            for done, info in enumerate(wanted, 1):
                modified = info.modified.isoformat() if info.modified else None
                known = previous.get(info.key)
                if (not rehash and known is not None and modified is not None and known.modified == modified
                        and known.size == info.size and target.has_object(known.sha256, known.size)):
                    entry = known
                    counts["unchanged"] += 1
                else:
                    try:
                        with uow.object_store.open(info.key) as stream:
                            sha256, size, copied = target.add_object(stream, check_existing=rehash)
                    except ObjectNotFoundError:
                        missing.append(info.key)
                        continue
                    entry = ManifestEntry(info.key, sha256, size, modified)
                    counts["bytes_read"] += size
                    if copied:
                        counts["copied"] += 1
                        counts["bytes_copied"] += size
                    else:
                        counts["unchanged"] += 1
                manifest.write(entry.line())
                counts["objects"] += 1
                counts["bytes"] += entry.size
                if progress:
                    progress("copy", done, len(wanted))
        (folder / INDEX_NOTE).write_text(json.dumps(INDEX_REBUILT, indent=1) + "\n", encoding="utf-8")
        files = [database_file, MANIFEST, INDEX_NOTE]
        public = public_key_path(settings.audit_signing_key_file)
        if public.is_file():
            shutil.copyfile(public, folder / PUBLIC_KEY)
            files.append(PUBLIC_KEY)
        meta = {
            "format": "archive-backup/1", "name": name, "created_at": started.isoformat(),
            "database": database.kind_of(settings.database_url), "database_file": database_file,
            "files": {f: {"sha256": file_sha256(folder / f), "size": (folder / f).stat().st_size} for f in files},
            "objects": counts["objects"], "bytes": counts["bytes"], "missing": missing,
            "key_ids_in_use": sorted(copied_database.key_ids), "lookup_check": keyed_hash(LOOKUP_CHECK, keyring),
            "keyring_file": str(keyring_out), "index": "rebuilt on restore",
            "settings": {"storage": settings.storage, "search": settings.search, "cipher": settings.cipher,
                         "audit_signing": signing_key["algorithm"] if signing_key else None},
        }
        write_private(keyring_out, seal_keys(KeyMaterial(keyring, signing_key), passphrase))
        target.commit_snapshot(folder, meta)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return BackupReport(name, str(target.root), meta["database"], counts["objects"], counts["bytes"],
                        counts["copied"], counts["bytes_copied"], counts["unchanged"], counts["bytes_read"], missing)


@dataclass(frozen=True)
class PruneReport:
    kept: list[str]
    removed: list[str]
    objects_removed: int
    bytes_freed: int


def prune_backups(uow: UnitOfWork, *, actor: Actor, destination: Path, keep: int) -> PruneReport:
    """Remove all but the newest `keep` snapshots, then every object no remaining snapshot lists.

    A snapshot taken before a document was shredded still holds its wrapped data key: pruning it (within
    the retention schedule's grace period) is what makes the shredding reach the backups. Requires
    permission_backup_create; audited as backup.pruned.
    """
    if keep < 1:
        raise BackupError("keep at least one snapshot")
    with uow:
        access.require(actor, permission_backup_create)
    target = BackupDirectory(destination)
    with target.locked():
        names = target.snapshots()
        kept, removed = names[-keep:], names[:-keep]
        # Read first: a kept manifest that cannot be read stops the prune before anything is removed.
        listed = {entry.sha256 for name in kept for entry in target.snapshot(name).manifest()}
        for name in removed:
            target.remove_snapshot(name)
        objects_removed = bytes_freed = 0
        for path in target.object_files():
            if path.name not in listed:
                bytes_freed += path.stat().st_size
                path.unlink()
                objects_removed += 1
    with uow:
        audit.record(uow.session, actor, event_backup_pruned, target_type="backup", target_id=kept[-1] if kept else "",
                     destination=str(target.root), kept=kept, removed=removed, objects_removed=objects_removed, bytes_freed=bytes_freed)
        uow.commit()
    return PruneReport(kept, removed, objects_removed, bytes_freed)


def _previous_manifest(target: BackupDirectory) -> dict[str, ManifestEntry]:
    """The newest snapshot's manifest by key: what need not be read again."""
    if not target.snapshots():
        return {}
    try:
        return {entry.key: entry for entry in target.snapshot().manifest()}
    except (BackupLayoutError, ValueError, KeyError):
        return {}  # a damaged last manifest: read every object again


# --- restore ---------------------------------------------------------------------------------------


def open_keyring_file(path: Path, passphrase: str) -> KeyMaterial:
    """Open the sealed keyring file; raises KeyFileError (wrong passphrase, not such a file)."""
    try:
        payload = Path(path).read_bytes()
    except OSError as error:
        raise KeyFileError(f"cannot read the keyring file {path}: {error.strerror}") from None
    return open_keys(payload, passphrase)


def _check_keys(snapshot: Snapshot, keyring: Keyring, what: str = "the keyring file") -> None:
    """The keyring is the snapshot's archive's and holds every master key its documents use."""
    if keyed_hash(LOOKUP_CHECK, keyring) != snapshot.meta.get("lookup_check"):
        raise BackupError(f"{what} does not belong to the archive of snapshot {snapshot.name} "
                          "(its lookup key differs)")
    lacking = sorted(set(snapshot.meta.get("key_ids_in_use", ())) - set(keyring.key_ids))
    if lacking:
        raise BackupError(f"{what} lacks master key(s) {', '.join(lacking)} that snapshot {snapshot.name} "
                          "uses: take the keyring file written with that backup (or a later one)")


def _not_empty(archive: Archive) -> list[str]:
    """What already lives where the restore would write."""
    settings, found = archive.settings, []
    if settings.home.is_dir() and any(settings.home.iterdir()):
        found.append(f"ARCHIVE_HOME {settings.home} is not empty")
    for path, what in ((settings.key_file, "the key file"), (settings.audit_signing_key_file, "the signing key")):
        if path.exists() and not path.is_relative_to(settings.home):
            found.append(f"{what} {path} exists")
    if database.kind_of(settings.database_url) == "postgresql":
        try:
            if not database.database_is_empty(archive.engine):
                found.append("the PostgreSQL database has tables")
        except OperationalError as error:
            raise BackupError(f"cannot reach the database ARCHIVE_DATABASE_URL names (create it first): "
                              f"{error.orig}") from None
    elsewhere = settings.storage == "s3" or not settings.storage_path.is_relative_to(settings.home)
    if elsewhere and next(iter(archive.object_store.list("")), None) is not None:
        found.append("the object store holds objects")
    return found


def restore_backup(settings: Settings, *, actor: Actor, source: Path, keyring_path: Path, passphrase: str,
                   snapshot: str | None = None, force: bool = False, progress: Progress | None = None) -> RestoreReport:
    """Restore snapshot `snapshot` (default the newest) of the backup at `source` into the archive `settings`
    describe, which must be empty unless `force`.

    Requires permission_backup_restore; audited as backup.restored in the restored archive. Raises KeyFileError
    (wrong passphrase), BackupError (not empty, a keyring of another archive, a database of the other kind),
    NotFoundError (no such snapshot).
    """
    access.require(actor, permission_backup_restore)
    chosen = BackupDirectory(source).snapshot(snapshot)
    material = open_keyring_file(keyring_path, passphrase)
    return _restore(settings, actor=actor, snapshot=chosen, material=material, force=force, progress=progress)


def _restore(settings: Settings, *, actor: Actor, snapshot: Snapshot, material: KeyMaterial, force: bool,
             progress: Progress | None) -> RestoreReport:
    _check_keys(snapshot, material.keyring)
    kind = snapshot.meta["database"]
    if database.kind_of(settings.database_url) != kind:
        raise BackupError(f"snapshot {snapshot.name} holds a {kind} database; ARCHIVE_DATABASE_URL names a "
                          f"{database.kind_of(settings.database_url)} one")
    archive = Archive(settings)
    try:
        occupied = _not_empty(archive)
        if occupied and not force:
            raise BackupError(f"refusing to restore over an existing archive: {'; '.join(occupied)} "
                              "(restore into an empty one, or --force)")
        if settings.master_keys:  # keys from the environment: they must be the backed-up archive's
            _check_keys(snapshot, archive.keyring, "ARCHIVE_MASTER_KEYS/ARCHIVE_LOOKUP_KEY")
        dump = snapshot.file(snapshot.meta["database_file"])
        if "engine" in archive.__dict__:  # the emptiness check connected: let pg_restore have the database
            archive.engine.dispose()
        database.restore_database(settings.database_url, dump, clean=force)
        _write_keys(archive, material)
        archive.migrate()
        restored, restored_bytes, problems = _restore_objects(archive, snapshot, progress)
        indexed = indexing.reindex(archive.uow(), progress=_step(progress, "index"))
        index = f"rebuilt from the database ({indexed} documents)"
        with archive.uow() as uow:
            audit.record(uow.session, actor, event_backup_restored, outcome="failed" if problems else "ok",
                         target_type="backup", target_id=snapshot.name, source=str(snapshot.folder.parent.parent),
                         objects_restored=restored, problems=len(problems), index="rebuilt",
                         documents_indexed=indexed)
            uow.commit()
        return RestoreReport(snapshot.name, kind, restored, restored_bytes, indexed, index, problems)
    finally:
        archive.close()


def _write_keys(archive: Archive, material: KeyMaterial) -> None:
    settings = archive.settings
    if not settings.master_keys:
        write_private(settings.key_file, material.keyring.to_bytes())
    signing = material.audit_signing_key
    if signing:
        write_private(settings.audit_signing_key_file, json.dumps(signing).encode("utf-8"))
        public = Signer(signing["algorithm"], signing["private_key"],
                        PublicKey(signing["algorithm"], signing["public_key"])).public
        public_key_path(settings.audit_signing_key_file).write_text(json.dumps(public.as_json()) + "\n",
                                                                     encoding="utf-8")


def _restore_objects(archive: Archive, snapshot: Snapshot,
                     progress: Progress | None) -> tuple[int, int, list[RestoreProblem]]:
    """Copy every object of the manifest back, hashing it on the way; one that does not match is removed."""
    backup = BackupDirectory(snapshot.folder.parent.parent)
    store = archive.object_store
    total = int(snapshot.meta.get("objects", 0))
    restored = restored_bytes = 0
    problems: list[RestoreProblem] = []
    for done, entry in enumerate(snapshot.manifest(), 1):
        try:
            with backup.open_object(entry.sha256) as stream:
                reader = HashingReader(stream)
                store.put(entry.key, reader)  # type: ignore[arg-type]
        except FileNotFoundError:
            problems.append(RestoreProblem("missing", entry.key, f"object {entry.sha256} is not in the backup"))
        else:
            if reader.sha256.hexdigest() != entry.sha256 or reader.size != entry.size:
                store.delete(entry.key)
                problems.append(RestoreProblem("corrupted", entry.key,
                                               f"the backup's copy does not match SHA-256 {entry.sha256}; "
                                               "not restored"))
            else:
                restored += 1
                restored_bytes += reader.size
        if progress:
            progress("restore", done, max(total, done))
    return restored, restored_bytes, problems


# --- the drill -------------------------------------------------------------------------------------


@contextmanager
def _scratch_database(kind: str, live_url: str, given: str | None) -> Iterator[str | None]:
    """None for SQLite (a file in the scratch home); for PostgreSQL the given URL, else a database created
    for the drill on the live archive's server and dropped afterwards."""
    if kind == "sqlite":
        yield None
        return
    if given:
        yield given
        return
    if database.kind_of(live_url) != "postgresql":
        raise BackupError("a PostgreSQL snapshot needs a server to restore into: give --scratch-database-url "
                          "(an empty database)")
    url = make_url(live_url)
    name = f"archive_drill_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        except SQLAlchemyError as error:
            raise BackupError("cannot create a scratch database for the drill on ARCHIVE_DATABASE_URL's server "
                              f"({getattr(error, 'orig', error)}): give --scratch-database-url (an empty database)"
                              ) from None
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def verify_backup(uow: UnitOfWork, *, actor: Actor, source: Path, keyring_path: Path, passphrase: str,
                  snapshot: str | None = None, scratch_database_url: str | None = None,
                  progress: Progress | None = None, record: bool = True) -> DrillReport:
    """The restore drill: restore into a scratch ARCHIVE_HOME, run fixity and the audit verification there,
    and check that every shredded document stays undecryptable; the scratch copy is removed afterwards.

    `uow` is the live archive's: its PostgreSQL server hosts a scratch database when none is given, and
    the drill is audited there as backup.verified (when `record`). Requires permission_backup_restore.
    """
    access.require(actor, permission_backup_restore)
    chosen = BackupDirectory(source).snapshot(snapshot)
    material = open_keyring_file(keyring_path, passphrase)
    _check_keys(chosen, material.keyring)
    home = Path(tempfile.mkdtemp(prefix="archive-drill-"))
    try:
        with _scratch_database(chosen.meta["database"], uow.settings.database_url, scratch_database_url) as url:
            env = {"ARCHIVE_HOME": str(home / "home")}
            if url:
                env["ARCHIVE_DATABASE_URL"] = url
            if material.audit_signing_key:
                env["ARCHIVE_AUDIT_SIGNING"] = material.audit_signing_key["algorithm"]
            settings = load_settings(env)
            restored = _restore(settings, actor=actor, snapshot=chosen, material=material, force=False,
                                progress=progress)
            report = _drill(settings, actor=actor, snapshot=chosen, material=material, restored=restored,
                            progress=progress)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if record:
        _record_drill(uow, actor, report)
    return report


def _drill(settings: Settings, *, actor: Actor, snapshot: Snapshot, material: KeyMaterial,
           restored: RestoreReport, progress: Progress | None) -> DrillReport:
    archive = Archive(settings)
    try:
        problems = [f"restore: {p.kind} {p.key}: {p.detail}" for p in restored.problems]
        problems += [f"backup: {key} was referenced but missing from the store when backed up"
                     for key in snapshot.meta.get("missing", ())]
        fixity = verify_archive(archive.uow(), actor=actor, progress=_step(progress, "fixity"))
        problems += [f"fixity: {p.kind} {p.object_key} ({p.archive_code or '-'}): {p.detail}" for p in fixity.problems]
        trail = None
        if material.audit_signing_key:
            key = PublicKey(material.audit_signing_key["algorithm"], material.audit_signing_key["public_key"])
            trail = verify_trail(archive.uow(), actor=actor, public_keys=[key])
            problems += [f"audit: {p.kind} at seq {p.seq}: {p.message}" for p in trail.problems]
        else:
            problems.append("audit: the keyring file holds no audit signing key: the trail cannot be verified")
        checked, shred_problems = _check_shredded(archive)
        problems += [f"shredding: {p}" for p in shred_problems]
        return DrillReport(snapshot.name, restored, fixity, trail, checked, shred_problems, problems)
    finally:
        archive.close()


def _check_shredded(archive: Archive) -> tuple[int, list[str]]:
    """Every shredded document of the restored copy: no wrapped data key left (none that unwraps under any
    master key of the restored keyring), no text drawn from its content, and none of its objects restored."""
    problems: list[str] = []
    with archive.uow() as uow:
        rows = uow.session.execute(select(Document.id, Document.archive_code, Document.cipher,
                                          Document.wrapped_key, Document.object_key)
                                   .where(Document.is_shredded)).all()
        texts: dict[int, int] = {}
        for table in (Page, PageVersion):
            for document_id, count in uow.session.execute(
                    select(table.document_id, func.count()).join(Document, Document.id == table.document_id)
                    .where(Document.is_shredded, table.ocr_text.is_not(None)).group_by(table.document_id)):
                texts[document_id] = texts.get(document_id, 0) + count
    for row in rows:
        name = f"document {row.id} ({row.archive_code}) is shredded but"
        wrapped = bytes(row.wrapped_key or b"")
        if wrapped:
            problems.append(f"{name} still holds a wrapped data key")
            for key_id in archive.keyring.key_ids:
                try:
                    archive.keyring.unwrap(WrappedKey(key_id, row.cipher, wrapped))
                except (DecryptionError, ValueError):
                    continue
                problems.append(f"{name} its data key unwraps under master key {key_id}")
        if texts.get(row.id):
            problems.append(f"{name} {texts[row.id]} of its pages still hold OCR text")
        left = [info.key for info in archive.object_store.list(object_prefix(row.object_key) + "/")]
        if left:
            problems.append(f"{name} {len(left)} of its objects were restored")
    return len(rows), problems


def _record_drill(uow: UnitOfWork, actor: Actor, report: DrillReport) -> None:
    """Audit the drill in the live archive, unless there is none here (a drill on another host)."""
    url = uow.settings.database_url
    if database.kind_of(url) == "sqlite" and not database.sqlite_path(url).exists():
        return
    with uow:
        audit.record(uow.session, actor, event_backup_verified, outcome="ok" if report.ok else "failed",
                     target_type="backup", target_id=report.snapshot, problems=len(report.problems),
                     first_problem=report.problems[0] if report.problems else "",
                     documents_checked=report.fixity.documents_checked if report.fixity else 0,
                     shredded_checked=report.shredded_checked)
        uow.commit()
