"""`archive borrow ...` as each person would use it, every command with --as and --json (issue 11, item 9)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from archive.cli import cli
from archive.demo.samples import write_scan
from archive.identity import resident_id_check_digit

ID_NUMBER = "11010519491231002" + resident_id_check_digit("11010519491231002")


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_request_approve_list_return_and_revoke_from_the_command_line(tmp_path: Path) -> None:
    env = {"ARCHIVE_HOME": str(tmp_path / "home"), "ARCHIVE_ADMIN_PASSWORD": "admin-password-1",
           "ARCHIVE_CLI_TRUSTED": "1"}
    assert run(env, "init")[0] == 0
    for code, name in (("YX", "营销部"), ("KF", "客服中心")):
        assert run(env, "department", "add", code, name)[0] == 0
    for name, role, dept in (("clerk", "clerk", "YX"), ("head", "approver", "YX"), ("kf", "staff", "KF"),
                             ("room", "records_manager", "")):
        extra = ["--department", dept] if dept else []
        code, out = run(env, "user", "add", name, "--role", role, *extra, "--clearance", "secret",
                        "--password", "pass-word-one-1")
        assert code == 0, out
    scan = write_scan(tmp_path / "c.png", ["供用电合同"], format="PNG", dpi=100)
    code, out = run(env, "ingest", str(scan), "--as", "clerk", "--customer", ID_NUMBER, "--customer-name", "张三",
                    "--type", "application_form", "--json")
    assert code == 0, out
    archive_code = json.loads(out.strip().splitlines()[-1])[0]["archive_code"]

    code, out = run(env, "borrow", "request", archive_code, "--purpose", "核对", "--mode", "view", "--days", "3",
                    "--as", "kf", "--json")
    assert code == 0, out
    number = json.loads(out)["number"]
    code, out = run(env, "borrow", "list", "--to-approve", "--as", "head", "--json")
    [waiting] = json.loads(out)
    assert waiting["number"] == number and waiting["awaiting_me"] is True
    assert run(env, "borrow", "approve", str(waiting["id"]), "--as", "kf")[0] == 3  # nobody approves their own
    code, out = run(env, "borrow", "approve", str(waiting["id"]), "--comment", "同意", "--as", "head", "--json")
    assert json.loads(out) == {"id": waiting["id"], "status": "approved"}
    code, out = run(env, "borrow", "list", "--mine", "--as", "kf")
    assert number in out and "approved" in out and "until" in out
    assert run(env, "borrow", "return", str(waiting["id"]), "--as", "kf", "--json")[0] == 0
    code, out = run(env, "borrow", "revoke", str(waiting["id"]), "--reason", "x", "--as", "head")
    assert code == 2 and "no running grant" in out  # already returned
    code, out = run(env, "borrow", "reject", str(waiting["id"]), "--as", "head")
    assert code == 2 and "--comment" in out  # a rejection needs its reason
    code, out = run(env, "borrow", "list", "--overdue", "--as", "room", "--json")
    assert code == 0 and json.loads(out) == []
    code, out = run(env, "borrow", "list", "--overdue", "--as", "kf")
    assert code == 3  # the archive room's list
