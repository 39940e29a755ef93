"""Backups restore whole on SQLite and PostgreSQL, copy each object once, keep the keyring apart, and the
restore drill fails when the backup is damaged."""

from __future__ import annotations

import base64
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from archive_fixtures import audit_rows, build_archive
from click.testing import CliRunner
from sqlalchemy import select

from archive.actors import OPERATOR, Actor
from archive.backup import services
from archive.backup.keyfile import KeyFileError
from archive.backup.layout import file_sha256
from archive.backup.permissions import BACKUP_OPERATOR
from archive.bootstrap import Archive
from archive.capture.services import CaptureRequest, capture_document
from archive.cli import cli
from archive.compliance.permissions import CHECKPOINTER
from archive.compliance.services import sign_checkpoint, signer_for
from archive.config import load_settings
from archive.demo.samples import write_scan
from archive.errors import AccessDenied, DocumentShreddedError
from archive.identity import resident_id_check_digit
from archive.models import Document, Page
from archive.permissions import permission_document_shred
from archive.services import documents, keys, shredding, users
from storage.base import DecryptionError
from storage.envelope import WrappedKey

ID_NUMBER = "11010519491231002" + resident_id_check_digit("11010519491231002")
PASSPHRASE = "correct horse battery staple"
RETENTION = Actor.system("test-retention", frozenset({permission_document_shred}))


# --- helpers ----------------------------------------------------------------------------------------


def capture(archive: Archive, actor: Actor, path: Path) -> int:
    request = CaptureRequest(path=path, customer=ID_NUMBER, customer_name="张三", document_type="supply_contract")
    return capture_document(archive.uow(), actor=actor, request=request).document_id


def original(archive: Archive, document_id: int) -> bytes:
    clerk = users.resolve_actor(archive.uow(), username="clerk", remote_addr="127.0.0.1")
    stream, _, _ = documents.open_original(archive.uow(), actor=clerk, document_id=document_id)
    with stream:
        return stream.read()


def object_keys(archive: Archive, document_id: int) -> list[str]:
    with archive.uow() as uow:
        document = uow.session.get(Document, document_id)
        assert document is not None
        pages = uow.session.scalars(select(Page.object_key).where(Page.document_id == document_id)).all()
        return [document.object_key, *pages]


def object_files(backup: Path) -> dict[str, int]:
    """The backup's object files (name: size), temporary ones excluded."""
    return {p.name: p.stat().st_size for p in (backup / "objects").glob("*/*") if not p.parent.name.startswith(".")}


@pytest.fixture
def scans(tmp_path: Path) -> list[Path]:
    return [write_scan(tmp_path / "contract.tif", [], format="TIFF", pages=[["供用电合同 第一页"], ["第二页"]], dpi=100),
            write_scan(tmp_path / "form.png", ["用电申请书"], format="PNG", dpi=100),
            write_scan(tmp_path / "notice.png", ["电费通知单"], format="PNG", dpi=100)]


@pytest.fixture
def paths(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "safe").mkdir()
    return {"backup": tmp_path / "backup", "keyring": tmp_path / "safe" / "keyring.sealed"}


@pytest.fixture
def target(request: pytest.FixtureRequest, archive: Archive, tmp_path: Path) -> Iterator[Archive]:
    """An empty archive to restore into, on the same kind of database as `archive`."""
    env = {"ARCHIVE_HOME": str(tmp_path / "restored")}
    name = None
    if archive.settings.database_url.startswith("postgresql"):
        server = request.getfixturevalue("postgres_server")
        name = f"r_{uuid.uuid4().hex[:16]}"
        env["ARCHIVE_DATABASE_URL"] = server.create_database(name)
    restored = Archive(load_settings(env))
    yield restored
    restored.close()
    if name:
        server.drop_database(name)


def sign(archive: Archive) -> None:
    sign_checkpoint(archive.uow(), actor=CHECKPOINTER, signer=signer_for(archive.settings), interval_minutes=15)


