"""Active content out of uploads before anything reads or stores them (ASVS 12.2).

`refuse_polyglot` refuses files that are something else as well (an HTML page that is also a PDF, a
script in front of an image): the accepted signature must open the file and no markup may sit in its
first kilobyte. `sanitize_pdf` rewrites a PDF with pikepdf without JavaScript, actions, embedded
files, forms and active annotations; what trails the last `%%EOF` is dropped by the rewrite.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from ocr.base import CorruptFileError, UnsupportedFormatError

SIGNATURES = (b"%PDF-", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF", b"BM", b"II*\x00", b"MM\x00*",
              b"II+\x00", b"MM\x00+")
_MARKUP = re.compile(rb"<\s*(?:!doctype|html|head|body|script|svg|iframe|object|embed|\?xml|meta)\b", re.I)
_HEAD = 1024

_DROPPED_KEYS = ("/OpenAction", "/AA", "/JS", "/JavaScript", "/EmbeddedFiles", "/EmbeddedFile", "/AcroForm",
                 "/XFA", "/RichMediaContent")
_ACTIVE_ANNOTS = {"/Widget", "/FileAttachment", "/Screen", "/Movie", "/Sound", "/RichMedia", "/3D"}
_ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE", "/URI",
                   "/ResetForm", "/Rendition", "/Sound", "/Movie", "/RichMediaExecute", "/Hide"}


def refuse_polyglot(path: Path) -> None:
    """Raise UnsupportedFormatError unless the file starts with an accepted signature and holds no markup
    in its first kilobyte (where browsers and PDF readers both look)."""
    with path.open("rb") as handle:
        head = handle.read(_HEAD)
    if not head.startswith(SIGNATURES):
        raise UnsupportedFormatError("the file does not start with the signature of an accepted type "
                                     "(a file that is also another type is refused)")
    if _MARKUP.search(head):
        raise UnsupportedFormatError("the file carries HTML or XML markup: a file that is also a web page "
                                     "is refused")


def sanitize_pdf(path: Path) -> int:
    """Rewrite the PDF at path in place without active content; return how many items were removed.
    Raise CorruptFileError if pikepdf cannot read it."""
    import pikepdf

    removed = 0
    try:
        with pikepdf.open(path) as pdf:
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Dictionary):
                    removed += _strip(obj)
            for page in pdf.pages:
                annots = page.obj.get("/Annots")
                if isinstance(annots, pikepdf.Array):
                    kept = [a for a in annots if not _active_annotation(a)]
                    removed += len(annots) - len(kept)
                    page.obj.Annots = pikepdf.Array(kept)
            removed += _strip(pdf.Root)
            names = pdf.Root.get("/Names")
            if isinstance(names, pikepdf.Dictionary):
                removed += _strip(names)
            fd, tmp = tempfile.mkstemp(prefix="sanitized-", suffix=".pdf", dir=path.parent)
            os.close(fd)
            try:
                pdf.save(tmp)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
    except pikepdf.PdfError as error:
        raise CorruptFileError(f"the PDF cannot be read: {error}") from error
    os.replace(tmp, path)
    return removed


def _strip(obj: object) -> int:
    import pikepdf

    removed = 0
    assert isinstance(obj, pikepdf.Dictionary)
    for key in _DROPPED_KEYS:
        if key in obj:
            del obj[key]
            removed += 1
    action = obj.get("/A")
    if isinstance(action, pikepdf.Dictionary) and str(action.get("/S", "")) in _ACTIVE_ACTIONS:
        del obj["/A"]
        removed += 1
    if str(obj.get("/S", "")) in _ACTIVE_ACTIONS and "/Type" in obj and str(obj.get("/Type")) == "/Action":
        for key in list(obj.keys()):
            if key not in ("/Type",):
                del obj[key]
        removed += 1
    return removed


def _active_annotation(annot: object) -> bool:
    import pikepdf

    if not isinstance(annot, pikepdf.Dictionary):
        return False
    return str(annot.get("/Subtype", "")) in _ACTIVE_ANNOTS or "/A" in annot or "/AA" in annot
