"""`decode_frame`: one frame from raw bytes and the Image Pixel attributes,
without a file around it (used by the file API's callers and the pydicom
plugin)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from .errors import PixelDataError
from .frames import CODEC_COLOUR, check_out, codec_for, native_layout
from .pixels import TAG_PIXEL_DATA, PixelModule, describe_pixels, finish_colour
from .uids import EXPLICIT_VR_BIG_ENDIAN, transfer_syntax

__all__ = ["decode_frame"]

# A photometric interpretation the codecs treat as "other colour": no sign correction.
_NO_SIGN_CORRECTION = "OTHER"


def decode_frame(data: Any, transfer_syntax_uid: str, *, rows: int, columns: int,
                 samples_per_pixel: int, bits_allocated: int, bits_stored: int,
                 pixel_representation: int, photometric_interpretation: str,
                 planar_configuration: int = 0, out: np.ndarray | None = None,
                 as_rgb: bool = True, correct_sign: bool = True) -> np.ndarray:
    """Decode one frame of `data` (a codestream, or one native frame's bytes)
    into a new array of shape ``(rows, columns[, samples])`` or into `out`.

    The output matches what :meth:`DicomFile.frame` returns for a file with the
    same attributes: native byte order, colour-by-pixel, unused high bits made
    canonical, YBR_FULL(_422) converted to RGB unless `as_rgb` is False.
    `correct_sign` False keeps JPEG 2000 and JPEG-LS samples as the codestream
    has them: no sign correction of a J2K codestream whose signedness differs
    from Pixel Representation, no sign extension of JPEG-LS samples (pydicom's
    ``apply_j2k_sign_correction`` / ``apply_jls_sign_correction`` = False); it
    changes nothing for the other syntaxes.
    Raises a :class:`DicomFramesError` subclass for data that cannot be decoded
    and :class:`UnsupportedTransferSyntaxError` for syntaxes without a decoder.
    """
    ts = transfer_syntax(str(transfer_syntax_uid).rstrip("\x00 "))
    pixels = describe_pixels(
        PixelModule(rows, columns, samples_per_pixel, bits_allocated, bits_stored,
                    pixel_representation, planar_configuration, 1, photometric_interpretation),
        TAG_PIXEL_DATA)
    # Colour converted here, as for native data, unless the codec does it itself.
    to_rgb = as_rgb and pixels.is_ybr_full and ts.key not in CODEC_COLOUR
    if out is not None:
        check_out(out, pixels.frame_shape, pixels.dtype)
    target = out if out is not None and not to_rgb else np.empty(pixels.frame_shape,
                                                                  pixels.dtype)
    view = memoryview(data)
    if view.ndim != 1 or view.itemsize != 1:
        view = view.cast("B")
    if ts.encapsulated:
        codec_pixels, into = pixels, target
        if not correct_sign and ts.key == "jpegls":  # decoded as unsigned: the same bytes
            codec_pixels = replace(pixels, pixel_representation=0)
            into = target.view(f"=u{target.dtype.itemsize}")
        elif not correct_sign and ts.key in ("j2k", "htj2k"):
            # The codec corrects the sign of MONOCHROME1/2 samples only.
            codec_pixels = replace(pixels, photometric_interpretation=_NO_SIGN_CORRECTION)
        codec_for(ts)(view, into, codec_pixels, 0, 1, as_rgb and pixels.is_ybr_full)
    else:
        layout = native_layout(pixels, big_endian=ts.uid == EXPLICIT_VR_BIG_ENDIAN,
                               swap_ow_bytes=False)
        if len(view) * 8 < layout.frame_bits:
            raise PixelDataError(
                f"native frame needs {(layout.frame_bits + 7) // 8} bytes, got {len(view)}",
                tag=TAG_PIXEL_DATA)
        layout.decode(view, 0, target.reshape(-1).view(np.uint8))
    return finish_colour(target, out, to_rgb)