def back_up(archive: Archive, paths: dict[str, Path], **options: object) -> services.BackupReport:
    return services.create_backup(archive.uow(), actor=BACKUP_OPERATOR, destination=paths["backup"],
                                  keyring_out=paths["keyring"], passphrase=PASSPHRASE, **options)  # type: ignore[arg-type]


def restore(target: Archive, paths: dict[str, Path], **options: object) -> services.RestoreReport:
    return services.restore_backup(target.settings, actor=BACKUP_OPERATOR, source=paths["backup"],
                                   keyring_path=paths["keyring"], passphrase=PASSPHRASE, **options)  # type: ignore[arg-type]


def drill(archive: Archive, paths: dict[str, Path]) -> services.DrillReport:
    return services.verify_backup(archive.uow(), actor=BACKUP_OPERATOR, source=paths["backup"],
                                  keyring_path=paths["keyring"], passphrase=PASSPHRASE)


# --- round trip -------------------------------------------------------------------------------------


def test_a_backup_restores_into_an_empty_archive_with_every_document_readable_and_the_index_rebuilt(
        archive, people, scans, paths, target):
    ids = [capture(archive, people["clerk"], scan) for scan in scans[:2]]
    sign(archive)
    originals = {i: original(archive, i) for i in ids}

    report = back_up(archive, paths)
    restored = restore(target, paths)

    assert report.objects == 2 + 3 and report.objects_copied == 5 and report.missing == []
    assert restored.ok and restored.objects_restored == 5 and restored.documents_indexed == 2
    assert restored.index == "rebuilt from the database (2 documents)"
    assert {i: original(target, i) for i in ids} == originals
    [created] = audit_rows(archive, "backup.created")
    assert created.actor_name == "system:cli-backup" and created.target_id == report.snapshot
    assert created.detail["objects_copied"] == 5 and created.detail["keyring_file"] == str(paths["keyring"])
    [event] = audit_rows(target, "backup.restored")
    assert event.outcome == "ok" and event.target_id == report.snapshot and event.detail["index"] == "rebuilt"


def test_the_backup_holds_no_key_material_and_the_sealed_keyring_file_is_private(archive, people, scans, paths):
    capture(archive, people["clerk"], scans[1])
    back_up(archive, paths)

    master_keys, lookup_key = archive.keyring.to_env()
    secrets_ = [base64.b64decode(entry.split(":", 1)[1]) for entry in master_keys.split(",")]
    secrets_.append(base64.b64decode(lookup_key))
    secrets_ += [base64.b64encode(s) for s in secrets_]
    for path in [*paths["backup"].rglob("*"), paths["keyring"]]:
        if path.is_file():
            data = path.read_bytes()
            assert not any(secret in data for secret in secrets_), path
    assert paths["keyring"].stat().st_mode & 0o777 == 0o600
    snapshot = next((paths["backup"] / "snapshots").iterdir())
    assert json.loads((snapshot / "index.json").read_text())["included"] is False
    assert {p.name for p in snapshot.iterdir()} == {"database.sqlite" if "sqlite" in archive.settings.database_url
                                                     else "database.pgdump", "manifest.jsonl", "index.json", "meta.json"}


# --- the drill --------------------------------------------------------------------------------------


def test_the_drill_passes_on_a_healthy_archive_with_a_shredded_document(archive, people, scans, paths):
    kept, shredded = (capture(archive, people["clerk"], scan) for scan in scans[:2])
    shredding.shred_document(archive.uow(), actor=RETENTION, document_id=shredded, reason="disposal 2026-01")
    sign(archive)
    back_up(archive, paths)

    report = drill(archive, paths)

    assert report.ok, report.problems
    assert report.fixity is not None and report.fixity.documents_checked == 1 and report.fixity.objects_checked == 3
    assert report.audit is not None and report.audit.ok and report.audit.checkpoints_checked == 1
    assert report.shredded_checked == 1 and report.shred_problems == []
    [event] = audit_rows(archive, "backup.verified")
    assert event.outcome == "ok" and event.detail["shredded_checked"] == 1
    assert original(archive, kept)  # the live archive is untouched


