"""Borrowing watermarks: the visible mark covers every part of the page, the invisible grant id reads
back after recompression, scaling and cropping, clean pages read as unmarked, the PDF, the command."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pikepdf
import pypdfium2
import pytest
from click.testing import CliRunner
from PIL import Image, ImageFilter

from archive.borrowing.watermark import MAX_PAYLOAD, burn, identify, marked_pdf
from archive.cli import cli
from archive.demo.samples import render_scan
from archive.page_images import encode_png

REAL_PAGES = Path(__file__).resolve().parents[2].parent / "shared" / "ocr-real"
A4_300 = (2480, 3508)
LINES = ("借阅人 张伟 (zhangwei)", "2026-12-02 09:30", "借阅申请 JY-2026-000123")


def _real(name: str, size: tuple[int, int] | None = A4_300) -> Image.Image:
    path = REAL_PAGES / name
    if not path.is_file():
        pytest.skip(f"the real dev pages are absent ({path})")
    with Image.open(path) as image:
        page = image.convert("L") if image.mode in ("L", "1") else image.convert("RGB")
    return page.resize(size, Image.Resampling.BICUBIC) if size else page


@pytest.fixture(scope="module")
def generated() -> Image.Image:
    return render_scan(["供用电合同 合同编号 HT-2024-0107", "用电人 张伟 电费结算方式 银行代扣"] * 12, seed=3)


def _jpeg(image: Image.Image, quality: int = 75) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert(image.mode)


def _half(image: Image.Image) -> Image.Image:
    return image.resize((image.width // 2, image.height // 2), Image.Resampling.BILINEAR)


def _saved_png(image: Image.Image) -> Image.Image:
    return Image.open(io.BytesIO(encode_png(image)))


DISTORTIONS = {
    "jpeg 75": _jpeg,
    "50% downscale": _half,
    "50% downscale then jpeg 75": lambda image: _jpeg(_half(image)),
}


def test_the_payload_reads_back_from_the_served_png_of_a_generated_page(generated):
    for payload in (0, 123_456_789, MAX_PAYLOAD):
        marked = burn(generated, LINES, payload)
        assert marked.mode == "L" and marked.size == generated.size
        assert identify(_saved_png(marked)) == payload


def test_a_payload_outside_32_bits_is_refused(generated):
    for payload in (-1, MAX_PAYLOAD + 1):
        with pytest.raises(ValueError):
            burn(generated, LINES, payload)


@pytest.mark.parametrize("distortion", DISTORTIONS)
def test_the_mark_of_a_generated_page_survives(generated, distortion):
    marked = burn(generated, LINES, 4_000_000_001)
    assert identify(DISTORTIONS[distortion](marked)) == 4_000_000_001


@pytest.mark.parametrize("name", ["filing_03.png", "table_05.png"])  # RGB and greyscale scans
@pytest.mark.parametrize("distortion", DISTORTIONS)
def test_the_mark_of_a_real_scan_survives(name, distortion):
    page = _real(name)
    marked = burn(page, LINES, 271_828)
    assert marked.mode == page.mode
    assert identify(DISTORTIONS[distortion](marked)) == 271_828


def test_the_mark_survives_a_crop_of_a_quarter_of_the_page_at_an_odd_place():
    marked = burn(_real("filing_03.png"), LINES, 31_415)
    assert identify(marked.crop((843, 882, 843 + 1240, 882 + 1754))) == 31_415


def test_the_mark_survives_a_photograph_turned_scaled_softened_and_recompressed():
    marked = burn(_real("deposition_02.png"), LINES, 1_234_567).convert("RGB")
    photo = marked.rotate(0.8, Image.Resampling.BILINEAR, fillcolor="white")
    photo = photo.resize((round(photo.width * 0.63), round(photo.height * 0.63)), Image.Resampling.BILINEAR)
    photo = photo.filter(ImageFilter.GaussianBlur(0.8)).point(lambda value: round(value * 0.9 + 10))
    assert identify(_jpeg(photo, 85)) == 1_234_567


def test_a_page_turned_sideways_or_upside_down_still_reads(generated):
    marked = burn(generated, LINES, 55_555)
    assert identify(marked.transpose(Image.Transpose.ROTATE_90)) == 55_555
    assert identify(_jpeg(marked.transpose(Image.Transpose.ROTATE_180))) == 55_555


def test_pages_without_a_mark_read_as_none(generated):
    names = ["chart_01.png", "multicol_03.png", "receipt_03.png"]  # a chart, halftone print, a photo
    clean = [_real(name, size=None) for name in names]
    assert [identify(page) for page in [generated, *clean]] == [None] * (len(clean) + 1)


def test_a_page_marked_for_another_grant_reads_as_that_grant_not_as_a_mix(generated):
    assert identify(burn(generated, LINES, 7)) == 7
    assert identify(burn(generated, LINES, 8)) == 8


def test_a_mark_made_with_another_key_reads_as_none(generated):
    marked = burn(_half(generated), LINES, 99, key=b"the archive's own secret")
    assert identify(marked) is None
    assert identify(marked, key=b"the archive's own secret") == 99


def test_every_quarter_of_the_page_shows_the_visible_mark(generated):
    blank = Image.new("L", A4_300, 250)
    marked = np.asarray(burn(blank, LINES, 5), dtype=np.int16)
    width, height = A4_300
    for left, top in [(0, 0), (width // 2, 0), (0, height // 2), (width // 2, height // 2), (width // 4, height // 4)]:
        quarter = marked[top:top + height // 2, left:left + width // 2]
        darkened = np.mean(quarter < 250 - 30)  # the text; the invisible mark moves a pixel by 3 at most
        assert 0.02 < darkened < 0.4
    # and it is text, not a tint: most of the page keeps its tone (within the invisible mark's 3 levels)
    assert np.mean(np.abs(marked - 247) <= 3) > 0.6


def test_the_visible_mark_does_not_hide_the_page(generated):
    marked = np.asarray(burn(generated, LINES, 5), dtype=np.int16)
    original = np.asarray(generated, dtype=np.int16)
    ink = original < 100
    assert np.mean(marked[ink] < 100) > 0.99  # the page's own text stays dark


def test_the_pdf_has_one_page_per_image_written_as_each_comes_and_keeps_the_mark(generated):
    out = io.BytesIO()
    written: list[int] = []

    def pages():
        for payload in (11, 12, 13):
            written.append(out.tell())
            yield burn(generated, LINES, payload)

    assert marked_pdf(pages(), out) == 3
    assert written[0] < written[1] < written[2]  # each page was on its way out before the next was made
    with pikepdf.open(io.BytesIO(out.getvalue())) as pdf:
        assert len(pdf.pages) == 3
        assert [round(float(v)) for v in pdf.pages[0].mediabox] == [0, 0, 595, 842]  # A4 in points
    document = pypdfium2.PdfDocument(out.getvalue())
    rendered = document[1].render(scale=300 / 72).to_pil()
    assert identify(rendered) == 12


def test_the_command_prints_the_grant_of_a_marked_page_and_exits_1_on_a_clean_one(generated, tmp_path):
    from archive.bootstrap import Archive
    from archive.borrowing.lending import mark_key
    from archive.config import load_settings

    env = {"ARCHIVE_HOME": str(tmp_path / "home")}
    key = mark_key(Archive(load_settings(env)).keyring)  # this archive's own key, as the server marks with
    marked, clean, foreign = tmp_path / "leaked.jpg", tmp_path / "clean.png", tmp_path / "foreign.jpg"
    _jpeg(burn(generated, LINES, 90_210, key=key)).save(marked)
    _jpeg(burn(generated, LINES, 90_210)).save(foreign)  # the public default key: not this archive's mark
    _half(generated).save(clean)
    runner = CliRunner()
    found = runner.invoke(cli, ["watermark", "identify", str(marked)], env=env)
    assert found.exit_code == 0 and "grant 90210" in found.output
    as_json = runner.invoke(cli, ["watermark", "identify", str(marked), "--json"], env=env)
    assert json.loads(as_json.output) == {"file": str(marked), "grant_id": 90210, "page": 1}
    for other in (clean, foreign):
        missing = runner.invoke(cli, ["watermark", "identify", str(other)], env=env)
        assert missing.exit_code == 1 and "no watermark found" in missing.output


def test_the_command_says_which_file_it_cannot_read(tmp_path):
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image at all")
    result = CliRunner().invoke(cli, ["watermark", "identify", str(junk)], env={"ARCHIVE_HOME": str(tmp_path / "h")})
    assert result.exit_code == 2 and "junk.png" in result.output
