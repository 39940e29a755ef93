"""Input handling and image preparation: which files are accepted, and how pages come out."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageChops

from archive.demo.samples import write_scan
from ocr.base import (
    CorruptFileError,
    EmptyFileError,
    InputRejectedError,
    PasswordProtectedError,
    TooLargeError,
    UnsupportedFormatError,
)
from ocr.inputs import (
    InputLimits,
    encode_page_png,
    inspect_source,
    iter_pages,
    meaningful_text,
    save_page,
)
from ocr.prepare import upscale_factor

LINES = ["供用电合同", "合同编号 HT-2024-0001"]
DPI = 100  # small pages keep these tests fast
A4_AT_100_DPI = (827, 1169)


def _scan(tmp_path: Path, fmt: str, **kwargs: object) -> Path:
    # A misleading extension shows that the type comes from the content.
    return write_scan(tmp_path / f"upload.{fmt.lower()}.bin", LINES, format=fmt, dpi=DPI, **kwargs)


def _pdf(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """Assemble a PDF from numbered object bodies (object n is objects[n - 1]) with a correct xref."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R %s >>\n" % (len(objects) + 1, trailer))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def _text_pdf_objects(content: bytes) -> list[bytes]:
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]


PAGE_TEXT = b"BT /F1 12 Tf 72 770 Td (Contract HT-2024-0001 for customer Test Power Supply) Tj ET"


def _rc4(key: bytes, data: bytes) -> bytes:
    state = list(range(256))
    j = 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


def _encrypted_pdf(user_password: bytes) -> bytes:
    """Return a PDF encrypted with the standard security handler, revision 2 (40-bit RC4)."""
    pad = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")
    padded_user = (user_password + pad)[:32]
    owner = _rc4(hashlib.md5(padded_user).digest()[:5], padded_user)
    permissions = (-4 & 0xFFFFFFFF).to_bytes(4, "little")
    file_id = b"0123456789abcdef"
    key = hashlib.md5(padded_user + owner + permissions + file_id).digest()[:5]
    user_entry = _rc4(key, pad)
    object_key = hashlib.md5(key + (4).to_bytes(3, "little") + (0).to_bytes(2, "little")).digest()[:10]
    objects = _text_pdf_objects(_rc4(object_key, PAGE_TEXT))
    objects.append(
        b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >>"
        % (owner.hex().encode(), user_entry.hex().encode())
    )
    id_hex = file_id.hex().encode()
    return _pdf(objects, trailer=b"/Encrypt 6 0 R /ID [<%s> <%s>]" % (id_hex, id_hex))


