"""`decode_frame`: one frame from raw bytes and the Image Pixel attributes,
without a file around it (used by the file API's callers and the pydicom
plugin)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import PixelDataError
from .frames import check_out, codec_for, native_layout
from .pixels import TAG_PIXEL_DATA, describe_pixels, finish_colour
from .uids import transfer_syntax

__all__ = ["decode_frame"]

_BIG_ENDIAN_UID = "1.2.840.10008.1.2.2"


def decode_frame(data: Any, transfer_syntax_uid: str, *, rows: int, columns: int,
                 samples_per_pixel: int, bits_allocated: int, bits_stored: int,
                 pixel_representation: int, photometric_interpretation: str,
                 planar_configuration: int = 0, out: np.ndarray | None = None,
                 as_rgb: bool = True) -> np.ndarray:
    """Decode one frame of `data` (a codestream, or one native frame's bytes)
    into a new array of shape ``(rows, columns[, samples])`` or into `out`.

    The output matches what :meth:`DicomFile.frame` returns for a file with the
    same attributes: native byte order, colour-by-pixel, unused high bits made
    canonical, YBR_FULL(_422) converted to RGB unless `as_rgb` is False.
    Raises a :class:`DicomFramesError` subclass for data that cannot be decoded
    and :class:`UnsupportedTransferSyntaxError` for syntaxes without a decoder.
    """
    ts = transfer_syntax(str(transfer_syntax_uid).rstrip("\x00 "))
    pixels = describe_pixels(
        (rows, columns, samples_per_pixel, bits_allocated, bits_stored, pixel_representation,
         planar_configuration, 1, photometric_interpretation), TAG_PIXEL_DATA)
    to_rgb = as_rgb and pixels.is_ybr_full
    if out is not None:
        check_out(out, pixels.frame_shape, pixels.dtype)
    target = out if out is not None and not to_rgb else np.empty(pixels.frame_shape,
                                                                  pixels.dtype)
    view = memoryview(data)
    if view.ndim != 1 or view.itemsize != 1:
        view = view.cast("B")
    if ts.encapsulated:
        codec_for(ts)(view, target, pixels, 0, 1)
    else:
        layout = native_layout(pixels, big_endian=ts.uid == _BIG_ENDIAN_UID,
                               swap_ow_bytes=False)
        if len(view) * 8 < layout.frame_bits:
            raise PixelDataError(
                f"native frame needs {(layout.frame_bits + 7) // 8} bytes, got {len(view)}",
                tag=TAG_PIXEL_DATA)
        layout.decode(view, 0, target.reshape(-1).view(np.uint8))
    return finish_colour(target, out, to_rgb)
