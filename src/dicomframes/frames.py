"""Frame sources: how frame k of one Pixel Data value is found and decoded.

A DicomFile builds one source lazily, on the first frame request, from the
facts the scan found (pixel description, where the value is, byte order), so
that each later request is one C call.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import _frames, _native, _scan
from .errors import (
    DicomFramesError,
    MalformedError,
    PixelDataError,
    TruncatedError,
    UnsupportedTransferSyntaxError,
    format_tag,
)
from .pixels import TAG_PIXEL_DATA, PixelDescription
from .uids import TransferSyntax

__all__ = ["EncapsulatedFrames", "NativeFrames", "check_out", "codec_for", "frame_source",
           "native_layout"]


def native_layout(pixels: PixelDescription, *, big_endian: bool, swap_ow_bytes: bool,
                  correct_unused_bits: bool = True) -> Any:
    """The C layout of one native frame described by `pixels`."""
    bits_stored = pixels.bits_stored if correct_unused_bits else pixels.bits_allocated
    return _native.NativeLayout(
        pixels.rows, pixels.columns, pixels.samples_per_pixel, pixels.bits_allocated,
        bits_stored, pixels.pixel_representation, pixels.planar_configuration,
        big_endian, swap_ow_bytes, pixels.photometric_interpretation == "YBR_FULL_422",
        pixels.is_float)


def check_out(out: Any, shape: tuple[int, ...], dtype: np.dtype) -> None:
    """Raise unless `out` is an ndarray a frame (stack) can be decoded into."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray, not {type(out).__name__}")
    problems = []
    if out.dtype != dtype:
        problems.append(f"dtype {out.dtype} (need {dtype})")
    if out.shape != tuple(shape):
        problems.append(f"shape {out.shape} (need {tuple(shape)})")
    if not out.flags.c_contiguous:
        problems.append("not C-contiguous")
    if not out.flags.writeable:
        problems.append("not writeable")
    if problems:
        raise ValueError("unusable out array: " + ", ".join(problems))


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
        self.samples = pixels.rows * pixels.columns * pixels.samples_per_pixel
        self.layout = native_layout(
            pixels, big_endian=big_endian,
            swap_ow_bytes=big_endian and pixels.bits_allocated == 8 and vr == "OW",
            correct_unused_bits=correct_unused_bits)
        self.frame_size = self.layout.frame_size
        # Frames wholly present in the value (a truncated file may hold fewer).
        self.available = len(self.value) * 8 // self.layout.frame_bits
        # Frames already found viewable: the check reads the whole frame, so it
        # is done once per frame (the mapping is read-only, the answer cannot change).
        self.viewable = bytearray(min(self.available, pixels.number_of_frames))

    def check_present(self, k: int) -> None:
        """Raise PixelDataError, naming the shortfall, unless frame k is wholly
        present: checked before any output is allocated."""
        if k < self.available:
            return
        bits = self.layout.frame_bits
        need = ((k + 1) * bits + 7) // 8
        raise PixelDataError(
            f"Pixel Data {format_tag(self.tag)} at offset {self.offset} holds {len(self.value)} "
            f"bytes, too few for frame {k}, which needs {need} bytes "
            f"({need - len(self.value)} short)", tag=self.tag, offset=self.offset, frame=k)

    def view(self, k: int) -> np.ndarray | None:
        """Frame k as a read-only view of the buffer, or None when it must be
        converted (or is not wholly present: decoding then names the shortfall)."""
        if k >= len(self.viewable):
            return None
        if not self.viewable[k]:
            if not self.layout.viewable(self.value, k):
                return None
            self.viewable[k] = 1
        view = np.frombuffer(self.buffer, dtype=self.dtype, count=self.samples,
                             offset=self.offset + k * self.frame_size)
        view = view.reshape(self.shape)
        view.flags.writeable = False
        return view

    def decode_into(self, k: int, target: np.ndarray, reduce: int = 0, threads: int = 1) -> None:
        self.layout.decode(self.value, k, target.reshape(-1).view(np.uint8), self.tag,
                           self.offset)


_MARKERS = {"j2k": _frames.MARKER_J2K, "htj2k": _frames.MARKER_J2K,
            "jpegls": _frames.MARKER_JPEG, "jpeg": _frames.MARKER_JPEG,
            "rle": _frames.MARKER_RLE}
TAG_EXTENDED_OFFSET_TABLE = 0x7FE00001