def test_the_drill_fails_and_names_the_object_when_one_in_the_backup_is_corrupted(archive, people, scans, paths):
    document_id = capture(archive, people["clerk"], scans[1])
    sign(archive)
    back_up(archive, paths)
    manifest = {json.loads(line)["key"]: json.loads(line)["sha256"] for line in
                next((paths["backup"] / "snapshots").iterdir()).joinpath("manifest.jsonl").read_text().splitlines()}
    key = object_keys(archive, document_id)[0]
    damaged = paths["backup"] / "objects" / manifest[key][:2] / manifest[key]
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged.write_bytes(bytes(data))

    report = drill(archive, paths)

    assert not report.ok
    assert [(p.kind, p.key) for p in report.restore.problems] == [("corrupted", key)]
    assert report.fixity is not None and [(p.kind, p.object_key) for p in report.fixity.problems] == [("missing", key)]
    assert any(key in problem for problem in report.problems)
    [event] = audit_rows(archive, "backup.verified")
    assert event.outcome == "failed"


def test_the_drill_command_exits_1_on_a_damaged_backup_and_0_on_a_healthy_one(archive, people, scans, paths,
                                                                              tmp_path):
    capture(archive, people["clerk"], scans[1])
    sign(archive)
    secret = tmp_path / "safe" / "passphrase"
    secret.write_text(PASSPHRASE + "\n")
    runner = CliRunner()
    created = runner.invoke(cli, ["backup", str(paths["backup"]), "--keyring-out", str(paths["keyring"]),
                                  "--passphrase-file", str(secret)], obj={"archive": archive})
    assert created.exit_code == 0, created.output
    assert "copied 2 new" in created.output and PASSPHRASE not in created.output
    arguments = ["backup", "verify", str(paths["backup"]), "--keyring", str(paths["keyring"]),
                 "--passphrase-file", str(secret)]

    healthy = runner.invoke(cli, arguments, obj={"archive": archive})
    for path in (paths["backup"] / "objects").glob("*/*"):
        path.write_bytes(b"rot" + path.read_bytes()[3:])
    damaged = runner.invoke(cli, arguments, obj={"archive": archive})

    assert healthy.exit_code == 0 and "drill passed" in healthy.output, healthy.output
    assert damaged.exit_code == 1 and "drill FAILED" in damaged.output and "corrupted" in damaged.output


