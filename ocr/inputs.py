"""Accept or refuse an uploaded file, and turn an accepted one into page images.

The type is decided by the file's content, never by its name. Every refusal is an
InputRejectedError subclass whose message can be shown to the clerk who uploaded the file.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from itertools import count
from pathlib import Path
from typing import BinaryIO

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import ExifTags, Image, ImageChops, ImageOps

from ocr.base import (
    CorruptFileError,
    EmptyFileError,
    PasswordProtectedError,
    SourceInfo,
    TooLargeError,
    UnsupportedFormatError,
)

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
BMP = "image/bmp"
TIFF = "image/tiff"
PDF = "application/pdf"
ACCEPTED_MEDIA_TYPES = (JPEG, PNG, WEBP, BMP, TIFF, PDF)

_FORMAT_NAMES = {JPEG: "JPEG", PNG: "PNG", WEBP: "WebP", BMP: "BMP", TIFF: "TIFF", PDF: "PDF"}
_ACCEPTED_LIST = "JPEG, PNG, WebP, BMP, TIFF and PDF"
_SNIFF_BYTES = 1024
_BMP_HEADER_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}
# Fewer characters than this (letters, digits, ideographs) and a PDF page counts as image-only:
# a page number or a stray scanner stamp is not a text layer worth trusting over OCR.
_MIN_TEXT_LAYER_CHARS = 8
# Pillow reports 72 dpi or less for files that simply do not know their resolution.
_MIN_PLAUSIBLE_DPI = 50


# PDFium is not thread-safe: every call into it, from any thread, holds this lock.
_PDFIUM = threading.RLock()


@dataclass(frozen=True)
class InputLimits:
    """Bounds that keep one upload from exhausting memory or time."""

    max_pixels_per_page: int = 120_000_000
    max_pages: int = 2000
    max_file_bytes: int = 1 << 30


DEFAULT_LIMITS = InputLimits()


@dataclass
class SourcePage:
    """One page of an accepted file: the image upright, and the PDF's own text if it has some."""

    number: int  # 1-based
    image: Image.Image
    text_layer: str | None
    dpi: int | None


def inspect_source(path: Path, *, limits: InputLimits = DEFAULT_LIMITS) -> SourceInfo:
    """Identify and validate the file at path; raise an InputRejectedError subclass if it cannot be used.

    Every page is decoded for images; for a PDF the document structure and every page size are
    read and the first page is parsed.
    """
    media_type = sniff_media_type(path, limits=limits)
    if media_type == PDF:
        return SourceInfo(media_type=PDF, page_count=_inspect_pdf(path, limits))
    pages = 0
    for _ in _iter_image_frames(path, media_type, limits):
        pages += 1
    return SourceInfo(media_type=media_type, page_count=pages)


def identify_source(path: Path, *, limits: InputLimits = DEFAULT_LIMITS) -> SourceInfo:
    """Identify the file and check its structure without decoding any image data: the type, the page
    count and every page's size within the limits. Damaged image data surfaces later, from iter_pages,
    so a caller that decodes the pages anyway decodes each of them once."""
    media_type = sniff_media_type(path, limits=limits)
    if media_type == PDF:
        return SourceInfo(media_type=PDF, page_count=_inspect_pdf(path, limits))
    pages = 0
    for _ in _iter_image_frames(path, media_type, limits, decode=False):
        pages += 1
    return SourceInfo(media_type=media_type, page_count=pages)


def iter_pages(
    path: Path, *, pdf_dpi: int = 300, limits: InputLimits = DEFAULT_LIMITS
) -> Iterator[SourcePage]:
    """Yield the pages of an accepted file one at a time, upright, in mode 1, L or RGB.

    PDF pages are rendered at pdf_dpi, or lower when a page would exceed the pixel limit.
    Raise CorruptFileError if a page cannot be decoded.
    """
    media_type = sniff_media_type(path, limits=limits)
    if media_type == PDF:
        yield from _iter_pdf_pages(path, pdf_dpi, limits)
        return
    for number, frame in enumerate(_iter_image_frames(path, media_type, limits), start=1):
        dpi = _frame_dpi(frame)
        orientation = frame.getexif().get(ExifTags.Base.Orientation, 1)
        upright = ImageOps.exif_transpose(frame)
        if dpi and orientation in (5, 6, 7, 8):
            dpi = (dpi[1], dpi[0])
        image, square_dpi = _square_pixels(_normalise_mode(upright), dpi)
        yield SourcePage(number=number, image=image, text_layer=None, dpi=square_dpi)
        # Drop our references before decoding the next frame, so only one page is held.
        del upright, image


