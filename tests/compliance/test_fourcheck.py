"""The four-property check 四性检测 (DA/T 70): a clean archive passes; a record made to fail each check is
reported with the check's property and hint; the run is stored, audited, exportable, and guards filing
and handover. On SQLite and PostgreSQL; the virus scan against a real clamd started here."""

from __future__ import annotations

import io
import json
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from PIL import Image, PngImagePlugin
from sqlalchemy import select

from archive.actors import OPERATOR, Actor
from archive.bootstrap import Archive
from archive.capture.services import CaptureRequest, capture_document
from archive.cli import cli
from archive.compliance import checks, fourcheck
from archive.compliance.checks import BY_NAME, CHECKS
from archive.compliance.clamd import scan_bytes
from archive.compliance.fourcheck_export import export_report
from archive.compliance.models import FourCheckRun
from archive.demo.samples import write_scan
from archive.errors import AccessDenied, ValidationError
from archive.identity import resident_id_check_digit
from archive.models import Document, Page
from archive.services import users
from archive.services.filing import file_documents
from retention.services import transfers
from storage.envelope import WrappedKey

try:
    from tests.archive_fixtures import PASSWORD, audit_rows, downgrade
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from archive_fixtures import PASSWORD, audit_rows, downgrade

ID_NUMBER = "11010519491231002" + resident_id_check_digit("11010519491231002")
OTHER_ID = "11010519800101001" + resident_id_check_digit("11010519800101001")
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
CLAMD = shutil.which("clamd") or ("/usr/sbin/clamd" if Path("/usr/sbin/clamd").exists() else None)


def capture(archive: Archive, actor: Actor, tmp_path: Path, name: str, document_type: str,
            customer: str = ID_NUMBER, path: Path | None = None) -> int:
    path = path or write_scan(tmp_path / f"{name}.png", [f"{name} 用电申请书 第{len(name)}页"], format="PNG", dpi=100)
    result = capture_document(archive.uow(), actor=actor, request=CaptureRequest(
        path=path, filename=path.name, customer=customer, customer_name="张伟", document_type=document_type,
        document_date=date.today()))
    recognised(archive, result.document_id)
    return result.document_id


def recognised(archive: Archive, document_id: int) -> None:
    """Mark the pages read (OCR itself is tested elsewhere)."""
    with archive.uow() as uow:
        document = uow.session.get(Document, document_id)
        for page in document.pages:
            page.ocr_status, page.ocr_text = "done", "用电申请书"
        document.refresh_status()
        uow.commit()


@pytest.fixture
def clean(archive: Archive, people: dict[str, Actor], tmp_path: Path) -> dict[str, int]:
    """One customer whose file holds every document its business process requires."""
    return {kind: capture(archive, people["clerk"], tmp_path, kind, kind)
            for kind in ("application_form", "supply_contract", "id_copy")}


def run(archive: Archive, actor: Actor, **scope: object) -> fourcheck.FourCheckReport:
    return fourcheck.run_fourcheck(archive.uow(), actor=actor, scope=fourcheck.CheckScope(**scope))  # type: ignore[arg-type]


def change(archive: Archive, document_id: int, **values: object) -> None:
    with archive.uow() as uow:
        document = uow.session.get(Document, document_id)
        for name, value in values.items():
            setattr(document, name, value)
        uow.commit()


def change_page(archive: Archive, document_id: int, number: int, **values: object) -> None:
    with archive.uow() as uow:
        page = uow.session.scalar(select(Page).where(Page.document_id == document_id, Page.number == number))
        for name, value in values.items():
            setattr(page, name, value)
        uow.commit()


def keys_of(archive: Archive, document_id: int) -> tuple[str, str, bytes]:
    """(original key, page 1 image key, data key) of a document."""
    with archive.uow() as uow:
        document = uow.session.get(Document, document_id)
        data_key = uow.keyring.unwrap(WrappedKey(document.key_id, document.cipher, document.wrapped_key))
        return document.object_key, document.pages[0].object_key, data_key


def replace_object(archive: Archive, key: str, data: bytes, data_key: bytes) -> None:
    """Store other plaintext under the key, encrypted properly: only the content changed."""
    with archive.uow() as uow:
        uow.store.put(key, io.BytesIO(data), data_key=data_key)


def found(report: fourcheck.FourCheckReport, name: str) -> list[checks.Problem]:
    return [p for p in report.problems if p.check == name]


