"""Fixtures for the web tests: a real archive in a temporary home, the app and a client over it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from archive_fixtures import PASSWORD
from flask.testing import FlaskClient

from archive.identity import resident_id_check_digit


@pytest.fixture
def password() -> str:
    return PASSWORD


# --- Scans and uploads --------------------------------------------------------------------------------

CUSTOMER_ID = "11010519491231002" + resident_id_check_digit("11010519491231002")


@pytest.fixture
def customer_id() -> str:
    """A valid resident ID number for the test customer 张三."""
    return CUSTOMER_ID


@pytest.fixture
def scan(tmp_path: Path) -> Callable[..., Path]:
    """scan(name, lines) writes a one-page PNG scan with those lines of text."""

    def make(name: str = "scan.png", lines: tuple[str, ...] = ("供用电合同", "Supply contract 2024")) -> Path:
        from archive.demo.samples import write_scan

        return write_scan(tmp_path / name, list(lines), format="PNG")

    return make


@pytest.fixture
def upload(client: FlaskClient) -> Callable[..., dict]:
    """upload(path, **fields) posts one file to the capture API and returns the JSON answer."""

    def post(path: Path, expect: int = 201, **fields: str) -> dict:
        data = {"customer": CUSTOMER_ID, "customer_name": "张三", "document_type": "supply_contract", **fields}
        with path.open("rb") as handle:
            data["files"] = (handle, path.name)
            response = client.post("/api/v1/documents", data=data, content_type="multipart/form-data")
        assert response.status_code == expect, response.get_data(as_text=True)
        return response.get_json()

    return post