def save_page(image: Image.Image, fp: BinaryIO, *, dpi: int | None = None) -> None:
    """Write image to fp as a lossless PNG, recording dpi when known."""
    options: dict[str, object] = {"compress_level": 6}
    if dpi:
        options["dpi"] = (dpi, dpi)
    image.save(fp, format="PNG", **options)


def encode_page_png(image: Image.Image, *, dpi: int | None = None) -> bytes:
    """Return image as lossless PNG bytes, recording dpi when known."""
    buffer = BytesIO()
    save_page(image, buffer, dpi=dpi)
    return buffer.getvalue()


def sniff_media_type(path: Path, *, limits: InputLimits = DEFAULT_LIMITS) -> str:
    """Return the accepted media type of the file from its first bytes; refuse empty, huge or other files."""
    size = path.stat().st_size
    if size == 0:
        raise EmptyFileError("the file is empty (0 bytes)")
    if size > limits.max_file_bytes:
        raise TooLargeError(
            f"the file is {_human_bytes(size)}; at most {_human_bytes(limits.max_file_bytes)} is accepted"
        )
    with path.open("rb") as stream:
        head = stream.read(_SNIFF_BYTES)
    media_type = _accepted_type(head)
    if media_type is None:
        raise UnsupportedFormatError(
            f"unsupported file type ({_describe_other(head)}): only {_ACCEPTED_LIST} are accepted"
        )
    return media_type


def _accepted_type(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if (
        head.startswith(b"BM")
        and len(head) >= 18
        and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES
    ):
        return BMP
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return TIFF
    # The PDF specification lets a header follow some leading junk; readers look in the first kilobyte.
    if b"%PDF-" in head:
        return PDF
    return None


def _describe_other(head: bytes) -> str:
    """Name a refused file's type as helpfully as the first bytes allow."""
    known = (
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"PK\x03\x04", "application/zip, e.g. a Word or Excel document"),
        (b"\xd0\xcf\x11\xe0", "application/msword, e.g. an old Word or Excel document"),
        (b"\x00\x00\x00\x0cjP  ", "image/jp2"),
        (b"\xff\x4f\xff\x51", "image/jp2"),
        (b"Rar!", "application/vnd.rar"),
        (b"7z\xbc\xaf", "application/x-7z-compressed"),
        (b"{\\rtf", "application/rtf"),
    )
    for magic, name in known:
        if head.startswith(magic):
            return name
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis"):
            return "image/heic, e.g. an iPhone photo; export it as JPEG"
        if brand == b"avif":
            return "image/avif"
        return "video/mp4"
    if b"\x00" not in head:
        for encoding in ("utf-8", "gb18030"):
            try:
                text = head.decode(encoding)
            except UnicodeDecodeError:
                continue
            if text.lstrip().lower().startswith(("<!doctype html", "<html")):
                return "text/html"
            return "text/plain"
    return "application/octet-stream"


def _iter_image_frames(
    path: Path, media_type: str, limits: InputLimits, *, decode: bool = True
) -> Iterator[Image.Image]:
    """Yield each frame of an image file (several only for TIFF), checking the limits; decoded unless
    decode is false (then only the headers are read)."""
    name = _FORMAT_NAMES[media_type]
    # Pillow warns above its own default pixel limit; ours is checked explicitly below.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(path)
        except Image.DecompressionBombError as error:
            raise TooLargeError(
                f"the {name} image has too many pixels to process safely; "
                f"at most {_megapixels(limits.max_pixels_per_page)} megapixels per page are accepted"
            ) from error
        except Exception as error:  # Pillow raises many types on hostile input.
            raise CorruptFileError(f"the {name} image is damaged or incomplete and cannot be read") from error
    with image:
        for number in count(1):
            if number > 1:
                if media_type != TIFF:
                    return
                try:
                    image.seek(number - 1)
                except EOFError:
                    return
                except Exception as error:
                    raise CorruptFileError(
                        f"page {number} of the TIFF image is damaged and cannot be read"
                    ) from error
            if number > limits.max_pages:
                raise TooLargeError(
                    f"the file has more than {limits.max_pages} pages; split it into smaller files"
                )
            _check_pixels(image.size, number, limits)
            if not decode:
                yield image
                continue
            try:
                image.load()
            except Exception as error:
                where = f"page {number} of the {name} image" if media_type == TIFF else f"the {name} image"
                raise CorruptFileError(f"{where} is damaged or incomplete and cannot be read") from error
            yield image


