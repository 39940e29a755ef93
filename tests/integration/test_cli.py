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
from archive.identity import uscc_check_char
from archive.samples import write_scan

CREDIT_CODE = "91110108MA01ABCD1" + uscc_check_char("91110108MA01ABCD1")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    values = {"ARCHIVE_HOME": str(tmp_path / "home"), "ARCHIVE_ADMIN_PASSWORD": "admin-password-1"}
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
        code, out = run(env, "user", "add", name, "--role", role, "--department", dept, "--password", "pass-word-1")
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
