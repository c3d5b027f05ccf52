"""dicomframes: fast, lazy, GIL-free decoding of DICOM pixel data.

    import dicomframes as dcf
    with dcf.open("ct.dcm") as f:     # memory-mapped; only the header is read
        f.rows, f.number_of_frames, f.dtype, f.frame_shape
        frame = f[7]                   # one frame (a zero-copy view where possible)
        stack = f.frames([1, 2, 3])    # (n, *frame_shape), decoded on all cores
    volume = dcf.read_frames(paths, sort="position", rescale=True)  # a series, float32
"""

from .errors import (
    CodecError,
    DicomFramesError,
    DicomFramesWarning,
    MalformedError,
    NotDicomError,
    NestingError,
    PixelDataError,
    TruncatedError,
    UnsupportedError,
    UnsupportedTransferSyntaxError,
)
from .decode import decode_frame
from .file import DicomFile, Item, open
from .keywords import keyword_for, tag_for
from .series import MismatchError, read_frames
from .pixels import PixelDescription
from ._config import config, show_config

__version__ = "0.1.0"

__all__ = [
    "CodecError",
    "DicomFile",
    "DicomFramesError",
    "DicomFramesWarning",
    "Item",
    "MalformedError",
    "NotDicomError",
    "MismatchError",
    "NestingError",
    "PixelDataError",
    "PixelDescription",
    "TruncatedError",
    "UnsupportedError",
    "UnsupportedTransferSyntaxError",
    "config",
    "decode_frame",
    "keyword_for",
    "open",
    "read_frames",
    "show_config",
    "tag_for",
]
