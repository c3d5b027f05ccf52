"""Frames as a viewer shows them: ``DicomFile.display(k, window=None, bits=8)``.

The grayscale pipeline of PS3.4 N.2.1: the Modality LUT (Rescale Slope / Intercept, or a
Modality LUT Sequence), then the VOI LUT (Window Center / Width with the VOI LUT Function
LINEAR, LINEAR_EXACT or SIGMOID, or a VOI LUT Sequence), MONOCHROME1 inverted; PALETTE
COLOR through its palette (normal or segmented) to RGB; RGB (and YBR, converted to RGB)
as stored. Then scaled to 8 or 16 bits.

:func:`display_values` gives the values before scaling, equal to pydicom's
``apply_modality_lut`` / ``apply_voi_lut`` / ``apply_color_lut`` for classic objects (the
same operations, in the same order and dtypes), with the range they are scaled from.
Enhanced multi-frame objects take Rescale Slope / Intercept and the window from the
frame's functional groups (per frame, else shared), which pydicom's functions do not read.
Without any VOI (and no `window`), the frame's own minimum..maximum is the range.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ._core import Encoding
from .errors import MalformedError, UnsupportedError, format_tag
from .modality import (
    TAG_LUT_DATA,
    TAG_LUT_DESCRIPTOR,
    TAG_MODALITY_LUT_SEQUENCE,
    TAG_PER_FRAME_FUNCTIONAL_GROUPS,
    TAG_SHARED_FUNCTIONAL_GROUPS,
    IDENTITY,
    RescaleTable,
    _pair,
)

if TYPE_CHECKING:
    from .file import DicomFile

__all__ = ["DisplayValues", "display", "display_values", "parse_window"]

TAG_WINDOW_CENTER = 0x00281050
TAG_WINDOW_WIDTH = 0x00281051
TAG_VOI_LUT_FUNCTION = 0x00281056
TAG_VOI_LUT_SEQUENCE = 0x00283010
TAG_FRAME_VOI_LUT_SEQUENCE = 0x00289132
TAG_RED_DESCRIPTOR = 0x00281101
PALETTE_DATA = (0x00281201, 0x00281202, 0x00281203, 0x00281204)  # R, G, B, alpha
SEGMENTED_DATA = (0x00281221, 0x00281222, 0x00281223, 0x00281224)


class DisplayValues(NamedTuple):
    """The values of one frame before scaling, the range they are scaled from (``low``
    shown black, ``high`` white, unless ``inverted``), and the steps applied."""

    values: np.ndarray
    low: float
    high: float
    inverted: bool
    steps: tuple[str, ...]


def parse_window(text: str) -> tuple[float, float]:
    """``"CENTER,WIDTH"`` as two floats (ValueError otherwise)."""
    parts = text.split(",")
    if len(parts) != 2:
        raise ValueError(f"window {text!r}: expected CENTER,WIDTH such as 40,400")
    center, width = (float(p) for p in parts)
    if width <= 0:
        raise ValueError(f"window {text!r}: the width must be positive")
    return center, width


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _at(value: Any, index: int) -> Any:
    if isinstance(value, list):
        return value[index] if len(value) > index else None
    return value


def _words(data: Any, count: int | None, big_endian: bool, dtype: str) -> np.ndarray:
    """LUT Data as integers: OW bytes in the data set's byte order, or US values."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        if count is not None:
            raw = raw[:2 * count]
        return np.frombuffer(raw, dtype=">u2" if big_endian else "<u2").astype(dtype)
    return np.asarray(data if isinstance(data, list) else [data], dtype=dtype)


def _lookup(arr: np.ndarray, table: np.ndarray, first_map: int, entries: int,
            index_dtype: Any) -> np.ndarray:
    # As pydicom: values below first_map take entry 0, values past the table the last.
    clipped = np.zeros(arr.shape, dtype=index_dtype)
    mapped = arr >= first_map
    clipped[mapped] = arr[mapped] - first_map
    np.clip(clipped, 0, entries - 1, out=clipped)
    return table[clipped]