def _check_pixels(size: tuple[int, int], number: int, limits: InputLimits) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise CorruptFileError(f"page {number} has no pixels ({width} × {height})")
    if width * height > limits.max_pixels_per_page:
        raise TooLargeError(
            f"page {number} is {width} × {height} pixels ({_megapixels(width * height)} megapixels); "
            f"at most {_megapixels(limits.max_pixels_per_page)} megapixels per page are accepted"
        )


def _frame_dpi(image: Image.Image) -> tuple[int, int] | None:
    dpi = image.info.get("dpi")
    try:
        x, y = (round(float(value)) for value in dpi)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None
    if x < _MIN_PLAUSIBLE_DPI or y < _MIN_PLAUSIBLE_DPI:
        return None
    return x, y


def _square_pixels(image: Image.Image, dpi: tuple[int, int] | None) -> tuple[Image.Image, int | None]:
    """Stretch pages whose pixels are not square (fax 'normal' mode is 204 × 98 dpi) to look right."""
    if dpi is None:
        return image, None
    x_dpi, y_dpi = dpi
    if abs(x_dpi - y_dpi) <= 0.02 * x_dpi:
        return image, x_dpi
    width, height = image.size
    resample = Image.Resampling.NEAREST if image.mode == "1" else Image.Resampling.BICUBIC
    squared = image.resize((width, max(1, round(height * x_dpi / y_dpi))), resample)
    return squared, x_dpi


