"""Value types and errors of the OCR package."""

from __future__ import annotations

from dataclasses import dataclass, field


class InputRejectedError(Exception):
    """A file cannot be processed; str(error) is a reason fit to show a clerk."""


class UnsupportedFormatError(InputRejectedError):
    pass


class EmptyFileError(InputRejectedError):
    pass


class CorruptFileError(InputRejectedError):
    pass


class PasswordProtectedError(InputRejectedError):
    pass


class TooLargeError(InputRejectedError):
    pass


class RecognitionError(Exception):
    """Tesseract failed on an image that was accepted."""


@dataclass(frozen=True)
class WordBox:
    """A recognised word and its box in pixels, left/top from the image's top-left corner.

    TesseractRecognizer gives boxes in the image it read; OcrPipeline maps them back to the page
    image it was given (the stored page image), whatever it scaled or turned in between.
    """

    text: str
    confidence: float
    left: int
    top: int
    width: int
    height: int


@dataclass(frozen=True)
class RecognizedText:
    text: str
    confidence: float  # mean word confidence, 0-100
    words: list[WordBox] = field(default_factory=list)
    # How the page was read (ocr.pipeline): its layout ("lines", "columns", "table") and languages.
    layout: str = ""
    languages: str = ""


@dataclass(frozen=True)
class SourceInfo:
    media_type: str  # image/jpeg, image/png, image/tiff, application/pdf, ...
    page_count: int