def test_every_check_is_named_with_a_property_a_severity_and_a_hint() -> None:
    assert len({c.name for c in CHECKS}) == len(CHECKS)
    for check in CHECKS:
        assert check.property in checks.PROPERTIES and check.severity in (checks.ERROR, checks.WARNING)
        assert check.hint and check.description
    assert {c.property for c in CHECKS} == set(checks.PROPERTIES)


def test_a_clean_archive_passes_every_check_and_the_run_is_stored_and_audited(archive, people, clean):
    report = run(archive, people["auditor"])
    assert report.problems == [] and report.ok
    assert report.documents_checked == 3
    assert report.counts == {p: {"passed": 3, "failed": 0, "problems": 0} for p in checks.PROPERTIES}
    with archive.uow() as uow:
        row = uow.session.get(FourCheckRun, report.run_id)
        assert (row.trigger, row.actor_name, row.ok, row.documents_checked) == ("full", "auditor", True, 3)
    event = audit_rows(archive, "fourcheck.completed")[-1]
    assert (event.actor_name, event.outcome, event.target_id) == ("auditor", "ok", str(report.run_id))


# Each case breaks one thing of the application form and names the check that must report it.
def _page_replaced_by_other_image(archive: Archive, ids: dict[str, int], tmp_path: Path) -> None:
    _, page_key, data_key = keys_of(archive, ids["application_form"])
    other = write_scan(tmp_path / "other.png", ["另一页"], format="PNG", dpi=100).read_bytes()
    replace_object(archive, page_key, other, data_key)


