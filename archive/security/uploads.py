"""Screening of every uploaded file, for capture and page replacement alike (ASVS 12.1, 12.2, 5.2)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from archive.config import Settings
from ocr.base import SourceInfo
from ocr.inputs import PDF, InputLimits, inspect_source
from ocr.sanitize import refuse_polyglot, sanitize_pdf

# Bidirectional overrides and isolates, zero-width and other format characters: they make
# `invoice‮fdp.exe` look like `invoiceexe.pdf`.
_INVISIBLE = re.compile(r"[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def input_limits(settings: Settings) -> InputLimits:
    return InputLimits(max_pixels_per_page=settings.max_image_megapixels * 1_000_000)


def screen_upload(path: Path, settings: Settings) -> SourceInfo:
    """Refuse polyglots and oversized images, then take active content out of a PDF (in place).
    Raises an ocr InputRejectedError subclass."""
    source = inspect_source(path, limits=input_limits(settings))
    refuse_polyglot(path)
    if source.media_type == PDF:
        sanitize_pdf(path)
    return source


def clean_filename(name: str, *, default: str = "document") -> str:
    """A file name safe to show and to offer for download: no control, bidi or invisible characters,
    no directory, at most 200 characters."""
    name = unicodedata.normalize("NFC", name)
    name = _INVISIBLE.sub("", name)
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
    return name[:200] or default