def _normalise_mode(image: Image.Image) -> Image.Image:
    """Return image in mode 1, L or RGB, flattening transparency onto white."""
    mode = image.mode
    if mode in ("1", "L", "RGB"):
        return image
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("RGBA", "RGBa", "LA", "La", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background if mode not in ("LA", "La") else background.convert("L")
    if mode.startswith("I") or mode == "F":
        # 16-bit and float scans: stretch the used range to 8 bits instead of clipping at 255.
        wide = image.convert("F")
        low, high = wide.getextrema()
        scale = 255.0 / (high - low) if high > low else 1.0
        return wide.point(lambda value: (value - low) * scale).convert("L")
    return image.convert("RGB")


def inspect_pdf(source: Path | bytes | BinaryIO, *, limits: InputLimits = DEFAULT_LIMITS) -> int:
    """Open a PDF as the renderer does (pdfium): every page's size read, the first page loaded; return
    the page count. Raises CorruptFileError, PasswordProtectedError or TooLargeError."""
    return _inspect_pdf(source, limits)


def _inspect_pdf(path: Path | bytes | BinaryIO, limits: InputLimits) -> int:
    with _PDFIUM, _open_pdf(path) as document:
        pages = len(document)
        _check_page_count(pages, limits)
        for index in range(pages):
            try:
                width, height = document.get_page_size(index)
            except pdfium.PdfiumError as error:
                raise CorruptFileError(
                    f"page {index + 1} of the PDF is damaged and cannot be read"
                ) from error
            if not (width > 0 and height > 0 and math.isfinite(width * height)):
                raise CorruptFileError(f"page {index + 1} of the PDF has no size")
        try:
            document[0].close()
        except pdfium.PdfiumError as error:
            raise CorruptFileError("the first page of the PDF is damaged and cannot be read") from error
    return pages


def _open_pdf(path: Path | bytes | BinaryIO) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as error:
        if error.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise PasswordProtectedError(
                "the PDF is password-protected; remove the password (or print it to a new PDF) "
                "and upload it again"
            ) from error
        if error.err_code == pdfium_c.FPDF_ERR_SECURITY:
            raise PasswordProtectedError(
                "the PDF is encrypted with an unsupported security scheme; print it to a new PDF "
                "and upload it again"
            ) from error
        raise CorruptFileError("the PDF is damaged or incomplete and cannot be read") from error


@dataclass(frozen=True)
class PdfPageOutline:
    """A PDF page read without rendering it: the pixel size and dpi it renders at, and its own text."""

    number: int  # 1-based
    width: int
    height: int
    dpi: int
    text_layer: str | None


def outline_pdf_pages(
    path: Path, *, pdf_dpi: int = 300, limits: InputLimits = DEFAULT_LIMITS
) -> Iterator[PdfPageOutline]:
    """Yield every page of a PDF loaded but not rendered (milliseconds a page, where rendering and
    encoding take hundreds): a page that cannot be loaded raises CorruptFileError, as iter_pages does."""
    with _PDFIUM:
        document = _open_pdf(path)
    try:
        _check_page_count(len(document), limits)
        for index in range(len(document)):
            with _PDFIUM:
                page = _load_pdf_page(document, index)
                try:
                    width, height = page.get_size()
                    dpi = _fitting_dpi(width, height, pdf_dpi, limits.max_pixels_per_page)
                    text = _page_text(page)
                finally:
                    page.close()
            yield PdfPageOutline(index + 1, max(1, math.ceil(width * dpi / 72)), max(1, math.ceil(height * dpi / 72)),
                                 dpi, text)
    finally:
        with _PDFIUM:
            document.close()


def render_pdf_page(
    path: Path, number: int, *, pdf_dpi: int = 300, limits: InputLimits = DEFAULT_LIMITS
) -> SourcePage:
    """Render one page (1-based) of a PDF as iter_pages does; CorruptFileError when it cannot be."""
    with _PDFIUM:
        document = _open_pdf(path)
        try:
            if not 1 <= number <= len(document):
                raise CorruptFileError(f"the PDF has no page {number}")
            image, text_layer, dpi = _render_pdf_page(document, number - 1, pdf_dpi, limits)
        finally:
            document.close()
    return SourcePage(number=number, image=image, text_layer=text_layer, dpi=dpi)


def _check_page_count(pages: int, limits: InputLimits) -> None:
    if pages > limits.max_pages:
        raise TooLargeError(
            f"the PDF has {pages} pages; at most {limits.max_pages} are accepted, split it into smaller files"
        )


def _load_pdf_page(document: pdfium.PdfDocument, index: int) -> pdfium.PdfPage:
    try:
        return document[index]
    except pdfium.PdfiumError as error:
        raise CorruptFileError(f"page {index + 1} of the PDF is damaged and cannot be read") from error


def _iter_pdf_pages(path: Path, pdf_dpi: int, limits: InputLimits) -> Iterator[SourcePage]:
    with _PDFIUM:
        document = _open_pdf(path)
    try:
        pages = len(document)
        _check_page_count(pages, limits)
        for index in range(pages):
            with _PDFIUM:
                image, text_layer, dpi = _render_pdf_page(document, index, pdf_dpi, limits)
            yield SourcePage(number=index + 1, image=image, text_layer=text_layer, dpi=dpi)
            # Drop our reference before rendering the next page, so only one page is held.
            del image
    finally:
        with _PDFIUM:
            document.close()


def _render_pdf_page(
    document: pdfium.PdfDocument, index: int, pdf_dpi: int, limits: InputLimits
) -> tuple[Image.Image, str | None, int]:
    page = _load_pdf_page(document, index)
    try:
        width, height = page.get_size()
        dpi = _fitting_dpi(width, height, pdf_dpi, limits.max_pixels_per_page)
        bitmap = page.render(scale=dpi / 72)
        try:
            # A copy, so the image outlives pdfium's buffer whatever pixel format was used.
            image = _grey_if_colourless(_normalise_mode(bitmap.to_pil().copy()))
        finally:
            bitmap.close()
        return image, _page_text(page), dpi
    finally:
        page.close()


def _grey_if_colourless(image: Image.Image) -> Image.Image:
    """Return an RGB rendering with no colour in it as L: exactly the same pixels.

    Most PDF pages (typed contracts, forms) are black on white; as L their PNG encodes in about a
    quarter of the time and takes half the bytes. A page with any colour at all (a red seal) stays RGB.
    """
    if image.mode != "RGB":
        return image
    red, green, blue = image.split()
    if ImageChops.difference(red, green).getbbox() or ImageChops.difference(green, blue).getbbox():
        return image
    return red


def _fitting_dpi(width_pt: float, height_pt: float, wanted: int, max_pixels: int) -> int:
    """Return wanted, lowered so the rendered page stays within max_pixels."""
    area_sq_in = (width_pt / 72) * (height_pt / 72)
    if area_sq_in <= 0:
        return wanted
    return max(1, min(wanted, math.floor(math.sqrt(max_pixels / area_sq_in))))


def _page_text(page: pdfium.PdfPage) -> str | None:
    """Return the page's embedded text if it holds real words, else None."""
    textpage = page.get_textpage()
    try:
        raw = textpage.get_text_bounded()
    finally:
        textpage.close()
    return meaningful_text(raw)


def meaningful_text(raw: str) -> str | None:
    """Return raw tidied (line ends, NULs, trailing spaces) if it has enough real characters, else None."""
    lines = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").split("\n")
    text = "\n".join(line.rstrip() for line in lines).strip()
    letters = sum(1 for char in text if char.isalnum())
    # Fonts without a Unicode map extract as replacement or private-use characters.
    junk = sum(1 for char in text if char == "\ufffd" or "\ue000" <= char <= "\uf8ff")
    if letters < _MIN_TEXT_LAYER_CHARS or junk > letters:
        return None
    return text


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:g}" if pixels % 1_000_000 == 0 else f"{pixels / 1_000_000:.1f}"


def _human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"
