"""Exceptions raised by dicomframes.

Every error about the data is a :class:`DicomFramesError`, itself a
:class:`ValueError`, carrying the tag ``(gggg,eeee)``, the byte offset and,
for pixel data, the frame index where the problem was found.
"""

from __future__ import annotations

from ._core import NO_TAG, Status

__all__ = [
    "EXCEPTION_BY_STATUS",
    "CodecError",
    "DicomFramesError",
    "DicomFramesWarning",
    "MalformedError",
    "NestingError",
    "NotDicomError",
    "PixelDataError",
    "TruncatedError",
    "UnsupportedError",
    "UnsupportedTransferSyntaxError",
    "from_status",
    "format_tag",
]


def format_tag(tag: int | None) -> str:
    """``0x00280010`` -> ``"(0028,0010)"``."""
    if tag is None:
        return "(----,----)"
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


class DicomFramesError(ValueError):
    """Bad, truncated or inconsistent DICOM data.

    Attributes: ``tag`` (int or None), ``offset`` (byte offset or None) and
    ``frame`` (frame index or None).
    """

    def __init__(
        self,
        message: str,
        *,
        tag: int | None = None,
        offset: int | None = None,
        frame: int | None = None,
    ) -> None:
        super().__init__(message)
        self.tag = tag
        self.offset = offset
        self.frame = frame


class NotDicomError(DicomFramesError):
    """The data is not a DICOM file at all: no ``DICM`` prefix, and its first
    bytes are not a plausible data element (an empty file, an image, text)."""


class DicomFramesWarning(UserWarning):
    """Damage that dicomframes reads past, such as a cut or garbage after the
    Pixel Data: the frames are whole. Attributes ``tag`` and ``offset`` as
    for :class:`DicomFramesError`."""

    def __init__(self, message: str, *, tag: int | None = None,
                 offset: int | None = None) -> None:
        super().__init__(message)
        self.tag = tag
        self.offset = offset


class TruncatedError(DicomFramesError):
    """The data ends before a length it declares."""


class MalformedError(DicomFramesError):
    """The data breaks the encoding rules of PS3.5."""


class NestingError(MalformedError):
    """Sequences are nested deeper than the scanner allows."""


class PixelDataError(DicomFramesError):
    """Pixel Data that does not match its description (size, attributes)."""


class CodecError(DicomFramesError):
    """A codec could not decode a frame; the message carries the codec's own."""


class UnsupportedError(DicomFramesError, NotImplementedError):
    """Valid DICOM that dicomframes does not decode."""


class UnsupportedTransferSyntaxError(UnsupportedError):
    """Pixel Data in a transfer syntax that has no decoder here."""


def in_context(exc: DicomFramesError, where: str, **fields: int | None) -> DicomFramesError:
    """`exc` again, same class and attributes (unless `fields` replace them),
    its message led by `where`: for errors re-raised where more is known (the
    file, the frame, the fragment)."""
    attributes = {"tag": exc.tag, "offset": exc.offset, "frame": exc.frame, **fields}
    return type(exc)(f"{where}: {exc}", **attributes)


# Status of a failed C call (enum dcf_status, csrc/dcf_status.h) -> exception class.
# Every status but OK has an entry (tests/test_errors.py checks it).
EXCEPTION_BY_STATUS: dict[Status, type[Exception]] = {
    Status.TRUNCATED: TruncatedError,
    Status.MALFORMED: MalformedError,
    Status.TOO_DEEP: NestingError,
    Status.UNSUPPORTED: UnsupportedError,
    Status.NO_MEMORY: MemoryError,
    Status.ARGUMENT: DicomFramesError,
    Status.CODEC: CodecError,
    Status.PIXEL_DATA: PixelDataError,
}


def from_status(
    status: int, tag: int, offset: int, message: str, *, frame: int | None = None
) -> Exception:
    """The exception for a C status code and its error record."""
    cls = EXCEPTION_BY_STATUS.get(status, DicomFramesError)  # type: ignore[call-overload]
    if not issubclass(cls, DicomFramesError):
        return cls(message)
    tag_or_none = None if tag == NO_TAG else tag
    if frame is not None and "frame" not in message:
        message = f"frame {frame}: {message}"
    return cls(message, tag=tag_or_none, offset=offset, frame=frame)
