"""Page images as they are served: the ID and phone numbers blacked out for those who may not see them,
found from the page's stored word boxes (the words joined in reading order, so a number OCR split into
several words is found whole); a page whose numbers cannot be located is withheld instead."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

from PIL import Image, ImageDraw

from archive.pii import identifier_spans

PAD = 0.2  # of a box's height, around each blacked-out word
_LONG_DIGITS = re.compile(r"[0-9OoIlSBZ|xX]{15,}")  # an ID OCR misread beyond repair is still blacked out

Box = tuple[int, int, int, int]  # left, top, right, bottom in the image's pixels


def pii_word_indices(words: Sequence[dict[str, Any]]) -> list[int]:
    """The indices of every word that is part of an ID or mobile number, in order."""
    text, owners = "", []
    for index, word in enumerate(words):
        if text:
            text += " "
            owners.append(-1)
        text += word["text"]
        owners += [index] * len(word["text"])
    hit = {owners[i] for start, end in identifier_spans(text) for i in range(start, end) if owners[i] >= 0}
    hit |= {i for i, word in enumerate(words) if _LONG_DIGITS.search(word["text"])}
    return sorted(hit)


def pii_boxes(words: Sequence[dict[str, Any]]) -> list[Box]:
    """The boxes of every word that is part of an ID or mobile number, padded."""
    boxes = []
    for index in pii_word_indices(words):
        word = words[index]
        pad = int(word["height"] * PAD) + 2
        boxes.append((word["left"] - pad, word["top"] - pad, word["left"] + word["width"] + pad,
                      word["top"] + word["height"] + pad))
    return boxes


def black_out(image: Image.Image, boxes: Sequence[Box]) -> Image.Image:
    """A copy of the page with the boxes filled black."""
    page = image.convert("RGB") if image.mode not in ("L", "RGB") else image.copy()
    draw = ImageDraw.Draw(page)
    for box in boxes:
        draw.rectangle(box, fill=0 if page.mode == "L" else (0, 0, 0))
    return page


def withheld(size: tuple[int, int]) -> Image.Image:
    """A blank page in place of one whose personal data could not be located."""
    page = Image.new("L", size, 235)
    draw = ImageDraw.Draw(page)
    step = max(size) // 12
    for offset in range(-size[1], size[0], step):
        draw.line([(offset, 0), (offset + size[1], size[1])], fill=200, width=max(2, step // 12))
    return page


def encode_png(image: Image.Image, *, dpi: int | None = 300) -> bytes:
    """A served page as PNG with fast compression (a changed page compresses worse than the stored one,
    and at the archive's usual level encoding alone would cost more than the change)."""
    buffer = io.BytesIO()
    options: dict[str, object] = {"compress_level": 1}
    if dpi:
        options["dpi"] = (dpi, dpi)
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()