def _page_ciphertext_damaged(archive: Archive, ids: dict[str, int], tmp_path: Path) -> None:
    _, page_key, _ = keys_of(archive, ids["application_form"])
    with archive.object_store.open(page_key) as stream:
        data = bytearray(stream.read())
    data[len(data) // 2] ^= 0xFF
    archive.object_store.put(page_key, io.BytesIO(bytes(data)))


def _page_image_not_an_image(archive: Archive, ids: dict[str, int], tmp_path: Path) -> None:
    _, page_key, data_key = keys_of(archive, ids["application_form"])
    replace_object(archive, page_key, b"\x89PNG\r\n\x1a\n" + b"\0" * 200, data_key)


def _page_object_deleted(archive: Archive, ids: dict[str, int], tmp_path: Path) -> None:
    _, page_key, _ = keys_of(archive, ids["application_form"])
    archive.object_store.delete(page_key)


def _item_number_gap(archive: Archive, ids: dict[str, int], tmp_path: Path) -> None:
    with archive.uow() as uow:
        document = uow.session.get(Document, ids["application_form"])
        document.archive_code = document.archive_code.rpartition("-")[0] + "-0009"
        uow.commit()


def _plaintext_id_in_the_title(archive: Archive, ids: dict[str, int], tmp_path: Path) -> None:
    change(archive, ids["application_form"], title=f"张伟 {ID_NUMBER} 用电申请书")


CASES: dict[str, tuple[str, Callable[[Archive, dict[str, int], Path], None]]] = {
    "content_hash": ("authenticity", _page_replaced_by_other_image),
    "metadata_matches_content": ("authenticity", lambda a, ids, _: change(a, ids["application_form"],
                                                                          media_type="image/jpeg")),
    "capture_audited": ("authenticity", lambda a, ids, _: change(a, ids["application_form"],
                                                                 content_sha256="0" * 64)),
    "required_metadata": ("integrity", lambda a, ids, _: change(a, ids["application_form"], title="")),
    "document_date": ("integrity", lambda a, ids, _: change(a, ids["application_form"], document_date=None)),
    "pages_present": ("integrity", _page_object_deleted),
    "item_numbers_gapless": ("integrity", _item_number_gap),
    "decrypts_and_renders": ("usability", _page_ciphertext_damaged),
    "ocr_text": ("usability", lambda a, ids, _: change_page(a, ids["application_form"], 1, ocr_status="failed",
                                                            ocr_error=None)),
    "format_allowed": ("security", lambda a, ids, _: change(a, ids["application_form"],
                                                            media_type="application/x-msdownload")),
    "live_key": ("security", lambda a, ids, _: change(a, ids["application_form"], key_id="k9")),
    "no_plaintext_pii": ("security", _plaintext_id_in_the_title),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_record_made_to_fail_a_check_is_reported_with_its_property_and_hint(archive, people, clean, tmp_path,
                                                                              name):
    prop, breaks = CASES[name]
    breaks(archive, clean, tmp_path)
    report = run(archive, people["auditor"])
    problems = found(report, name)
    assert problems, [p.sentence() for p in report.problems]
    problem = problems[0]
    assert (problem.property, problem.severity, problem.hint) == (prop, BY_NAME[name].severity, BY_NAME[name].hint)
    if name != "item_numbers_gapless":
        assert problem.document_id == clean["application_form"]
    else:
        assert "0001" in problem.detail and problem.subject.endswith("-YX")
    assert report.ok is (BY_NAME[name].severity == checks.WARNING)
    if BY_NAME[name].severity == checks.ERROR and problem.document_id:
        assert report.counts[prop]["failed"] == 1 and report.counts[prop]["passed"] == 2


def test_an_image_that_does_not_decode_is_a_usability_problem(archive, people, clean, tmp_path):
    _page_image_not_an_image(archive, clean, tmp_path)
    problems = found(run(archive, people["auditor"]), "decrypts_and_renders")
    assert problems and "does not render" in problems[0].detail and problems[0].property == "usability"


def test_a_customer_lacking_a_required_document_is_reported_as_a_warning(archive, people, clean, tmp_path):
    capture(archive, people["clerk"], tmp_path, "lonely", "application_form", customer=OTHER_ID)
    report = run(archive, people["auditor"])
    [problem] = found(report, "required_documents_present")
    assert (problem.property, problem.severity) == ("integrity", "warning")
    assert "supply_contract" in problem.detail and "id_copy" in problem.detail
    assert report.ok  # a warning does not fail the run


def test_an_unknown_classification_or_retention_is_a_security_problem(archive, people, clean):
    with archive.uow() as uow:
        rows = uow.session.execute(checks.record_query().where(Document.id == clean["id_copy"])).all()
        record = checks.load_records(uow.session, rows)[0]
        env = checks.environment(uow)
    problems = checks.evaluate(replace(record, classification=None, retention="forever"), None, env)
    found = [p for p in problems if p.check == "classification_retention"]
    assert [p.property for p in found] == ["security", "security"]
    assert "None" in found[0].detail and "forever" in found[1].detail


def test_the_scope_limits_the_run_to_a_department_an_archive_code_prefix_or_a_date(archive, people, clean):
    assert run(archive, people["auditor"], department="KF").documents_checked == 0
    assert run(archive, people["auditor"], department="YX").documents_checked == 3
    with archive.uow() as uow:
        code = uow.session.get(Document, clean["id_copy"]).archive_code
    assert run(archive, people["auditor"], archive_code_prefix=code).documents_checked == 1
    assert run(archive, people["auditor"], since=date(date.today().year + 1, 1, 1)).documents_checked == 0


def test_only_the_auditor_and_the_records_manager_run_and_read_the_check(archive, people, clean):
    manager = records_manager(archive)
    for name in ("clerk", "staff", "approver", "admin"):
        with pytest.raises(AccessDenied):
            run(archive, people[name])
        with pytest.raises(AccessDenied):
            fourcheck.list_reports(archive.uow(), actor=people[name])
    with archive.uow() as uow:
        assert uow.session.scalars(select(FourCheckRun)).all() == []
    assert [d.detail["permission"] for d in audit_rows(archive, "access.denied")] == ["fourcheck.run",
                                                                                      "fourcheck.view"] * 4
    report = run(archive, manager)
    assert fourcheck.get_report(archive.uow(), actor=people["auditor"], run_id=report.run_id).actor_name == "records"


def records_manager(archive: Archive) -> Actor:
    users.create_user(archive.uow(), actor=OPERATOR, username="records", password=PASSWORD, role="records_manager",
                      department="YX", clearance="secret")
    return users.resolve_actor(archive.uow(), username="records", remote_addr="127.0.0.1")


def test_filing_refuses_a_document_failing_a_check_and_stores_the_filing_run(archive, people, clean, tmp_path):
    broken = clean["application_form"]
    _page_object_deleted(archive, clean, tmp_path)
    with archive.uow() as uow:
        codes = {i: uow.session.get(Document, i).archive_code for i in clean.values()}
    result = file_documents(archive.uow(), actor=people["clerk"], archive_codes=list(codes.values()))
    assert sorted(result.filed) == sorted(codes[i] for i in clean.values() if i != broken)
    assert "integrity/pages_present" in result.refused[codes[broken]]
    assert "rescan the missing pages" in result.refused[codes[broken]]
    with archive.uow() as uow:
        runs = uow.session.scalars(select(FourCheckRun).where(FourCheckRun.trigger == "filing")).all()
        assert len(runs) == 3 and {r.actor_name for r in runs} == {"clerk"}
        assert sum(not r.ok for r in runs) == 1


def test_a_handover_runs_the_check_and_refuses_records_that_fail_it(archive, people, clean, tmp_path):
    manager = records_manager(archive)
    with archive.uow() as uow:
        codes = {i: uow.session.get(Document, i).archive_code for i in clean.values()}
    file_documents(archive.uow(), actor=people["clerk"], archive_codes=list(codes.values()))
    change(archive, clean["supply_contract"], key_id="k9")  # its key is gone from the keyring
    with pytest.raises(ValidationError, match="security/live_key"):
        transfers.send_transfer(archive.uow(), actor=manager, archive_codes=list(codes.values()), to_department="KF")
    assert audit_rows(archive, "retention.transfer_sent") == []
    good = [codes[clean["application_form"]], codes[clean["id_copy"]]]
    transfer_id = transfers.send_transfer(archive.uow(), actor=manager, archive_codes=good, to_department="KF")
    sent = audit_rows(archive, "retention.transfer_sent")[-1]
    with archive.uow() as uow:
        run_row = uow.session.get(FourCheckRun, sent.detail["fourcheck_run"])
        assert (run_row.trigger, run_row.ok, run_row.documents_checked) == ("transfer", True, 2)
    assert transfer_id


def test_the_report_exports_as_pdf_with_a_chinese_font_and_as_excel(archive, people, clean, tmp_path):
    change(archive, clean["id_copy"], document_date=None)
    report = run(archive, people["auditor"])
    pdf, xlsx = tmp_path / "report.pdf", tmp_path / "report.xlsx"
    export_report(archive.uow(), actor=people["auditor"], run_id=report.run_id, path=pdf, format="pdf")
    export_report(archive.uow(), actor=people["auditor"], run_id=report.run_id, path=xlsx, format="xlsx")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and b"/FontFile2" in data  # the CJK font embedded
    book = load_workbook(xlsx)
    summary = [row for row in book["汇总 Summary"].iter_rows(values_only=True)]
    assert ("完整性 integrity", 3, 0, 1) in summary and "auditor" in summary[1][0]
    problems = list(book["问题 Problems"].iter_rows(values_only=True))
    assert problems[1][1] == "document_date" and problems[1][6] == BY_NAME["document_date"].hint
    assert [e.detail["format"] for e in audit_rows(archive, "fourcheck.report_exported")] == ["pdf", "xlsx"]
    with pytest.raises(AccessDenied):
        export_report(archive.uow(), actor=people["staff"], run_id=report.run_id, path=pdf, format="pdf")


def test_the_cli_runs_the_check_with_a_scope_exports_it_and_exits_1_on_a_failure(archive, people, clean, tmp_path):
    archive.settings = archive.settings.with_overrides(cli_trusted=True)
    runner = CliRunner()
    pdf, xlsx = tmp_path / "c.pdf", tmp_path / "c.xlsx"
    result = runner.invoke(cli, ["check", "--department", "YX", "--pdf", str(pdf), "--xlsx", str(xlsx),
                                 "--as", "auditor"], obj={"archive": archive})
    assert result.exit_code == 0, result.output
    assert "checked 3 documents" in result.output and pdf.exists() and xlsx.exists()
    change(archive, clean["supply_contract"], media_type="application/x-msdownload")
    result = runner.invoke(cli, ["check", "--json", "--as", "auditor"], obj={"archive": archive})
    assert result.exit_code == 1
    body = json.loads(result.output)
    assert {p["check"] for p in body["problems"]} >= {"format_allowed"} and body["ok"] is False
    result = runner.invoke(cli, ["check", "list", "--as", "auditor"], obj={"archive": archive})
    assert result.exit_code == 0 and len(result.output.strip().splitlines()) == 2
    result = runner.invoke(cli, ["check", "export", str(body["run_id"]), "--out", str(tmp_path / "again.xlsx"),
                                 "--as", "auditor"], obj={"archive": archive})
    assert result.exit_code == 0 and (tmp_path / "again.xlsx").exists()
    result = runner.invoke(cli, ["check", "checks"], obj={"archive": archive})
    assert len(result.output.strip().splitlines()) == len(CHECKS)
    result = runner.invoke(cli, ["check", "--as", "staff"], obj={"archive": archive})
    assert result.exit_code == 3


def test_migration_0011_goes_down_and_up(archive):  # noqa: ANN001 - SQLite and PostgreSQL
    from sqlalchemy import inspect

    downgrade(archive, "0010")
    with archive.engine.connect() as connection:
        assert "fourcheck_run" not in inspect(connection).get_table_names()
    archive.migrate()
    with archive.engine.connect() as connection:
        assert "fourcheck_run" in inspect(connection).get_table_names()


# --- the virus scan, against a real clamd ------------------------------------------------------------


@pytest.fixture(scope="module")
def clamd() -> Iterator[str]:
    """clamd from Debian (clamav-daemon), started here on a unix socket with one signature, the EICAR
    test string (no signature download: the machines have no internet)."""
    if CLAMD is None:
        pytest.skip("clamd is not installed (scripts/install-system-deps.sh installs clamav-daemon)")
    folder = Path(tempfile.mkdtemp(prefix="clamd-"))
    (folder / "db").mkdir()
    (folder / "db" / "eicar.ndb").write_text(f"Archive.Test.EICAR:0:*:{EICAR.hex()}\n")
    socket_path = folder / "clamd.sock"
    (folder / "clamd.conf").write_text(f"DatabaseDirectory {folder / 'db'}\nLocalSocket {socket_path}\n"
                                       f"Foreground yes\nLogFile {folder / 'clamd.log'}\nStreamMaxLength 100M\n")
    process = subprocess.Popen([CLAMD, "-c", str(folder / "clamd.conf")], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.socket(socket.AF_UNIX) as probe:
                    probe.connect(str(socket_path))
                    probe.sendall(b"zPING\0")
                    if probe.recv(16).startswith(b"PONG"):
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"clamd did not start: {(folder / 'clamd.log').read_text(errors='replace')}")
            time.sleep(0.2)
        yield f"unix:{socket_path}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def test_clamd_finds_the_eicar_string_and_passes_a_clean_scan(clamd):
    assert scan_bytes(clamd, EICAR).signature.startswith("Archive.Test.EICAR")
    assert scan_bytes(clamd, b"a plain page").clean


def test_an_original_carrying_the_eicar_string_fails_the_virus_check(archive, people, clean, tmp_path, clamd):
    archive.settings = archive.settings.with_overrides(clamd=clamd)
    assert run(archive, people["auditor"]).ok  # clean originals pass the scan too
    infected = tmp_path / "infected.png"
    image = Image.open(write_scan(tmp_path / "plain.png", ["合同"], format="PNG", dpi=100))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", EICAR.decode())
    image.save(infected, pnginfo=info)
    document_id = capture(archive, people["clerk"], tmp_path, "infected", "supply_contract", customer=OTHER_ID,
                          path=infected)
    report = run(archive, people["auditor"])
    [problem] = found(report, "virus_free")
    assert (problem.document_id, problem.property, problem.hint) == (document_id, "security", BY_NAME["virus_free"].hint)
    assert "Archive.Test.EICAR" in problem.detail


def test_an_unreachable_clamd_is_reported_not_ignored(archive, people, clean, tmp_path):
    archive.settings = archive.settings.with_overrides(clamd=f"unix:{tmp_path / 'nobody.sock'}")
    problems = found(run(archive, people["auditor"]), "virus_free")
    assert len(problems) == 3 and all("not scanned" in p.detail for p in problems)


def test_a_page_whose_png_structure_is_damaged_is_found_without_decoding_it(tmp_path):
    buffer = io.BytesIO()
    Image.open(write_scan(tmp_path / "p.png", ["第一页"], format="PNG", dpi=100)).save(buffer, "PNG")
    data = buffer.getvalue()
    assert checks._png_structure(data) == ""
    flipped = bytearray(data)
    flipped[60] ^= 0x01
    assert "CRC" in checks._png_structure(bytes(flipped))
    assert "cut short" in checks._png_structure(data[:len(data) // 2])
    assert "IEND" in checks._png_structure(data[:-12])


def test_the_clamd_address_is_a_unix_socket_or_a_host_and_port():
    from archive.compliance.clamd import parse_address

    assert parse_address("unix:/run/clamav/clamd.ctl") == (socket.AF_UNIX, "/run/clamav/clamd.ctl")
    assert parse_address("/tmp/c.sock") == (socket.AF_UNIX, "/tmp/c.sock")
    assert parse_address("tcp://127.0.0.1:3310") == (socket.AF_INET, ("127.0.0.1", 3310))
    assert parse_address("localhost:3310") == (socket.AF_INET, ("localhost", 3310))
    with pytest.raises(ValueError, match="ARCHIVE_CLAMD"):
        parse_address("clamd")