def _lut_item(item: Any, what: str) -> tuple[int, int, int, Any]:
    descriptor = item.value(TAG_LUT_DESCRIPTOR, None)
    data = item.value(TAG_LUT_DATA, None)
    if not isinstance(descriptor, list) or len(descriptor) != 3 or data is None:
        raise MalformedError(f"{what}: needs an LUT Descriptor {format_tag(TAG_LUT_DESCRIPTOR)} "
                             f"of 3 numbers and LUT Data {format_tag(TAG_LUT_DATA)}",
                             tag=TAG_LUT_DESCRIPTOR)
    entries, first_map, depth = (int(v) for v in descriptor)
    return entries or 1 << 16, first_map, depth, data


def _group_item(f: DicomFile, k: int, sequence_tag: int) -> Any:
    """The first item of `sequence_tag` in frame k's functional group, else the shared one."""
    for groups_tag, index in ((TAG_PER_FRAME_FUNCTIONAL_GROUPS, k),
                              (TAG_SHARED_FUNCTIONAL_GROUPS, 0)):
        groups = f.value(groups_tag, None)
        if groups and index < len(groups):
            items = groups[index].value(sequence_tag, None)
            if items:
                return items[0]
    return None


def _palette(f: DicomFile, arr: np.ndarray, big_endian: bool) -> tuple[np.ndarray, int]:
    descriptor = f.value(TAG_RED_DESCRIPTOR, None)
    if not isinstance(descriptor, list) or len(descriptor) != 3:
        raise MalformedError(f"PALETTE COLOR without a Red Palette Color Lookup Table "
                             f"Descriptor {format_tag(TAG_RED_DESCRIPTOR)} of 3 numbers",
                             tag=TAG_RED_DESCRIPTOR)
    entries, first_map, nominal = int(descriptor[0]) or 1 << 16, int(descriptor[1]), \
        int(descriptor[2])
    luts: list[np.ndarray] = []
    if PALETTE_DATA[0] in f:
        for tag in PALETTE_DATA:
            data = f.value(tag, None)
            if data is None:
                continue
            raw = bytes(data) if isinstance(data, (bytes, bytearray, memoryview)) else \
                np.asarray(data, "<u2").tobytes()
            depth = len(raw) * 8 // entries
            if depth not in (8, 16):
                raise UnsupportedError(f"palette data {format_tag(tag)}: {len(raw)} bytes for "
                                       f"{entries} entries (8 or 16 bits each expected)",
                                       tag=tag)
            order = ">" if big_endian and depth == 16 else "<"
            luts.append(np.frombuffer(raw, dtype=f"{order}u{depth // 8}").astype(f"u{depth // 8}"))
    elif SEGMENTED_DATA[0] in f:
        depth = nominal
        fmt = "B" if depth == 8 else "H"
        for tag in SEGMENTED_DATA:
            data = f.value(tag, None)
            if data is None:
                continue
            raw = bytes(data) if isinstance(data, (bytes, bytearray, memoryview)) else \
                np.asarray(data, "<u2").tobytes()
            count = len(raw) // (depth // 8)
            words = struct.unpack(f"{'>' if big_endian else '<'}{count}{fmt}",
                                  raw[:count * (depth // 8)])
            luts.append(np.asarray(_expand_segmented(words, fmt), dtype=f"uint{depth}"))
    else:
        raise MalformedError("PALETTE COLOR without Palette Color Lookup Table Data "
                             "(0028,1201-1203) or Segmented data (0028,1221-1223)",
                             tag=PALETTE_DATA[0])
    if len({len(lut) for lut in luts}) != 1:
        raise MalformedError("the palette's red, green and blue tables differ in length",
                             tag=PALETTE_DATA[0])
    depth = luts[0].dtype.itemsize * 8
    clipped = np.zeros(arr.shape, dtype=luts[0].dtype)
    mapped = arr >= first_map
    clipped[mapped] = arr[mapped] - np.int32(first_map)
    np.clip(clipped, 0, entries - 1, out=clipped)
    out = np.empty((*arr.shape, len(luts)), dtype=luts[0].dtype)
    for i, lut in enumerate(luts):
        out[..., i] = lut[clipped]
    return out, depth


def _expand_segmented(data: tuple[int, ...], fmt: str, limit: int | None = None,
                      previous: int | None = None) -> list[int]:
    """A Segmented Palette Color LUT expanded (PS3.3 C.7.9.2), as pydicom expands it."""
    indirect = [3, 2, 1, 0] if "<" in fmt else [2, 3, 0, 1]
    lut: list[int] = []
    at = 0
    segments = 0
    while at + 1 < len(data):
        opcode, length = data[at], data[at + 1]
        at += 2
        if opcode == 0:  # discrete
            lut.extend(data[at:at + length])
            at += length
        elif opcode == 1:  # linear
            if lut:
                y0 = lut[-1]
            elif previous:
                y0 = previous
            else:
                raise MalformedError("segmented palette: the first segment is linear")
            y1 = data[at]
            at += 1
            if y0 == y1:
                lut.extend([y1] * length)
            else:
                step = (y1 - y0) / length
                lut.extend(int(v) for v in np.around(np.linspace(y0 + step, y1, length)))
        elif opcode == 2:  # indirect
            if not lut:
                raise MalformedError("segmented palette: the first segment is indirect")
            if "B" in fmt:
                b = [data[at + i] for i in indirect]
                offset = (b[0] << 8 | b[1]) << 16 | (b[2] << 8 | b[3])
                at += 4
            else:
                offset = data[at + 1] << 16 | data[at]
                at += 2
            lut.extend(_expand_segmented(data[offset:], fmt, length, lut[-1]))
        else:
            raise MalformedError(f"segmented palette: unknown segment type {opcode}")
        segments += 1
        if segments == limit:
            break
    return lut


def _windowing(arr: np.ndarray, center: float, width: float, function: str,
               y_min: float, y_max: float) -> np.ndarray:
    """pydicom's apply_windowing, given the output range."""
    y_range = y_max - y_min
    arr = arr.astype("float64")
    if function in ("LINEAR", "LINEAR_EXACT"):
        if function == "LINEAR":
            if width < 1:
                raise ValueError("Window Width (0028,1051) must be >= 1 for LINEAR windowing")
            center -= 0.5
            width -= 1
        elif width <= 0:
            raise ValueError("Window Width (0028,1051) must be > 0 for LINEAR_EXACT windowing")
        below = arr <= (center - width / 2)
        above = arr > (center + width / 2)
        between = ~below & ~above
        arr[below] = y_min
        arr[above] = y_max
        if between.any():
            arr[between] = ((arr[between] - center) / width + 0.5) * y_range + y_min
        return arr
    if function == "SIGMOID":
        if width <= 0:
            raise ValueError("Window Width (0028,1051) must be > 0 for SIGMOID windowing")
        return y_range / (1 + np.exp(-4 * (arr - center) / width)) + y_min
    raise UnsupportedError(f"VOI LUT Function (0028,1056) {function!r}: LINEAR, LINEAR_EXACT "
                           f"or SIGMOID expected", tag=TAG_VOI_LUT_FUNCTION)


def display_values(f: DicomFile, k: int, window: tuple[float, float] | None = None
                   ) -> DisplayValues:
    """Frame `k` through the Modality LUT, the VOI LUT (or `window` = (center, width),
    which replaces the file's) and the palette, before scaling (see the module doc)."""
    p = f.pixels
    arr = f.frame(k)
    big_endian = f._index.encoding == Encoding.EXPLICIT_BE
    pi = p.photometric_interpretation
    if pi == "PALETTE COLOR":
        out, depth = _palette(f, arr, big_endian)
        return DisplayValues(out, 0, (1 << depth) - 1, False, ("palette",))
    if p.samples_per_pixel != 1:
        if p.is_float:
            return DisplayValues(arr, float(arr.min()), float(arr.max()), False, ("range",))
        return DisplayValues(arr, 0, (1 << p.bits_stored) - 1, False, ())
    steps: list[str] = []
    k = k % len(f)
    # Modality LUT
    modality_depth = None
    slope_intercept = None
    luts = f.value(TAG_MODALITY_LUT_SEQUENCE, None)
    if luts:
        entries, first_map, modality_depth, data = _lut_item(luts[0], "Modality LUT Sequence")
        table = _words(data, entries, big_endian, f"uint{modality_depth}")
        values = _lookup(arr, table, first_map, entries, arr.dtype)
        steps.append("modality LUT")
    else:
        rescale = RescaleTable(f.dataset, len(f), big_endian)
        if _pair(f.dataset) is not None or rescale.per_frame is not None or \
                rescale.default != IDENTITY:
            slope_intercept = rescale(k)
            values = arr.astype(np.float64) * slope_intercept[0]
            values += slope_intercept[1]
            steps.append("rescale")
        else:
            values = arr
    # VOI LUT
    if p.bits_stored and not p.is_float:
        if luts:
            assert modality_depth is not None  # set with the Modality LUT above
            y_min, y_max = 0.0, float(2 ** modality_depth - 1)
        elif p.pixel_representation == 0:
            y_min, y_max = 0.0, float(2 ** p.bits_stored - 1)
        else:
            y_min, y_max = float(-(2 ** (p.bits_stored - 1))), float(2 ** (p.bits_stored - 1) - 1)
        if slope_intercept is not None:
            y_min = y_min * slope_intercept[0] + slope_intercept[1]
            y_max = y_max * slope_intercept[0] + slope_intercept[1]
    else:
        y_min, y_max = float(np.min(values)), float(np.max(values))
    function = str(_first(f.value(TAG_VOI_LUT_FUNCTION, None)) or "LINEAR").strip().upper()
    voi_items = f.value(TAG_VOI_LUT_SEQUENCE, None)
    center = width = None
    if window is None and not (voi_items and voi_items[0].value(TAG_LUT_DESCRIPTOR, None)
                               is not None and voi_items[0].value(TAG_LUT_DATA, None) is not None):
        center = _first(f.value(TAG_WINDOW_CENTER, None))
        width = _first(f.value(TAG_WINDOW_WIDTH, None))
        if center is None or width is None:
            item = _group_item(f, k, TAG_FRAME_VOI_LUT_SEQUENCE)
            if item is not None:
                center = _first(item.value(TAG_WINDOW_CENTER, None))
                width = _first(item.value(TAG_WINDOW_WIDTH, None))
                function = str(_first(item.value(TAG_VOI_LUT_FUNCTION, None)) or function
                               ).strip().upper()
    if window is not None:
        values = _windowing(values, float(window[0]), float(window[1]), function, y_min, y_max)
        low, high = y_min, y_max
        steps.append(f"window {window[0]:g},{window[1]:g} {function}")
    elif voi_items and voi_items[0].value(TAG_LUT_DESCRIPTOR, None) is not None and \
            voi_items[0].value(TAG_LUT_DATA, None) is not None:
        entries, first_map, depth, data = _lut_item(voi_items[0], "VOI LUT Sequence")
        if depth == 8:
            dtype = "uint8"
        elif 10 <= depth <= 16:
            dtype = "uint16"
        else:
            raise UnsupportedError(f"VOI LUT Sequence: {depth} bits per entry",
                                   tag=TAG_LUT_DESCRIPTOR)
        table = _words(data, entries, big_endian, dtype)
        values = _lookup(values, table, first_map, entries, dtype)
        low, high = 0.0, float(2 ** depth - 1)
        steps.append("VOI LUT")
    elif center is not None and width is not None:
        values = _windowing(values, float(center), float(width), function, y_min, y_max)
        low, high = y_min, y_max
        steps.append(f"window {float(center):g},{float(width):g} {function}")
    else:
        low, high = float(np.min(values)), float(np.max(values))
        steps.append("frame min..max")
    inverted = pi == "MONOCHROME1"
    if inverted:
        steps.append("inverted (MONOCHROME1)")
    return DisplayValues(values, low, high, inverted, tuple(steps))


def display(f: DicomFile, k: int, window: tuple[float, float] | str | None = None,
            bits: int = 8) -> np.ndarray:
    """Frame `k` as a viewer shows it: uint8 (`bits` 8) or uint16 (`bits` 16), shape
    (rows, columns) for grayscale, (rows, columns, 3) for colour (4 for a palette with
    alpha). `window`: (center, width) or ``"CENTER,WIDTH"``, in place of the file's VOI."""
    if bits not in (8, 16):
        raise ValueError(f"bits={bits}: 8 or 16")
    if isinstance(window, str):
        window = parse_window(window)
    shown = display_values(f, k, window)
    top = (1 << bits) - 1
    span = shown.high - shown.low
    values = np.asarray(shown.values, dtype=np.float64)
    if span > 0:
        scaled = (values - shown.low) * (top / span)
    else:
        scaled = np.zeros_like(values)
    np.clip(scaled, 0, top, out=scaled)
    if shown.inverted:
        scaled = top - scaled
    return np.rint(scaled).astype(np.uint8 if bits == 8 else np.uint16)
