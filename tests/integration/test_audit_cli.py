"""`archive audit ...` end to end, as an operator, an auditor and a regulator would run it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from archive.cli import cli
from archive.compliance.verify import main as offline_verify


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    values = {"ARCHIVE_HOME": str(tmp_path / "home"), "ARCHIVE_ADMIN_PASSWORD": "admin-password-1",
              "ARCHIVE_CLI_TRUSTED": "1"}  # a trusted host: `--as USER` needs no credential here
    if request.param == "postgres":
        values["ARCHIVE_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    return values


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def database_url(env: dict[str, str]) -> str:
    return env.get("ARCHIVE_DATABASE_URL") or f"sqlite:///{env['ARCHIVE_HOME']}/archive.db"


def test_init_creates_the_signing_key_and_the_auditor_checks_the_trail_end_to_end(env, tmp_path):
    assert run(env, "init")[0] == 0
    key = Path(env["ARCHIVE_HOME"]) / "keys" / "audit-signing.json"
    assert key.stat().st_mode & 0o777 == 0o600
    code, out = run(env, "user", "add", "aud", "--role", "auditor", "--password", "a-long-pass-word-1")
    assert code == 0, out
    code, out = run(env, "audit", "public-key")
    assert code == 0 and out.strip().endswith("audit-signing.pub.json")
    public_key = out.strip()

    code, out = run(env, "audit", "checkpoint", "--out", str(tmp_path / "deposit"))
    assert code == 0 and "checkpoint 1: seq 1..2 (2 events)" in out, out
    assert run(env, "audit", "checkpoint")[1].startswith("checkpoint 2: seq 3..2 (0 events)")  # heartbeat
    code, out = run(env, "audit", "checkpoints", "--out", str(tmp_path / "deposit"))
    assert code == 0 and "wrote 1 new checkpoint files" in out

    code, out = run(env, "audit", "verify", "--from-checkpoint", str(tmp_path / "deposit" / "checkpoint-000001.json"))
    assert code == 0 and out.strip().endswith(": ok"), out

    export = tmp_path / "trail.jsonl"
    code, out = run(env, "audit", "export", "--out", str(export), "--as", "aud")
    assert code == 0 and "exported" in out, out
    assert offline_verify([str(export), "--public-key", public_key,
                           "--from-checkpoint", str(tmp_path / "deposit" / "checkpoint-000002.json")]) == 0
    for fmt in ("csv", "xlsx"):
        assert run(env, "audit", "export", "--format", fmt, "--out", str(tmp_path / f"t.{fmt}"))[0] == 0

    proof = tmp_path / "proof.json"
    code, out = run(env, "audit", "prove", "2", "--out", str(proof), "--as", "aud")
    assert code == 0 and "checkpoint 1" in out, out
    assert offline_verify(["--proof", str(proof), "--public-key", public_key]) == 0
    code, out = run(env, "audit", "prove", "99999")
    assert code == 2 and "no audit event 99999" in out

    code, out = run(env, "audit", "seal", "--dir", str(tmp_path / "sealed"))
    assert code == 0 and "verified" in out, out
    seal = json.loads(next((tmp_path / "sealed").glob("*.seal.json")).read_text())
    assert seal["verified"] and seal["checkpoints"] == [1, 2]


def test_verify_exits_1_naming_the_first_edited_event(env):
    assert run(env, "init")[0] == 0
    assert run(env, "audit", "checkpoint")[0] == 0
    engine = create_engine(database_url(env))
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_event_no_update"))
        else:
            connection.execute(text("DROP TRIGGER audit_event_append_only ON audit_event"))
        connection.execute(text("UPDATE audit_event SET detail = '{}' WHERE seq = 1"))
    engine.dispose()
    code, out = run(env, "audit", "verify", "--json")
    report = json.loads(out)
    assert code == 1 and report["problems"][0]["kind"] == "edited" and report["problems"][0]["seq"] == 1
    assert run(env, "audit", "checkpoint")[0] == 0  # signs only its own period; the edit stays visible
    assert run(env, "audit", "verify")[0] == 1


def test_a_person_without_audit_view_is_refused_with_exit_3(env):
    assert run(env, "init")[0] == 0
    assert run(env, "department", "add", "YX", "营销部")[0] == 0
    assert run(env, "user", "add", "s1", "--role", "staff", "--department", "YX", "--password", "a-long-pass-word-1")[0] == 0
    code, out = run(env, "audit", "verify", "--as", "s1")
    assert code == 3 and "access denied" in out