def _png_header_only(width: int, height: int) -> bytes:
    """Return a PNG whose header claims width × height pixels, with one tiny data chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00"))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("PNG", "image/png"),
        ("JPEG", "image/jpeg"),
        ("WEBP", "image/webp"),
        ("BMP", "image/bmp"),
        ("TIFF", "image/tiff"),
        ("PDF", "application/pdf"),
    ],
)
def test_each_accepted_format_is_recognised_by_its_content_with_one_page(
    tmp_path: Path, fmt: str, media_type: str
) -> None:
    info = inspect_source(_scan(tmp_path, fmt))

    assert (info.media_type, info.page_count) == (media_type, 1)


@pytest.mark.parametrize(("fmt", "media_type"), [("WEBP", "image/webp"), ("BMP", "image/bmp")])
def test_webp_and_bmp_images_are_accepted(tmp_path: Path, fmt: str, media_type: str) -> None:
    path = tmp_path / "photo.dat"
    Image.new("RGB", (300, 200), "white").save(path, fmt)

    info = inspect_source(path)
    pages = list(iter_pages(path))

    assert (info.media_type, info.page_count) == (media_type, 1)
    assert [page.image.size for page in pages] == [(300, 200)]


def test_a_multi_page_tiff_yields_every_page_in_order(tmp_path: Path) -> None:
    path = write_scan(
        tmp_path / "pages.tif", [], format="TIFF", pages=[["第一页"], ["第二页"], ["第三页"]], dpi=DPI
    )

    info = inspect_source(path)
    pages = list(iter_pages(path))

    assert info.page_count == 3
    assert [page.number for page in pages] == [1, 2, 3]
    assert all(page.image.size == A4_AT_100_DPI and page.dpi == DPI for page in pages)
    assert all(page.text_layer is None for page in pages)


def test_a_group4_fax_tiff_is_accepted_as_bilevel_pages(tmp_path: Path) -> None:
    path = write_scan(
        tmp_path / "fax.tif", [], format="TIFF", pages=[LINES, LINES], dpi=200, tiff_compression="group4"
    )

    info = inspect_source(path)
    pages = list(iter_pages(path))

    assert (info.media_type, info.page_count) == ("image/tiff", 2)
    assert [page.image.mode for page in pages] == ["1", "1"]


def test_a_fax_with_rectangular_pixels_is_stretched_to_square_pixels(tmp_path: Path) -> None:
    path = tmp_path / "normal-mode-fax.tif"
    Image.new("1", (1728, 1145), 1).save(path, "TIFF", compression="group3", dpi=(204, 98))

    (page,) = iter_pages(path)

    assert page.image.size == (1728, round(1145 * 204 / 98))
    assert page.dpi == 204


def test_the_exif_orientation_of_a_photo_is_applied(tmp_path: Path) -> None:
    stored = Image.new("RGB", (200, 100), "white")
    stored.paste((0, 0, 0), (0, 0, 20, 20))  # a black mark in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    path = tmp_path / "photo.jpg"
    stored.save(path, "JPEG", exif=exif.tobytes(), quality=95)

    (page,) = iter_pages(path)

    assert page.image.size == (100, 200)
    assert page.image.getpixel((90, 10))[0] < 64  # the mark is now top-right
    assert page.image.getpixel((10, 10))[0] > 192


def test_pdf_pages_are_rendered_at_the_requested_resolution(tmp_path: Path) -> None:
    path = tmp_path / "contract.pdf"
    path.write_bytes(_pdf(_text_pdf_objects(PAGE_TEXT)))

    (page,) = iter_pages(path, pdf_dpi=144)

    assert page.image.size == (1190, 1684)
    assert page.dpi == 144


def test_a_black_and_white_pdf_page_is_kept_grey_with_exactly_the_rendered_pixels(tmp_path: Path) -> None:
    path = tmp_path / "contract.pdf"
    path.write_bytes(_pdf(_text_pdf_objects(PAGE_TEXT)))
    with pdfium.PdfDocument(path) as document:
        rendered = document[0].render(scale=2).to_pil().convert("RGB")

    (page,) = iter_pages(path, pdf_dpi=144)

    assert page.image.mode == "L"
    assert rendered.getextrema()[0] == (0, 255)  # black text on white: a real page, not a blank one
    assert ImageChops.difference(page.image.convert("RGB"), rendered).getbbox() is None


def test_a_pdf_page_with_any_colour_stays_in_colour(tmp_path: Path) -> None:
    path = tmp_path / "sealed.pdf"
    path.write_bytes(_pdf(_text_pdf_objects(PAGE_TEXT + b" 1 0 0 rg 400 100 2 2 re f")))  # a tiny red mark

    (page,) = iter_pages(path, pdf_dpi=144)

    assert page.image.mode == "RGB"
    red = page.image.getpixel((int(401 * 2), int((842 - 101) * 2)))
    assert red[0] > 200 and red[1] < 80 and red[2] < 80


def test_a_pdf_with_real_text_has_its_text_layer(tmp_path: Path) -> None:
    path = tmp_path / "contract.pdf"
    path.write_bytes(_pdf(_text_pdf_objects(PAGE_TEXT)))

    (page,) = iter_pages(path, pdf_dpi=72)

    assert page.text_layer == "Contract HT-2024-0001 for customer Test Power Supply"


def test_a_scanned_pdf_has_no_text_layer(tmp_path: Path) -> None:
    path = write_scan(tmp_path / "scan.pdf", [], format="PDF", pages=[LINES, LINES], dpi=DPI)

    pages = list(iter_pages(path, pdf_dpi=DPI))

    assert [(page.number, page.text_layer) for page in pages] == [(1, None), (2, None)]


def test_a_pdf_mixing_a_text_page_and_a_scanned_page_keeps_the_text_of_the_first_only(tmp_path: Path) -> None:
    text_pdf = tmp_path / "text.pdf"
    text_pdf.write_bytes(_pdf(_text_pdf_objects(PAGE_TEXT)))
    scan_pdf = write_scan(tmp_path / "scan.pdf", LINES, format="PDF", dpi=DPI)
    mixed = pdfium.PdfDocument.new()
    for part in (text_pdf, scan_pdf):
        with pdfium.PdfDocument(part) as source:
            mixed.import_pages(source)
    path = tmp_path / "mixed.pdf"
    mixed.save(path)
    mixed.close()

    pages = list(iter_pages(path, pdf_dpi=DPI))

    assert inspect_source(path).page_count == 2
    assert [page.text_layer for page in pages] == [
        "Contract HT-2024-0001 for customer Test Power Supply",
        None,
    ]


def test_a_page_number_alone_is_not_a_text_layer() -> None:
    assert meaningful_text(" - 12 - \r\n") is None
    assert meaningful_text("\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd 1") is None
    assert meaningful_text("客户名称：国网测试供电公司\r\n") == "客户名称：国网测试供电公司"


def test_a_pdf_page_too_big_for_the_pixel_limit_is_rendered_at_a_lower_resolution(tmp_path: Path) -> None:
    path = tmp_path / "contract.pdf"
    path.write_bytes(_pdf(_text_pdf_objects(PAGE_TEXT)))

    (page,) = iter_pages(path, pdf_dpi=300, limits=InputLimits(max_pixels_per_page=1_000_000))

    assert page.dpi is not None and page.dpi < 300
    assert page.image.width * page.image.height <= 1_000_000


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.touch()

    with pytest.raises(EmptyFileError, match="empty"):
        inspect_source(path)


def test_a_text_file_named_like_an_image_is_refused_as_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("客户来电记录\n请尽快处理\n", encoding="utf-8")

    with pytest.raises(UnsupportedFormatError, match=r"text/plain.*JPEG, PNG, WebP, BMP, TIFF and PDF"):
        inspect_source(path)


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (b"GIF89a" + bytes(64), "image/gif"),
        (b"PK\x03\x04" + bytes(64), "Word or Excel"),
        (bytes(range(256)) * 4, "application/octet-stream"),
    ],
)
def test_other_kinds_of_file_are_refused_with_their_type_named(
    tmp_path: Path, content: bytes, named: str
) -> None:
    path = tmp_path / "upload.jpg"
    path.write_bytes(content)

    with pytest.raises(UnsupportedFormatError, match=named):
        inspect_source(path)


def test_garbage_behind_an_image_signature_is_refused_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 20)

    with pytest.raises(CorruptFileError, match="PNG"):
        inspect_source(path)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "TIFF", "PDF"])
def test_a_truncated_file_is_refused_as_corrupt(tmp_path: Path, fmt: str) -> None:
    path = _scan(tmp_path, fmt)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    with pytest.raises(CorruptFileError):
        inspect_source(path)


def test_a_password_protected_pdf_is_refused(tmp_path: Path) -> None:
    data = _encrypted_pdf(b"secret")
    with pdfium.PdfDocument(data, password="secret") as document:  # the fixture is a real encrypted PDF
        assert len(document) == 1
    path = tmp_path / "locked.pdf"
    path.write_bytes(data)

    with pytest.raises(PasswordProtectedError, match="password"):
        inspect_source(path)
    with pytest.raises(PasswordProtectedError):
        next(iter_pages(path))


def test_a_decompression_bomb_is_refused_as_too_large(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header_only(40_000, 40_000))

    with pytest.raises(TooLargeError, match="megapixels"):
        inspect_source(path)


def test_a_page_over_the_configured_pixel_limit_is_refused(tmp_path: Path) -> None:
    path = _scan(tmp_path, "PNG")

    with pytest.raises(TooLargeError, match=r"page 1 is 827 × 1169 pixels"):
        inspect_source(path, limits=InputLimits(max_pixels_per_page=500_000))


@pytest.mark.parametrize("fmt", ["TIFF", "PDF"])
def test_a_file_with_too_many_pages_is_refused(tmp_path: Path, fmt: str) -> None:
    path = write_scan(tmp_path / "many", [], format=fmt, pages=[LINES] * 3, dpi=50)

    with pytest.raises(TooLargeError, match="2"):
        inspect_source(path, limits=InputLimits(max_pages=2))


def test_a_file_over_the_size_limit_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    path = _scan(tmp_path, "PNG")

    with pytest.raises(TooLargeError, match="at most"):
        inspect_source(path, limits=InputLimits(max_file_bytes=1000))


def test_every_refusal_is_an_input_rejected_error_with_a_readable_reason(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.touch()

    with pytest.raises(InputRejectedError) as caught:
        inspect_source(path)

    assert str(caught.value) == "the file is empty (0 bytes)"


def test_page_images_are_stored_as_lossless_png_with_their_resolution(tmp_path: Path) -> None:
    (page,) = iter_pages(_scan(tmp_path, "TIFF"))
    buffer = io.BytesIO()

    save_page(page.image, buffer, dpi=page.dpi)
    stored = Image.open(io.BytesIO(buffer.getvalue()))

    assert stored.format == "PNG"
    assert round(stored.info["dpi"][0]) == DPI
    assert stored.tobytes() == page.image.tobytes()
    assert encode_page_png(page.image, dpi=page.dpi) == buffer.getvalue()


def test_a_low_resolution_scan_is_enlarged_to_about_300_dpi() -> None:
    assert upscale_factor(A4_AT_100_DPI, 100) == (3.0, 300)
    assert upscale_factor((1240, 1754), 150) == (2.0, 300)


def test_a_scan_of_250_dpi_or_more_keeps_its_size() -> None:
    assert upscale_factor((2480, 3508), 300) == (1.0, 300)
    assert upscale_factor((2067, 2923), 250) == (1.0, 250)


def test_a_large_photo_claiming_72_dpi_is_not_enlarged() -> None:
    assert upscale_factor((3000, 4000), 72) == (1.0, None)


def test_a_small_image_of_unknown_resolution_is_enlarged_to_a4_at_about_300_dpi() -> None:
    scale, dpi = upscale_factor((700, 1000), None)

    assert dpi is None
    assert 3400 < 1000 * scale < 3600


def test_the_enlargement_stops_at_four_times() -> None:
    assert upscale_factor((200, 280), 30) == (4.0, 120)
