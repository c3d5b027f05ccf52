"""Frame sources: how frame k of one Pixel Data value is found and decoded.

A DicomFile builds one source lazily, on the first frame request, from the
facts the scan found (pixel description, where the value is, byte order), so
that each later request is one C call.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _native, _scan
from .errors import MalformedError, UnsupportedTransferSyntaxError, format_tag
from .pixels import TAG_PIXEL_DATA, PixelDescription
from .uids import TransferSyntax

__all__ = ["NativeFrames", "frame_source"]


class NativeFrames:
    """Uncompressed Pixel Data: frame k is at a fixed offset in the value."""

    def __init__(self, buffer: memoryview, pixels: PixelDescription, offset: int, length: int,
                 tag: int, vr: str, big_endian: bool, correct_unused_bits: bool) -> None:
        self.pixels = pixels
        self.buffer = buffer
        self.value = buffer[offset:offset + length]
        self.offset = offset
        self.tag = tag
        self.dtype = pixels.dtype
        self.shape = pixels.frame_shape
        self.count = pixels.rows * pixels.columns * pixels.samples_per_pixel
        bits_stored = pixels.bits_stored if correct_unused_bits else pixels.bits_allocated
        self.layout = _native.NativeLayout(
            pixels.rows, pixels.columns, pixels.samples_per_pixel, pixels.bits_allocated,
            bits_stored, pixels.pixel_representation, pixels.planar_configuration,
            big_endian, big_endian and pixels.bits_allocated == 8 and vr == "OW",
            pixels.photometric_interpretation == "YBR_FULL_422", pixels.is_float)
        self.frame_size = self.layout.frame_size

    def view(self, k: int) -> np.ndarray | None:
        """Frame k as a read-only view of the buffer, or None when it must be
        converted (or is not wholly present: decoding then names the shortfall)."""
        if not self.layout.viewable(self.value, k):
            return None
        view = np.frombuffer(self.buffer, dtype=self.dtype, count=self.count,
                             offset=self.offset + k * self.frame_size)
        view = view.reshape(self.shape)
        view.flags.writeable = False
        return view

    def decode_into(self, k: int, target: np.ndarray) -> None:
        self.layout.decode(self.value, k, target.reshape(-1).view(np.uint8), self.tag,
                           self.offset)


def frame_source(buffer: memoryview, index: Any, pixel_index: int, pixels: PixelDescription,
                 ts: TransferSyntax, correct_unused_bits: bool) -> NativeFrames:
    """The frame source for the Pixel Data element `pixel_index`."""
    tag, vr, flags, offset, length = index.record(pixel_index)
    if flags & _scan.FLAG_ENCAPSULATED:
        if not ts.encapsulated:
            raise MalformedError(
                f"Pixel Data {format_tag(tag)} is encapsulated but the transfer syntax "
                f"{ts.uid} ({ts.name}) is native", tag=tag, offset=offset)
        raise UnsupportedTransferSyntaxError(
            f"decoding {ts.name} ({ts.uid}) Pixel Data is not supported yet",
            tag=tag, offset=offset)
    if ts.encapsulated and tag == TAG_PIXEL_DATA:
        raise MalformedError(
            f"transfer syntax {ts.uid} ({ts.name}) needs encapsulated Pixel Data but "
            f"(7FE0,0010) has a defined length", tag=tag, offset=offset)
    return NativeFrames(buffer, pixels, offset, length, tag, vr,
                        bool(flags & _scan.FLAG_BIG_ENDIAN), correct_unused_bits)
