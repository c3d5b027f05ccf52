"""The pixel description: what the Image Pixel module says the frames look like."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .errors import PixelDataError, format_tag

__all__ = ["PIXEL_MODULE_TAGS", "PixelDescription", "PixelModule", "describe_pixels",
           "finish_colour", "ybr_full_to_rgb"]

TAG_SAMPLES_PER_PIXEL = 0x00280002
TAG_PHOTOMETRIC = 0x00280004
TAG_PLANAR_CONFIGURATION = 0x00280006
TAG_NUMBER_OF_FRAMES = 0x00280008
TAG_ROWS = 0x00280010
TAG_COLUMNS = 0x00280011
TAG_BITS_ALLOCATED = 0x00280100
TAG_BITS_STORED = 0x00280101
TAG_HIGH_BIT = 0x00280102
TAG_PIXEL_REPRESENTATION = 0x00280103
TAG_PIXEL_DATA = 0x7FE00010
TAG_FLOAT_PIXEL_DATA = 0x7FE00008
TAG_DOUBLE_PIXEL_DATA = 0x7FE00009

PIXEL_KEYWORDS = {
    TAG_PIXEL_DATA: "PixelData",
    TAG_FLOAT_PIXEL_DATA: "FloatPixelData",
    TAG_DOUBLE_PIXEL_DATA: "DoubleFloatPixelData",
}


class PixelModule(NamedTuple):
    """The top-level Image Pixel attributes as stored (None where absent or
    unreadable), before any check: what `describe_pixels` checks."""

    rows: int | None
    columns: int | None
    samples_per_pixel: int | None
    bits_allocated: int | None
    bits_stored: int | None
    pixel_representation: int | None
    planar_configuration: int | None
    number_of_frames: int | None
    photometric_interpretation: str | None


# The tag of each PixelModule field, in field order.
PIXEL_MODULE_TAGS = (
    TAG_ROWS, TAG_COLUMNS, TAG_SAMPLES_PER_PIXEL, TAG_BITS_ALLOCATED, TAG_BITS_STORED,
    TAG_PIXEL_REPRESENTATION, TAG_PLANAR_CONFIGURATION, TAG_NUMBER_OF_FRAMES, TAG_PHOTOMETRIC,
)


# (signed, bytes) -> the native-order integer dtype (built once: np.dtype parses its string)
_INT_DTYPES = {(signed, size): np.dtype(f"={'i' if signed else 'u'}{size}")
               for signed in (False, True) for size in (1, 2, 4, 8)}
_FLOAT32, _FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)


@dataclass(frozen=True, init=False)
class PixelDescription:
    """The Image Pixel module of one data set, checked for consistency."""

    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    photometric_interpretation: str
    planar_configuration: int
    number_of_frames: int
    pixel_tag: int
    # Worked out from the fields when made (not compared or shown): the dtype of decoded
    # values (native order; uint8 for 1-bit data), the shape and the bytes of one frame.
    dtype: np.dtype = field(init=False, repr=False, compare=False)
    frame_shape: tuple[int, ...] = field(init=False, repr=False, compare=False)
    frame_nbytes: int = field(init=False, repr=False, compare=False)

    def __init__(self, rows: int, columns: int, samples_per_pixel: int, bits_allocated: int,
                 bits_stored: int, pixel_representation: int, photometric_interpretation: str,
                 planar_configuration: int, number_of_frames: int, pixel_tag: int) -> None:
        dtype: np.dtype
        if pixel_tag == TAG_FLOAT_PIXEL_DATA:
            dtype = _FLOAT32
        elif pixel_tag == TAG_DOUBLE_PIXEL_DATA:
            dtype = _FLOAT64
        else:
            dtype = _INT_DTYPES[pixel_representation == 1, max(bits_allocated // 8, 1)]
        # All in one store, computed here rather than by properties: the generated
        # __init__ of a frozen dataclass sets each field through object.__setattr__, and
        # a cold open + one frame paid for both.
        object.__setattr__(self, "__dict__", {
            "rows": rows, "columns": columns, "samples_per_pixel": samples_per_pixel,
            "bits_allocated": bits_allocated, "bits_stored": bits_stored,
            "pixel_representation": pixel_representation,
            "photometric_interpretation": photometric_interpretation,
            "planar_configuration": planar_configuration, "number_of_frames": number_of_frames,
            "pixel_tag": pixel_tag, "dtype": dtype,
            "frame_shape": (rows, columns) if samples_per_pixel == 1 else (
                rows, columns, samples_per_pixel),
            "frame_nbytes": rows * columns * samples_per_pixel * dtype.itemsize})

    @property
    def is_float(self) -> bool:
        return self.pixel_tag != TAG_PIXEL_DATA

    @property
    def is_ybr_full(self) -> bool:
        """YBR_FULL or YBR_FULL_422 colour: what pydicom converts to RGB by default."""
        return self.samples_per_pixel == 3 and self.photometric_interpretation in (
            "YBR_FULL", "YBR_FULL_422")


def _bad(tag: int, message: str) -> PixelDataError:
    return PixelDataError(f"{format_tag(tag)} {message}", tag=tag)


def describe_pixels(module: PixelModule, pixel_tag: int) -> PixelDescription:
    """Build and check the PixelDescription from the Image Pixel attributes as
    stored (None where absent)."""
    (rows, columns, spp, bits_allocated, bits_stored, pixel_representation, planar,
     frames, photometric) = module

    if rows is None:
        raise _bad(TAG_ROWS, "Rows is missing; the pixel data cannot be described")
    if columns is None:
        raise _bad(TAG_COLUMNS, "Columns is missing; the pixel data cannot be described")
    is_float = pixel_tag != TAG_PIXEL_DATA
    spp = 1 if spp is None else spp
    if is_float:
        bits_allocated = bits_allocated or (32 if pixel_tag == TAG_FLOAT_PIXEL_DATA else 64)
        bits_stored = bits_allocated
        pixel_representation = 0
    else:
        if bits_allocated is None:
            raise _bad(TAG_BITS_ALLOCATED, "Bits Allocated is missing; the pixel data cannot be "
                      "described")
        bits_stored = bits_allocated if bits_stored is None else bits_stored
        pixel_representation = pixel_representation or 0
    photometric = photometric or ("MONOCHROME2" if spp == 1 else "RGB")
    planar = 0 if planar is None or spp == 1 else planar
    number_of_frames = frames if frames else 1  # pydicom: absent, empty or 0 -> 1

    if rows <= 0 or columns <= 0:
        raise _bad(TAG_ROWS, f"Rows x Columns is {rows} x {columns}; both must be positive")
    if spp not in (1, 3):
        raise _bad(TAG_SAMPLES_PER_PIXEL, f"Samples per Pixel {spp} is not supported (1 or 3)")
    if planar not in (0, 1):
        raise _bad(TAG_PLANAR_CONFIGURATION, f"Planar Configuration {planar} is not 0 or 1")
    if number_of_frames < 1:
        raise _bad(TAG_NUMBER_OF_FRAMES, f"Number of Frames {number_of_frames} is negative")
    if number_of_frames >= 1 << 31:
        raise _bad(TAG_NUMBER_OF_FRAMES, f"Number of Frames {number_of_frames} is implausible")
    if is_float:
        expected = 32 if pixel_tag == TAG_FLOAT_PIXEL_DATA else 64
        if bits_allocated != expected:
            raise _bad(TAG_BITS_ALLOCATED, f"Bits Allocated {bits_allocated} does not match "
                      f"{PIXEL_KEYWORDS[pixel_tag]} ({expected} expected)")
    elif bits_allocated not in (1, 8, 16, 32):
        raise _bad(TAG_BITS_ALLOCATED, f"Bits Allocated {bits_allocated} is not 1, 8, 16 or 32")
    if not 1 <= bits_stored <= bits_allocated:
        raise _bad(TAG_BITS_STORED, f"Bits Stored {bits_stored} is not in 1..{bits_allocated}")
    if pixel_representation not in (0, 1):
        raise _bad(TAG_PIXEL_REPRESENTATION,
                  f"Pixel Representation {pixel_representation} is not 0 or 1")
    # positional: a keyword call costs a third more
    return PixelDescription(rows, columns, spp, bits_allocated, bits_stored,
                            pixel_representation, photometric, planar, number_of_frames,
                            pixel_tag)


# YCbCr (full range, ITU-R BT.601) to RGB, as PS3.3 C.7.6.3.1.2 defines it and
# pydicom 3 computes it (float32 matrix product, round half up, clip).
_YBR_TO_RGB = np.asarray(
    [
        [1.000, 1.000, 1.000],
        [0.000, -0.114 * 1.772 / 0.587, 1.772],
        [1.402, -0.299 * 1.402 / 0.587, 0.000],
    ],
    dtype=np.float32,
)


def ybr_full_to_rgb(arr: np.ndarray) -> np.ndarray:
    """Convert YBR_FULL samples (last axis) to RGB, returning a new array of
    the same dtype, bit-identical with pydicom's default conversion."""
    dtype = arr.dtype
    work = arr.astype(np.float32)
    work -= np.asarray([0, 128, 128], dtype=np.float32)
    np.matmul(work, _YBR_TO_RGB, out=work)
    work += 0.5
    np.floor(work, out=work)
    np.clip(work, 0, 255, out=work)
    return work.astype(dtype)


def finish_colour(decoded: np.ndarray, out: np.ndarray | None, to_rgb: bool) -> np.ndarray:
    """The frame to hand back: `decoded` converted to RGB when `to_rgb`, and
    copied into the caller's `out` when one was given and not decoded into."""
    if not to_rgb:
        return decoded
    converted = ybr_full_to_rgb(decoded)
    if out is None:
        return converted
    out[...] = converted
    return out