def test_a_capture_committed_while_the_objects_are_copied_is_left_out_whole_and_the_drill_passes(
        archive, people, scans, paths, monkeypatch):
    kept = capture(archive, people["clerk"], scans[1])
    sign(archive)
    late: list[int] = []
    copy_database = services.database.copy_database

    def then_a_capture_commits(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        copied = copy_database(*args, **kwargs)
        late.append(capture(archive, people["clerk"], scans[2]))
        return copied

    monkeypatch.setattr(services.database, "copy_database", then_a_capture_commits)
    report = back_up(archive, paths)
    monkeypatch.undo()

    manifest = (paths["backup"] / "snapshots" / report.snapshot / "manifest.jsonl").read_text()
    assert late and report.objects == 2 and report.missing == []
    assert all(key in manifest for key in object_keys(archive, kept))
    assert not any(key in manifest for key in object_keys(archive, late[0]))
    assert drill(archive, paths).ok  # no orphans: the copy and its objects are one moment


# --- shredding --------------------------------------------------------------------------------------


def test_a_shredded_document_stays_undecryptable_in_the_restored_copy(archive, people, scans, paths, target):
    kept, shredded = (capture(archive, people["clerk"], scan) for scan in scans[:2])
    shredded_keys = object_keys(archive, shredded)
    shredding.shred_document(archive.uow(), actor=RETENTION, document_id=shredded, reason="disposal 2026-01")
    report = back_up(archive, paths)

    restore(target, paths)

    assert report.objects == 3  # the kept document's original and two pages only
    assert original(target, kept) == original(archive, kept)
    with pytest.raises(DocumentShreddedError):
        original(target, shredded)
    with target.uow() as uow:
        row = uow.session.get(Document, shredded)
        assert row is not None and row.is_shredded
        wrapped = WrappedKey(row.key_id, row.cipher, row.wrapped_key)
    with pytest.raises(DecryptionError):
        target.keyring.unwrap(wrapped)
    assert not any(target.object_store.exists(key) for key in shredded_keys)


def test_the_shredding_check_reports_a_shredded_document_whose_key_text_or_objects_came_back(
        archive, people, scans, paths, target):
    kept, shredded = (capture(archive, people["clerk"], scan) for scan in scans[:2])
    shredding.shred_document(archive.uow(), actor=RETENTION, document_id=shredded, reason="disposal 2026-01")
    back_up(archive, paths)
    restore(target, paths)
    assert services._check_shredded(target) == (1, [])
    with target.uow() as uow:
        alive = uow.session.get(Document, kept)
        dead = uow.session.get(Document, shredded)
        assert alive is not None and dead is not None
        dead.wrapped_key = alive.wrapped_key  # as if the copy had kept the key
        dead.pages[0].ocr_text = "用电申请书"
        uow.commit()
        prefix = dead.object_key.rsplit("/", 1)[0]
    target.object_store.put(f"{prefix}/original", io.BytesIO(b"left behind"))

    checked, problems = services._check_shredded(target)

    assert checked == 1
    assert [p.split(" but ", 1)[1] for p in problems] == [
        "still holds a wrapped data key", f"its data key unwraps under master key {target.keyring.active_id}",
        "1 of its pages still hold OCR text", "1 of its objects were restored"]


# --- incremental ------------------------------------------------------------------------------------


def test_a_second_backup_copies_only_the_new_objects_and_a_third_none(archive, people, scans, paths):
    capture(archive, people["clerk"], scans[0])
    first = back_up(archive, paths)
    files = object_files(paths["backup"])
    added = capture(archive, people["clerk"], scans[1])
    new_keys = object_keys(archive, added)

    second = back_up(archive, paths)
    third = back_up(archive, paths)
    rotten = next(p for p in (paths["backup"] / "objects").glob("*/*") if not p.parent.name.startswith("."))
    rotten.write_bytes(b"\0" + rotten.read_bytes()[1:])  # same size: only a rehash can tell
    rehashed = back_up(archive, paths, rehash=True)

    new_sizes = {info.key: info.size for info in archive.object_store.list("documents/") if info.key in new_keys}
    assert (first.objects, first.objects_copied) == (3, 3)
    assert (second.objects, second.objects_copied, second.objects_unchanged) == (5, 2, 3)
    assert second.bytes_copied == second.bytes_read == sum(new_sizes.values())
    assert len(object_files(paths["backup"])) == len(files) + 2
    assert (third.objects_copied, third.bytes_copied, third.bytes_read) == (0, 0, 0)
    assert (rehashed.objects_copied, rehashed.bytes_copied, rehashed.objects_unchanged) == (1, rotten.stat().st_size, 4)
    assert rehashed.bytes_read == rehashed.bytes and file_sha256(rotten) == rotten.name
    assert len(list((paths["backup"] / "snapshots").iterdir())) == 4


def test_pruning_keeps_the_newest_snapshots_and_drops_the_objects_only_older_ones_listed(archive, people, scans,
                                                                                         paths, target):
    first, second = (capture(archive, people["clerk"], scan) for scan in scans[:2])
    back_up(archive, paths)  # holds both documents (and the first one's data key)
    shredding.shred_document(archive.uow(), actor=RETENTION, document_id=first, reason="disposal 2026-01")
    back_up(archive, paths)
    latest = back_up(archive, paths)
    before = object_files(paths["backup"])

    report = services.prune_backups(archive.uow(), actor=BACKUP_OPERATOR, destination=paths["backup"], keep=1)

    assert report.kept == [latest.snapshot] and len(report.removed) == 2
    assert report.objects_removed == 3 and len(object_files(paths["backup"])) == len(before) - 3 == 2
    assert report.bytes_freed == sum(before.values()) - sum(object_files(paths["backup"]).values())
    assert restore(target, paths).ok and original(target, second) == original(archive, second)
    [event] = audit_rows(archive, "backup.pruned")
    assert event.detail["removed"] == report.removed and event.detail["objects_removed"] == 3


def test_a_backup_refuses_a_destination_another_backup_holds(archive, paths):
    with services.BackupDirectory(paths["backup"]).locked(), pytest.raises(services.BackupLayoutError,
                                                                            match="another backup"):
        back_up(archive, paths)
    assert not paths["keyring"].exists()


# --- refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["backup", "home"])
def test_the_keyring_file_is_refused_inside_the_backup_or_the_archive_home(archive, paths, where):
    folder = paths["backup"] if where == "backup" else archive.settings.home
    keyring_out = folder / "keys" / "keyring.sealed"

    with pytest.raises(services.BackupError, match="must not lie inside"):
        services.create_backup(archive.uow(), actor=BACKUP_OPERATOR, destination=paths["backup"],
                               keyring_out=keyring_out, passphrase=PASSPHRASE)

    assert not keyring_out.exists() and not (paths["backup"] / "snapshots").exists()
    assert audit_rows(archive, "backup.created") == []


def test_a_wrong_passphrase_is_a_clear_error_and_nothing_is_restored(archive, people, scans, paths, target,
                                                                     tmp_path):
    capture(archive, people["clerk"], scans[1])
    back_up(archive, paths)

    with pytest.raises(KeyFileError, match="wrong passphrase"):
        services.restore_backup(target.settings, actor=BACKUP_OPERATOR, source=paths["backup"],
                                keyring_path=paths["keyring"], passphrase="not the passphrase at all")
    wrong = tmp_path / "safe" / "wrong"
    wrong.write_text("not the passphrase at all\n")
    result = CliRunner().invoke(cli, ["restore", str(paths["backup"]), "--keyring", str(paths["keyring"]),
                                      "--passphrase-file", str(wrong)], obj={"archive": target})

    assert result.exit_code == 2 and "error: wrong passphrase for the keyring file" in result.output
    assert not target.settings.home.exists()


def test_a_keyring_file_from_before_a_rotation_is_refused_for_a_later_snapshot_by_name(archive, people, scans,
                                                                                        paths, target, tmp_path):
    capture(archive, people["clerk"], scans[1])
    back_up(archive, paths)
    old_keyring = paths["keyring"].with_name("before-rotation.sealed")
    paths["keyring"].rename(old_keyring)
    keys.rotate_master_key(archive.uow(), actor=OPERATOR)
    capture(archive, people["clerk"], scans[2])
    back_up(archive, paths)

    with pytest.raises(services.BackupError, match="lacks master key.*k2"):
        services.restore_backup(target.settings, actor=BACKUP_OPERATOR, source=paths["backup"],
                                keyring_path=old_keyring, passphrase=PASSPHRASE)
    assert not target.settings.home.exists()
    assert restore(target, paths).ok


def test_restore_refuses_an_archive_that_is_not_empty_unless_forced(archive, people, scans, paths, target):
    document_id = capture(archive, people["clerk"], scans[1])
    back_up(archive, paths)
    restore(target, paths)

    with pytest.raises(services.BackupError, match="refusing to restore over an existing archive"):
        restore(target, paths)
    again = restore(target, paths, force=True)

    assert again.ok and original(target, document_id) == original(archive, document_id)


def test_a_too_short_passphrase_and_an_actor_without_the_permission_are_refused(archive, paths):
    with pytest.raises(KeyFileError, match="at least 12"):
        services.create_backup(archive.uow(), actor=BACKUP_OPERATOR, destination=paths["backup"],
                               keyring_out=paths["keyring"], passphrase="short")
    with pytest.raises(AccessDenied):
        services.create_backup(archive.uow(), actor=CHECKPOINTER, destination=paths["backup"],
                               keyring_out=paths["keyring"], passphrase=PASSPHRASE)
    assert not paths["keyring"].exists() and not paths["backup"].exists()


# --- the scale-out store ----------------------------------------------------------------------------


def test_an_archive_on_s3_backs_up_passes_the_drill_and_restores_into_another_bucket(s3_server, scans, paths,
                                                                                     tmp_path):
    def on_s3(home: Path, bucket: str) -> dict[str, str]:
        return {"ARCHIVE_HOME": str(home), "ARCHIVE_STORAGE": "s3", "ARCHIVE_S3_ENDPOINT": s3_server["endpoint"],
                "ARCHIVE_S3_ACCESS_KEY": s3_server["access_key"], "ARCHIVE_S3_SECRET_KEY": s3_server["secret_key"],
                "ARCHIVE_S3_BUCKET": bucket}

    build_archive(tmp_path / "home").close()
    live = Archive(load_settings(on_s3(tmp_path / "home", f"live-{uuid.uuid4().hex[:8]}")))
    clerk = users.resolve_actor(live.uow(), username="clerk")
    document_id = capture(live, clerk, scans[1])
    sign(live)
    report = back_up(live, paths)
    target = Archive(load_settings(on_s3(tmp_path / "restored", f"restored-{uuid.uuid4().hex[:8]}")))

    drilled = drill(live, paths)
    restored = restore(target, paths)

    assert report.objects == report.objects_copied == 2
    assert drilled.ok, drilled.problems
    assert restored.ok and not (tmp_path / "restored" / "objects").exists()
    assert sorted(i.key for i in target.object_store.list()) == sorted(i.key for i in live.object_store.list())
    assert original(target, document_id) == original(live, document_id)
    live.close()
    target.close()


@pytest.mark.postgres
def test_a_postgresql_drill_uses_the_scratch_database_given_and_a_missing_target_database_is_a_clear_error(
        postgres_server, scans, paths, tmp_path):
    live_name, scratch_name = f"l_{uuid.uuid4().hex[:16]}", f"s_{uuid.uuid4().hex[:16]}"
    live = build_archive(tmp_path / "home", postgres_server.create_database(live_name))
    scratch_url = postgres_server.create_database(scratch_name)
    try:
        clerk = users.resolve_actor(live.uow(), username="clerk")
        capture(live, clerk, scans[1])
        sign(live)
        back_up(live, paths)

        report = services.verify_backup(live.uow(), actor=BACKUP_OPERATOR, source=paths["backup"],
                                        keyring_path=paths["keyring"], passphrase=PASSPHRASE,
                                        scratch_database_url=scratch_url)
        missing = Archive(load_settings({"ARCHIVE_HOME": str(tmp_path / "nowhere"),
                                         "ARCHIVE_DATABASE_URL": postgres_server.url_for("no_such_database")}))
        with pytest.raises(services.BackupError, match="cannot reach the database"):
            restore(missing, paths)

        assert report.ok, report.problems
        scratch = Archive(load_settings({"ARCHIVE_HOME": str(tmp_path / "scratch"), "ARCHIVE_DATABASE_URL": scratch_url}))
        with scratch.uow() as uow:  # restored there, and left for the operator to drop
            assert len(uow.session.scalars(select(Document.id)).all()) == 1
        scratch.close()
    finally:
        live.close()
        postgres_server.drop_database(live_name)
        postgres_server.drop_database(scratch_name)
