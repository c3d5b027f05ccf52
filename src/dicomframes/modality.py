"""The Modality LUT of each frame: Rescale Slope and Intercept, or a Modality
LUT Sequence (PS3.3 C.11.1).

Classic objects carry them at the top level; enhanced multi-frame objects in
the Pixel Value Transformation Sequence of their functional groups, per frame
or shared by all frames (PS3.3 C.7.6.16.2.9). A frame's own group wins over
the shared one, which wins over the top level. As in pydicom's
``apply_rescale``, the transformation applies only where both Slope and
Intercept are given; otherwise the values pass through unchanged. A Modality
LUT Sequence, where present, takes precedence, as in pydicom: values below the
first mapped value take the first entry, values past the table the last.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import MalformedError, UnsupportedError, format_tag

__all__ = ["ModalityLut", "RescaleTable"]

TAG_RESCALE_INTERCEPT = 0x00281052
TAG_RESCALE_SLOPE = 0x00281053
TAG_MODALITY_LUT_SEQUENCE = 0x00283000
TAG_LUT_DESCRIPTOR = 0x00283002
TAG_LUT_DATA = 0x00283006
TAG_PIXEL_VALUE_TRANSFORMATION_SEQUENCE = 0x00289145
TAG_SHARED_FUNCTIONAL_GROUPS = 0x52009229
TAG_PER_FRAME_FUNCTIONAL_GROUPS = 0x52009230

IDENTITY = (1.0, 0.0)


def _first_number(dataset: Any, tag: int) -> float | None:
    """The first value of a number attribute (DS with VM > 1: only the first is
    meaningful); None when absent. MalformedError when it holds no number."""
    values = dataset.numbers(tag)
    return None if values is None or values[0] is None else float(values[0])


def _pair(dataset: Any) -> tuple[float, float] | None:
    """(slope, intercept) of one data set (an Item), or None unless both are there."""
    slope = _first_number(dataset, TAG_RESCALE_SLOPE)
    intercept = _first_number(dataset, TAG_RESCALE_INTERCEPT)
    if slope is None or intercept is None:
        return None
    return slope, intercept


def _group_pair(group: Any) -> tuple[float, float] | None:
    """(slope, intercept) from one functional group item's Pixel Value
    Transformation Sequence, or None."""
    transformations = group.sequence(TAG_PIXEL_VALUE_TRANSFORMATION_SEQUENCE)
    if not transformations:
        return None
    return _pair(transformations[0])


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


class ModalityLut:
    """A Modality LUT Sequence's table: ``out = table[clip(stored - first, 0, n - 1)]``."""

    def __init__(self, item: Any, big_endian: bool) -> None:
        descriptor = item.value(TAG_LUT_DESCRIPTOR, None)
        data = item.value(TAG_LUT_DATA, None)
        where = item.value_offset(TAG_LUT_DESCRIPTOR)
        if (not isinstance(descriptor, list) or len(descriptor) != 3
                or not all(_is_int(v) for v in descriptor) or data is None):
            raise MalformedError(
                f"Modality LUT Sequence {format_tag(TAG_MODALITY_LUT_SEQUENCE)}: needs an LUT "
                f"Descriptor {format_tag(TAG_LUT_DESCRIPTOR)} of 3 numbers (US or SS) and LUT "
                f"Data {format_tag(TAG_LUT_DATA)}, found {descriptor!r:.80} (at offset {where})",
                tag=TAG_LUT_DESCRIPTOR, offset=where)
        entries, self.first, depth = descriptor
        if not 0 <= entries < 1 << 16:
            raise MalformedError(
                f"Modality LUT Descriptor {format_tag(TAG_LUT_DESCRIPTOR)} at offset {where}: "
                f"{entries} entries (0 to 65535 expected)", tag=TAG_LUT_DESCRIPTOR, offset=where)
        entries = entries or 1 << 16  # PS3.3 C.11.1.1.1: 0 means 65536
        if depth not in (8, 16):
            raise UnsupportedError(
                f"Modality LUT Descriptor {format_tag(TAG_LUT_DESCRIPTOR)} at offset {where}: "
                f"{depth}-bit entries (8 or 16 expected)", tag=TAG_LUT_DESCRIPTOR, offset=where)
        offset = item.value_offset(TAG_LUT_DATA)
        if isinstance(data, (bytes, bytearray, memoryview)):  # OW: words in the file's order
            raw = bytes(data)
            values = np.frombuffer(raw[:len(raw) & ~1], dtype=">u2" if big_endian else "<u2")
        elif _is_int(data) or (isinstance(data, list) and all(_is_int(v) for v in data)):
            values = np.asarray(data if isinstance(data, list) else [data], dtype=np.int64)
        else:
            raise item.malformed(TAG_LUT_DATA, "Modality LUT Data (US, SS or OW)", data)
        if len(values) < entries:
            raise MalformedError(
                f"Modality LUT Data {format_tag(TAG_LUT_DATA)} at offset {offset} has "
                f"{len(values)} entries, the descriptor says {entries}", tag=TAG_LUT_DATA,
                offset=offset)
        self.table = values[:entries].astype(f"uint{depth}").astype(np.float32)

    def apply(self, stored: np.ndarray, out: np.ndarray) -> None:
        """Look up every stored value of `stored` into `out` (float32)."""
        index = stored.astype(np.int64) - self.first
        np.clip(index, 0, len(self.table) - 1, out=index)
        np.take(self.table, index.reshape(out.shape), out=out)


class RescaleTable:
    """Slope and intercept for every frame of one file, read once."""

    def __init__(self, dataset: Any, frames: int, big_endian: bool = False) -> None:
        # Every attribute read here is checked for its kind: a sequence with another
        # VR, text where a number belongs, raise MalformedError naming the tag.
        luts = dataset.sequence(TAG_MODALITY_LUT_SEQUENCE)
        self.lut = ModalityLut(luts[0], big_endian) if luts else None
        default = _pair(dataset) or IDENTITY
        shared_groups = dataset.sequence(TAG_SHARED_FUNCTIONAL_GROUPS)
        if shared_groups:
            default = _group_pair(shared_groups[0]) or default
        self.default = default
        self.per_frame: list[tuple[float, float] | None] | None = None
        per_frame_groups = dataset.sequence(TAG_PER_FRAME_FUNCTIONAL_GROUPS)
        if per_frame_groups:
            pairs = [_group_pair(group) for group in per_frame_groups[:frames]]
            if any(pair is not None for pair in pairs):
                self.per_frame = pairs

    def __call__(self, frame: int) -> tuple[float, float]:
        """(slope, intercept) for `frame` (when there is no :attr:`lut`)."""
        if self.per_frame is not None and frame < len(self.per_frame):
            return self.per_frame[frame] or self.default
        return self.default
