"""Where to find a font that draws Chinese: demo pages, PDFs and borrowing watermarks all need one."""

from __future__ import annotations

import os
from pathlib import Path

FONT_ENV_VAR = "ARCHIVE_CJK_FONT"
CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
)


def find_cjk_font() -> Path:
    """Return a font file able to draw Chinese; raise FileNotFoundError naming what to install."""
    override = os.environ.get(FONT_ENV_VAR)
    if override:
        path = Path(override)
        if not path.is_file():
            raise FileNotFoundError(f"{FONT_ENV_VAR} points to {path}, which is not a file")
        return path
    for candidate in CJK_FONT_CANDIDATES:
        path = Path(candidate)
        if path.is_file():
            return path
    raise FileNotFoundError(
        "no CJK font found: install fonts-wqy-zenhei or fonts-noto-cjk, "
        f"or set {FONT_ENV_VAR} to a .ttf/.ttc/.otf file that covers Chinese"
    )