class EncapsulatedFrames:
    """Compressed Pixel Data: frame k is one or more fragments, located once
    (see csrc/dcf_frames.h for the rules) and decoded in C with the GIL
    released, straight from the mapping when the frame is a single fragment."""

    def __init__(self, buffer: memoryview, index: Any, pixel_index: int,
                 pixels: PixelDescription, ts: TransferSyntax) -> None:
        self.pixels = pixels
        self.buffer = buffer
        self.ts = ts
        self.dtype = pixels.dtype
        self.shape = pixels.frame_shape
        self.decode_frame = codec_for(ts)
        offsets, lengths = index.fragments(pixel_index)
        eot_index = index.find(-1, TAG_EXTENDED_OFFSET_TABLE)
        eot = None
        eot_big_endian = False
        if eot_index >= 0:
            _, _, eot_flags, eot_offset, eot_length = index.record(eot_index)
            eot = buffer[eot_offset:eot_offset + eot_length]
            eot_big_endian = bool(eot_flags & _scan.FLAG_BIG_ENDIAN)
        first, count, self.rule = _frames.locate_frames(
            buffer, offsets, lengths, eot, eot_big_endian, pixels.number_of_frames,
            _MARKERS.get(ts.codec or "", _frames.MARKER_NONE))
        # Python ints: indexing numpy arrays per call costs more than the lists.
        self._first = first.tolist()
        self._count = count.tolist()
        self._offsets = offsets.tolist()
        self._lengths = lengths.tolist()

    def view(self, k: int) -> None:
        return None

    def check_present(self, k: int) -> None:
        """Every located frame has its fragments (the scanner checked them). RLE
        also bounds the output before it is allocated: a PackBits run of 2 bytes
        gives at most 128, so a frame decodes to at most 64 times its size."""
        if self.ts.codec == "rle":
            first, count = self._first[k], self._count[k]
            encoded = sum(self._lengths[first:first + count])
            if self.pixels.frame_nbytes > 64 * encoded:
                offset = self._offsets[first]
                raise TruncatedError(
                    f"frame {k} (RLE Lossless, fragment at offset {offset}) has {encoded} "
                    f"bytes, which cannot decode to the {self.pixels.frame_nbytes} bytes of a "
                    f"{self.pixels.rows} x {self.pixels.columns} frame", tag=TAG_PIXEL_DATA,
                    offset=offset, frame=k)

    def fragment_offset(self, k: int) -> int:
        """Byte offset of frame k's first fragment value in the file."""
        return self._offsets[self._first[k]]

    def encoded(self, k: int) -> memoryview | bytes:
        """Frame k's codestream: a view of the mapping for a single fragment,
        else the fragments gathered into a new bytes object."""
        first, count = self._first[k], self._count[k]
        if count == 1:
            start = self._offsets[first]
            return self.buffer[start:start + self._lengths[first]]
        return b"".join(self.buffer[self._offsets[i]:self._offsets[i] + self._lengths[i]]
                        for i in range(first, first + count))

    def decode_into(self, k: int, target: np.ndarray, reduce: int = 0, threads: int = 1) -> None:
        """Decode frame k into `target`; `reduce` and `threads` reach J2K/HTJ2K only
        (`target` then has the reduced shape)."""
        data = self.encoded(k)
        try:
            self.decode_frame(data, target, self.pixels, reduce, threads)
        except DicomFramesError as exc:
            offset = self.fragment_offset(k)
            raise type(exc)(f"frame {k} ({self.ts.name}, fragment at offset {offset}): {exc}",
                            tag=TAG_PIXEL_DATA, offset=offset, frame=k) from None


Decoder = Callable[[Any, np.ndarray, PixelDescription, int, int], None]


def codec_for(ts: TransferSyntax) -> Decoder:
    """The decode function ``(data, out, pixels, reduce, threads)`` for transfer
    syntax `ts`, or UnsupportedTransferSyntaxError. Only J2K/HTJ2K use `reduce`
    (out is then ceil(size / 2**reduce)) and `threads`."""
    from . import _codecs

    def args(p: PixelDescription, reduce: int = 0) -> tuple:
        rows, columns = -(-p.rows >> reduce), -(-p.columns >> reduce)
        return (rows, columns, p.samples_per_pixel, p.bits_allocated, p.bits_stored,
                p.pixel_representation, p.photometric_interpretation)

    if ts.codec == "rle":
        return lambda data, out, p, reduce, threads: _codecs.decode_rle(data, out, *args(p))
    if ts.codec == "jpegls":
        return lambda data, out, p, reduce, threads: _codecs.decode_jls(data, out, *args(p))
    if ts.codec in ("j2k", "htj2k"):
        return lambda data, out, p, reduce, threads: _codecs.decode_j2k(
            data, out, *args(p, reduce), reduce=reduce, threads=threads)
    raise UnsupportedTransferSyntaxError(
        f"no decoder for {ts.name} ({ts.uid}) Pixel Data: dicomframes decodes native, RLE "
        f"Lossless, JPEG-LS, JPEG 2000 and HTJ2K", tag=TAG_PIXEL_DATA)


def frame_source(buffer: memoryview, index: Any, pixel_index: int, pixels: PixelDescription,
                 ts: TransferSyntax, correct_unused_bits: bool,
                 max_frame_bytes: int = 1 << 32) -> NativeFrames | EncapsulatedFrames:
    """The frame source for the Pixel Data element `pixel_index`."""
    tag, vr, flags, offset, length = index.record(pixel_index)
    if pixels.frame_nbytes > max_frame_bytes:
        raise PixelDataError(
            f"one decoded frame would take {pixels.frame_nbytes} bytes ({pixels.rows} x "
            f"{pixels.columns} x {pixels.samples_per_pixel} x {pixels.dtype.itemsize}), more "
            f"than max_frame_bytes={max_frame_bytes}", tag=tag, offset=offset)
    if flags & _scan.FLAG_ENCAPSULATED:
        if not ts.encapsulated:
            raise MalformedError(
                f"Pixel Data {format_tag(tag)} is encapsulated but the transfer syntax "
                f"{ts.uid} ({ts.name}) is native", tag=tag, offset=offset)
        return EncapsulatedFrames(buffer, index, pixel_index, pixels, ts)
    if ts.encapsulated and tag == TAG_PIXEL_DATA:
        raise MalformedError(
            f"transfer syntax {ts.uid} ({ts.name}) needs encapsulated Pixel Data but "
            f"(7FE0,0010) has a defined length", tag=tag, offset=offset)
    return NativeFrames(buffer, pixels, offset, length, tag, vr,
                        bool(flags & _scan.FLAG_BIG_ENDIAN), correct_unused_bits)
