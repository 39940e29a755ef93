"""Screening of every uploaded file, for capture and page replacement alike (ASVS 12.1, 12.2, 5.2)."""

from __future__ import annotations

import re
import shutil
import tempfile
import unicodedata
from pathlib import Path

from archive.config import Settings
from ocr.base import SourceInfo
from ocr.inputs import PDF, InputLimits, identify_source
from ocr.sanitize import refuse_polyglot, sanitize_pdf

# Bidirectional overrides and isolates, zero-width and other format characters: they make
# `invoice‮fdp.exe` look like `invoiceexe.pdf`.
_INVISIBLE = re.compile(r"[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def input_limits(settings: Settings) -> InputLimits:
    return InputLimits(max_pixels_per_page=settings.max_image_megapixels * 1_000_000)


def screen_upload(path: Path, settings: Settings) -> tuple[SourceInfo, Path | None]:
    """Refuse polyglots and oversized images (headers only: the pages are decoded once, later), and
    take active content out of a PDF, in a temporary copy whose path is returned (the caller deletes
    it); the file given is never changed. Raises an ocr InputRejectedError subclass."""
    source = identify_source(path, limits=input_limits(settings))
    refuse_polyglot(path)
    if source.media_type != PDF:
        return source, None
    handle, name = tempfile.mkstemp(prefix="sanitized-", suffix=".pdf")
    copy = Path(name)
    try:
        with open(handle, "wb") as target, path.open("rb") as original:
            shutil.copyfileobj(original, target)
        sanitize_pdf(copy)
    except BaseException:
        copy.unlink(missing_ok=True)
        raise
    return source, copy


def clean_filename(name: str, *, default: str = "document") -> str:
    """A file name safe to show and to offer for download: no control, bidi or invisible characters,
    no directory, at most 200 characters."""
    name = unicodedata.normalize("NFC", name)
    name = _INVISIBLE.sub("", name)
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
    return name[:200] or default
