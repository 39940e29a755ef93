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


@dataclass(frozen=True)
class SourceInfo:
    media_type: str  # image/jpeg, image/png, image/tiff, application/pdf, ...
    page_count: int
