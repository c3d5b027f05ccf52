"""The Modality LUT of each frame: Rescale Slope and Intercept (PS3.3 C.11.1).

Classic objects carry them at the top level; enhanced multi-frame objects in
the Pixel Value Transformation Sequence of their functional groups, per frame
or shared by all frames (PS3.3 C.7.6.16.2.9). A frame's own group wins over
the shared one, which wins over the top level. As in pydicom's
``apply_rescale``, the transformation applies only where both Slope and
Intercept are given; otherwise the values pass through unchanged.
"""

from __future__ import annotations

from typing import Any

from .errors import UnsupportedError, format_tag

__all__ = ["RescaleTable"]

TAG_RESCALE_INTERCEPT = 0x00281052
TAG_RESCALE_SLOPE = 0x00281053
TAG_MODALITY_LUT_SEQUENCE = 0x00283000
TAG_PIXEL_VALUE_TRANSFORMATION_SEQUENCE = 0x00289145
TAG_SHARED_FUNCTIONAL_GROUPS = 0x52009229
TAG_PER_FRAME_FUNCTIONAL_GROUPS = 0x52009230

IDENTITY = (1.0, 0.0)


def _number(value: Any) -> float | None:
    if isinstance(value, list):  # DS with VM > 1: only the first is meaningful
        value = value[0] if value else None
    return None if value is None else float(value)


def _pair(dataset: Any) -> tuple[float, float] | None:
    """(slope, intercept) of one data set (an Item), or None unless both are there."""
    slope = _number(dataset.value(TAG_RESCALE_SLOPE, None))
    intercept = _number(dataset.value(TAG_RESCALE_INTERCEPT, None))
    if slope is None or intercept is None:
        return None
    return slope, intercept


def _group_pair(group: Any) -> tuple[float, float] | None:
    """(slope, intercept) from one functional group item's Pixel Value
    Transformation Sequence, or None."""
    transformations = group.value(TAG_PIXEL_VALUE_TRANSFORMATION_SEQUENCE, None)
    if not transformations:
        return None
    return _pair(transformations[0])


class RescaleTable:
    """Slope and intercept for every frame of one file, read once."""

    def __init__(self, dataset: Any, frames: int) -> None:
        lut = dataset.value(TAG_MODALITY_LUT_SEQUENCE, None)
        self.unsupported = (
            f"the Modality LUT Sequence {format_tag(TAG_MODALITY_LUT_SEQUENCE)} (a lookup "
            f"table, not Rescale Slope/Intercept) is not supported by rescale=True"
            if lut else None)
        default = _pair(dataset) or IDENTITY
        shared_groups = dataset.value(TAG_SHARED_FUNCTIONAL_GROUPS, None)
        if shared_groups:
            default = _group_pair(shared_groups[0]) or default
        self.default = default
        self.per_frame: list[tuple[float, float] | None] | None = None
        per_frame_groups = dataset.value(TAG_PER_FRAME_FUNCTIONAL_GROUPS, None)
        if per_frame_groups:
            pairs = [_group_pair(group) for group in per_frame_groups[:frames]]
            if any(pair is not None for pair in pairs):
                self.per_frame = pairs

    def __call__(self, frame: int) -> tuple[float, float]:
        """(slope, intercept) for `frame`."""
        if self.unsupported:
            raise UnsupportedError(self.unsupported, tag=TAG_MODALITY_LUT_SEQUENCE, frame=frame)
        if self.per_frame is not None and frame < len(self.per_frame):
            return self.per_frame[frame] or self.default
        return self.default
