"""Captures for one customer at the same moment each get their own archive code (the load test found
them refused as "captured concurrently" on SQLite, where FOR UPDATE does nothing)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from archive.capture.services import CaptureRequest, capture_document
from archive.demo.samples import write_scan
from archive.identity import resident_id_check_digit

ID_NUMBER = "11010519491231002" + resident_id_check_digit("11010519491231002")


def test_simultaneous_captures_take_consecutive_archive_codes(archive, people, tmp_path: Path) -> None:  # noqa: ANN001
    scans = [write_scan(tmp_path / f"s{n}.png", [f"用电申请书 第{n}号"], format="PNG", dpi=100, seed=n)
             for n in range(6)]

    def capture(path: Path) -> str:
        return capture_document(archive.uow(), actor=people["clerk"], request=CaptureRequest(
            path=path, filename=path.name, customer=ID_NUMBER, customer_name="张伟",
            document_type="application_form")).archive_code

    capture(scans[0])  # the scope's counter exists
    with ThreadPoolExecutor(max_workers=5) as pool:
        codes = list(pool.map(capture, scans[1:]))
    numbers = sorted(int(code.rsplit("-", 1)[1]) for code in codes)
    assert numbers == [2, 3, 4, 5, 6]
