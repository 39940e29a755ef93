"""The `archive` command end to end, as an operator and a clerk would use it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli import cli
from archive.demo.samples import write_scan
from archive.identity import uscc_check_char

CREDIT_CODE = "91110108MA01ABCD1" + uscc_check_char("91110108MA01ABCD1")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    # A trusted host: `--as USER` needs no credential here (tests/security/test_cli_actor.py covers the rest).
    values = {"ARCHIVE_HOME": str(tmp_path / "home"), "ARCHIVE_ADMIN_PASSWORD": "admin-password-1",
              "ARCHIVE_CLI_TRUSTED": "1"}
    if request.param == "postgres":
        values["ARCHIVE_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    return values


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def initialised(env: dict[str, str]) -> dict[str, str]:
    assert run(env, "init")[0] == 0
    assert run(env, "department", "add", "YX", "营销部")[0] == 0
    assert run(env, "department", "add", "KF", "客服中心")[0] == 0
    for name, role, dept in (("clerk", "clerk", "YX"), ("staff", "staff", "YX"), ("other", "staff", "KF")):
        code, out = run(env, "user", "add", name, "--role", role, "--department", dept, "--password", "pass-word-one-1")
        assert code == 0, out
    return env


def test_init_is_idempotent_and_keeps_the_master_key_private(env):
    code, out = run(env, "init")
    assert code == 0 and "admin user 'admin'" in out
    code, out = run(env, "init")
    assert code == 0 and "admin user" not in out
    key_file = Path(env["ARCHIVE_HOME"]) / "keys" / "master.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_ingest_wait_then_search_json_finds_the_document_by_a_word_and_the_credit_code(initialised, tmp_path):
    scan = tmp_path / "licence.pdf"
    write_scan(scan, ["营业执照", "名称 北京华电科技有限公司", "经营范围 电力技术开发"], format="PDF")
    code, out = run(initialised, "ingest", str(scan), "--customer", CREDIT_CODE, "--customer-name",
                    "北京华电科技有限公司", "--type", "business_licence", "--as", "clerk", "--wait")
    assert code == 0, out
    assert "captured" in out

    code, out = run(initialised, "search", "执照", "--as", "staff", "--json")
    hits = json.loads(out)
    assert code == 0 and len(hits) == 1
    assert {"document_id", "archive_code", "title", "customer", "snippet"} <= hits[0].keys()
    assert hits[0]["customer"] == "北京华电科技有限公司"
    assert json.loads(run(initialised, "search", CREDIT_CODE, "--as", "staff", "--json")[1])[0]["document_id"] == \
        hits[0]["document_id"]
    assert json.loads(run(initialised, "search", "执照", "--as", "other", "--json")[1]) == []


def test_ingest_refuses_a_bad_file_with_a_clear_message_and_keeps_going(initialised, tmp_path):
    good, bad = tmp_path / "good.png", tmp_path / "bad.png"
    write_scan(good, ["用电申请书"], format="PNG")
    bad.write_bytes(b"not an image")
    code, out = run(initialised, "ingest", str(bad), str(good), "--customer", CREDIT_CODE, "--customer-name",
                    "华电", "--type", "application_form", "--as", "clerk", "--json")
    results = json.loads(out)
    assert code == 1
    assert "unsupported" in results[0]["error"] and results[1]["archive_code"]


def test_ingest_without_a_named_person_is_refused(initialised, tmp_path):
    scan = tmp_path / "a.png"
    write_scan(scan, ["用电申请书"], format="PNG")
    code, out = run(initialised, "ingest", str(scan), "--customer", CREDIT_CODE, "--type", "application_form")
    assert code != 0 and "--as" in out


def test_a_malformed_setting_gives_a_one_line_error_naming_it(tmp_path):
    env = {**os.environ, "ARCHIVE_HOME": str(tmp_path), "ARCHIVE_STORAGE": "floppy"}
    result = subprocess.run([sys.executable, "-m", "archive", "init"], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: ARCHIVE_STORAGE='floppy' is not one of filesystem, s3"
    ]


def test_help_explains_every_command():
    code, out = run({}, "--help")
    for command in ("init", "user", "serve", "worker", "ingest", "search", "demo", "reindex"):
        assert command in out


def test_ingest_wait_names_a_document_whose_ocr_failed_and_ocr_rerun_recovers_it_after_the_fix(initialised, tmp_path):
    scan = tmp_path / "form.png"
    write_scan(scan, ["用电申请书", "申请容量 8千瓦"], format="PNG")
    broken = {**initialised, "ARCHIVE_OCR_LANGUAGES": "nosuchlanguage"}
    code, out = run(broken, "ingest", str(scan), "--customer", CREDIT_CODE, "--customer-name", "华电", "--type",
                    "application_form", "--as", "clerk", "--wait", "--json")
    [result] = json.loads(out)
    assert code == 1
    assert result["status"] == "failed" and result["pages_failed"] == 1
    assert result["failure_reason"].startswith("page 1: tesseract failed") and "nosuchlanguage" in out
    code, out = run(broken, "ocr", "rerun", result["archive_code"], "--as", "clerk", "--wait")
    assert code == 1 and f"failed {result['archive_code']}: page 1: tesseract failed" in out

    code, out = run(initialised, "ocr", "rerun", "--status", "failed", "--as", "clerk", "--wait")
    assert code == 0, out
    assert "queued 1 pages of 1 documents for OCR (chi_sim+eng)" in out and "recognised 1 documents, 0 failed" in out
    assert json.loads(run(initialised, "search", "申请", "--as", "staff", "--json")[1])[0]["archive_code"] == \
        result["archive_code"]
    code, out = run(initialised, "ocr", "rerun", "--status", "failed", "--as", "clerk", "--json")
    assert code == 0 and json.loads(out) == {"pages_queued": 0, "documents": []}


def test_ingest_wait_prints_the_failure_reason_in_plain_output(initialised, tmp_path):
    scan = tmp_path / "form.png"
    write_scan(scan, ["用电申请书"], format="PNG")
    code, out = run({**initialised, "ARCHIVE_OCR_LANGUAGES": "nosuchlanguage"}, "ingest", str(scan), "--customer",
                    CREDIT_CODE, "--customer-name", "华电", "--type", "application_form", "--as", "clerk", "--wait")
    assert code == 1 and "captured" in out
    assert "OCR: 100%" in out and "1/1" in out  # the progress bar counts a failed page as finished
    assert "failed Z001-" in out and ": page 1: tesseract failed" in out


def test_ocr_rerun_needs_a_named_person_a_selection_and_the_permission(initialised, tmp_path):
    scan = tmp_path / "a.png"
    write_scan(scan, ["用电申请书"], format="PNG")
    code, out = run(initialised, "ingest", str(scan), "--customer", CREDIT_CODE, "--customer-name", "华电",
                    "--type", "application_form", "--as", "clerk", "--json")
    archive_code = json.loads(out)[0]["archive_code"]
    code, out = run(initialised, "ocr", "rerun", archive_code)
    assert code == 2 and "--as" in out
    code, out = run(initialised, "ocr", "rerun", "--as", "clerk")
    assert code == 2 and "error: choose the documents" in out
    code, out = run(initialised, "ocr", "rerun", archive_code, "--as", "staff")
    assert code == 3 and "access denied: document.reprocess" in out
    code, out = run(initialised, "ocr", "rerun", archive_code, "--as", "clerk", "--json")
    assert code == 0 and json.loads(out)["pages_queued"] == 1


def test_help_describes_ocr_rerun():
    assert "ocr" in run({}, "--help")[1]
    code, out = run({}, "ocr", "rerun", "--help")
    assert code == 0
    for option in ("--all", "--status", "--rescan-needed", "--as", "--wait", "ARCHIVE_OCR_LANGUAGES"):
        assert option in out


def test_ocr_read_prints_each_page_of_a_pdf_and_stores_nothing(tmp_path):
    scan = tmp_path / "contract.pdf"
    write_scan(scan, [], format="PDF", pages=[["供用电合同", "合同编号 HT-2024-0107"],
                                             ["POWER SUPPLY AGREEMENT", "This agreement is made in Beijing"]])
    env = {"ARCHIVE_HOME": str(tmp_path / "home")}

    code, out = run(env, "ocr", "read", str(scan), "--json")

    assert code == 0, out
    pages = json.loads(out)
    assert [page["number"] for page in pages] == [1, 2]
    assert "供用电合同" in pages[0]["text"] and "HT-2024-0107" in pages[0]["text"]
    assert "POWER SUPPLY AGREEMENT" in pages[1]["text"]
    assert pages[1]["languages"] == "eng" and pages[0]["languages"] == "chi_sim+eng"
    assert all(page["layout"] in ("lines", "columns", "table") and page["confidence"] > 60 for page in pages)
    assert not (tmp_path / "home").exists() or not any((tmp_path / "home").rglob("*.db"))


def test_ocr_read_takes_the_languages_and_prints_text_under_a_heading_per_page(tmp_path):
    scan = tmp_path / "letter.png"
    write_scan(scan, ["Customer file 2024", "Meter number 0042"])

    code, out = run({"ARCHIVE_HOME": str(tmp_path / "home")}, "ocr", "read", str(scan), "--languages", "eng")

    assert code == 0, out
    assert f"== {scan} page 1: layout lines, eng" in out
    assert "Meter number 0042" in out


def test_ocr_read_names_a_file_it_cannot_use(tmp_path):
    junk = tmp_path / "notes.png"
    junk.write_bytes(b"not an image at all")

    result = CliRunner().invoke(cli, ["ocr", "read", str(junk)], env={"ARCHIVE_HOME": str(tmp_path / "home")})

    assert result.exit_code == 1 and "notes.png" in result.output
