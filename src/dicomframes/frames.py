"""Frame sources: how frame k of one Pixel Data value is found and decoded.

A DicomFile builds one source lazily, on the first frame request, from the
facts the scan found (pixel description, where the value is, byte order), so
that each later request is one C call.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from . import _frames, _native
from .codestream import header_agrees
from ._core import DEFLATE_MAX_RATIO, FLAG_BIG_ENDIAN, FLAG_ENCAPSULATED, FrameRule, StartMarker
from .errors import (
    DicomFramesError,
    MalformedError,
    PixelDataError,
    TruncatedError,
    UnsupportedError,
    UnsupportedTransferSyntaxError,
    format_tag,
    in_context,
)
from .pixels import TAG_PIXEL_DATA, PixelDescription, ybr_full_to_rgb
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
        self.value = value = buffer[offset:offset + length]
        self.offset = offset
        self.tag = tag
        self.dtype = pixels.dtype
        self.shape = pixels.frame_shape
        self.samples = pixels.rows * pixels.columns * pixels.samples_per_pixel
        self.layout = layout = native_layout(
            pixels, big_endian=big_endian,
            swap_ow_bytes=big_endian and pixels.bits_allocated == 8 and vr == "OW",
            correct_unused_bits=correct_unused_bits)
        self.frame_size = layout.frame_size
        # Frames wholly present in the value (a truncated file may hold fewer).
        self.available = available = len(value) * 8 // layout.frame_bits
        # Frames already found viewable: the check reads the whole frame, so it
        # is done once per frame (the mapping is read-only, the answer cannot change).
        self.viewable = bytearray(min(available, pixels.number_of_frames))

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

    def decode_into(self, k: int, target: np.ndarray, reduce: int = 0, threads: int = 1,
                    as_rgb: bool = True, stream: bool = False) -> None:
        """Frame k into `target` in one pass (copy, byte order, unused bits);
        `stream`: written around the cache, for batches larger than it."""
        # its bytes (a C-contiguous array, as every caller's is) as a memoryview cast:
        # reshape(-1).view(np.uint8) cost 2 us more on a cold open + one frame
        self.layout.decode(self.value, k, target.data.cast("B"), self.tag, self.offset,
                           stream)

    def prewake(self, threads: int) -> None:
        """A batch is coming: wake the C pool's threads now."""
        from . import _codecs

        _codecs.prewake(threads)

    def decode_batch(self, selected: Sequence[int], out: np.ndarray, threads: int,
                     stream: bool = False) -> bool:
        """Frames `selected` into ``out[0]``, ``out[1]``... as :meth:`decode_into`
        does, all in C on up to `threads` threads (csrc/dcf_batch.h), in chunks
        that Ctrl-C can stop between. Raises the first failing frame's error.
        False (nothing done) where frames must be fetched first (remote)."""
        from . import _codecs

        step = max(256, 64 * threads)  # a 512 KiB frame copies in ~0.1 ms
        for begin in range(0, len(selected), step):
            chunk = selected[begin:begin + step]
            failure = _codecs.decode_native_batch(
                self.layout, self.value, chunk, out[begin:begin + len(chunk)].data.cast("B"),
                self.tag, self.offset, stream, threads)
            if failure is not None:
                raise failure[1]
        return True


_MARKERS = {"j2k": StartMarker.J2K, "htj2k": StartMarker.J2K, "jpegls": StartMarker.JPEG,
            "jpeg": StartMarker.JPEG, "rle": StartMarker.RLE}
TAG_EXTENDED_OFFSET_TABLE = 0x7FE00001
# Codecs whose frames cannot decode to more than a bounded multiple of their size,
# checked by EncapsulatedFrames.check_present before any output is allocated.
SIZE_BOUNDED_CODECS = frozenset({"rle", "deflate"})


class LocatedFrames(NamedTuple):
    """Every frame located from the full fragment list: frame k is fragments
    first[k] .. first[k] + count[k] - 1 (Python lists: indexing numpy arrays
    per call costs more)."""

    first: list[int]
    count: list[int]  # type: ignore[assignment]  # shadows tuple.count, as intended
    offsets: list[int]
    lengths: list[int]
    rule: FrameRule


class WalkTable(NamedTuple):
    """The offset table that places frame k by walking only its own items."""

    table: memoryview
    entry_size: int           # 4 (Basic Offset Table) or 8 (Extended)
    big_endian: bool          # the table's byte order
    first_item: int           # file offset of the first fragment's item tag
    items_big_endian: bool    # the items' byte order
    rule: FrameRule


class EncapsulatedFrames:
    """Compressed Pixel Data: frame k is one or more fragments, located (see
    csrc/dcf_frames.h for the rules) and decoded in C with the GIL released,
    straight from the mapping when the frame is a single fragment.

    When the scan stopped after the offset table (a lazy index, see _scan.pyx)
    and the table passes the checks it can pass alone, frame k is located by
    walking only its own item headers, and remembered. Once the index is
    complete (asked for by someone, or because a walk disagreed with the
    table), every frame is located from the full fragment list by the rules,
    exactly as for an eagerly scanned file."""

    def __init__(self, buffer: memoryview, index: Any, pixel_index: int,
                 pixels: PixelDescription, ts: TransferSyntax) -> None:
        self.pixels = pixels
        self.buffer = buffer
        self.ts = ts
        self.dtype = pixels.dtype
        self.shape = pixels.frame_shape
        # Why no frame can be decoded (a syntax without a decoder), or None.
        self.no_decoder: UnsupportedTransferSyntaxError | None = None
        try:
            self.decode_frame = codec_for(ts)
        except UnsupportedTransferSyntaxError as exc:
            # The frames can still be located (info, check, encoded_frame); decoding
            # any of them raises this.
            self.no_decoder = exc
            self.decode_frame = partial(_no_decoder, exc)
        self._index = index
        self._pixel_index = pixel_index
        self._eot: memoryview | None = None
        self._eot_big_endian = False
        eot_index = index.find(-1, TAG_EXTENDED_OFFSET_TABLE)
        if eot_index >= 0:
            eot = index.record(eot_index)
            self._eot = buffer[eot.offset:eot.offset + eot.length]
            self._eot_big_endian = bool(eot.flags & FLAG_BIG_ENDIAN)
        # Set once, read without a lock.
        self._all: LocatedFrames | None = None
        # The lazy path: its table, and frame k -> (offsets, lengths) found by walks.
        self._lazy: WalkTable | None = None
        self._walked: dict[int, tuple[list[int], list[int]]] = {}
        if not index.complete:
            self._lazy = self._table_for_walks()
        if self._lazy is None:
            self._locate_all()

    def _table_for_walks(self) -> WalkTable | None:
        """The offset table the rules would try first, if it passes the checks
        it can pass without the fragments (else None: locate them all)."""
        frames = self.pixels.number_of_frames
        bot = self._index.record(self._pixel_index + 1)
        first_item = bot.offset + bot.length
        items_big_endian = bool(bot.flags & FLAG_BIG_ENDIAN)
        candidates = []
        if self._eot is not None:
            candidates.append((self._eot, 8, self._eot_big_endian,
                               FrameRule.EXTENDED_OFFSET_TABLE))
        candidates.append((self.buffer[bot.offset:bot.offset + bot.length], 4, False,
                           FrameRule.BASIC_OFFSET_TABLE))
        for table, entry_size, big_endian, rule in candidates:
            if not _frames.check_offset_table(table, entry_size, big_endian, frames):
                return WalkTable(table, entry_size, big_endian, first_item, items_big_endian,
                                 rule)
        return None

    def _locate_all(self, k: int | None = None) -> LocatedFrames:
        """Locate every frame from the full fragment list (indexing it first if
        the scan was lazy). A failure to index it, met while locating frame k,
        is reported as frame k's."""
        located = self._all
        if located is not None:
            return located
        try:
            offsets, lengths = self._index.fragments(self._pixel_index)
        except DicomFramesError as exc:
            if k is None:
                raise
            raise in_context(exc, f"frame {k}", frame=k) from None
        first, count, rule = _frames.locate_frames(
            self.buffer, offsets, lengths, self._eot, self._eot_big_endian,
            self.pixels.number_of_frames, _MARKERS.get(self.ts.key, StartMarker.NONE))
        located = self._all = LocatedFrames(first.tolist(), count.tolist(), offsets.tolist(),
                                            lengths.tolist(), rule)
        return located

    @property
    def rule(self) -> str:
        """How the frames were located (the rule of csrc/dcf_frames.h). Once
        the index is complete, always the rule over the full fragment list."""
        if self._all is None and (self._lazy is None or self._index.complete):
            self._locate_all()
        located = self._all if self._all is not None else self._lazy
        assert located is not None
        return located.rule.text

    def fragments_of(self, k: int) -> tuple[list[int], list[int]]:
        """Value offsets and lengths of frame k's fragments."""
        located = self._all
        if located is None:
            if not self._index.complete:
                walked = self._walked.get(k)
                if walked is not None:
                    return walked
                lazy = self._lazy
                assert lazy is not None
                walked = _frames.walk_frame(self.buffer, lazy.first_item, lazy.table,
                                            lazy.entry_size, lazy.big_endian, k,
                                            lazy.items_big_endian)
                if walked is not None:
                    self._walked[k] = walked
                    return walked
            located = self._locate_all(k)
        start, stop = located.first[k], located.first[k] + located.count[k]
        return located.offsets[start:stop], located.lengths[start:stop]

    def view(self, k: int) -> None:
        return None

    @property
    def size_bounded(self) -> bool:
        """Does check_present bound each frame's output by its size (RLE, deflate)?"""
        return self.ts.key in SIZE_BOUNDED_CODECS

    def check_present(self, k: int) -> None:
        """Every located frame has its fragments (the scan or the walk checked
        them). RLE and deflate also bound the output before it is allocated: a
        PackBits run of 2 bytes gives at most 128, so an RLE frame decodes to at
        most 64 times its size; deflate gives at most 1032 bytes per byte."""
        key = self.ts.key
        if key not in SIZE_BOUNDED_CODECS:
            return
        offsets, lengths = self.fragments_of(k)
        if key == "rle" and self.pixels.bits_allocated == 1:
            # Not damage: the superseded 1-bit RLE (PS3.5 G.2 before 2018) has no decoder
            # here, whatever the size of the fragments.
            raise UnsupportedError(
                f"frame {k} ({self.ts.name}, fragment at offset {offsets[0]}): RLE Lossless "
                f"with Bits Allocated 1 (bit-packed byte segments) is not supported",
                tag=TAG_PIXEL_DATA, offset=offsets[0], frame=k)
        encoded = sum(lengths)
        p = self.pixels
        if key == "rle":
            possible = self.pixels.frame_nbytes <= 64 * encoded
        else:
            stored = -(-p.rows * p.columns * p.samples_per_pixel * p.bits_allocated // 8)
            possible = stored <= DEFLATE_MAX_RATIO * (encoded + 1)
        if not possible:
            offset = offsets[0]
            raise TruncatedError(
                f"frame {k} ({self.ts.name}, fragment at offset {offset}) has {encoded} "
                f"bytes, which cannot decode to the {p.frame_nbytes} bytes of a "
                f"{p.rows} x {p.columns} frame", tag=TAG_PIXEL_DATA, offset=offset, frame=k)

    def header_agrees(self, k: int) -> bool:
        """Does frame k's codestream header (JPEG SOFn, JPEG-LS SOF55, JPEG 2000
        SIZ, RLE header) agree with the Image Pixel attributes? Read without
        decoding; False when it cannot tell (no decoder, no header reader)."""
        if self.no_decoder is not None:
            return False
        try:
            return header_agrees(self.ts.key, self.encoded(k), self.pixels)
        except DicomFramesError:
            return False

    def fragment_offset(self, k: int) -> int:
        """Byte offset of frame k's first fragment value in the file."""
        return self.fragments_of(k)[0][0]

    def encoded(self, k: int) -> memoryview | bytes:
        """Frame k's codestream: a view of the mapping for a single fragment,
        else the fragments gathered into a new bytes object."""
        offsets, lengths = self.fragments_of(k)
        if len(offsets) == 1:
            start = offsets[0]
            return self.buffer[start:start + lengths[0]]
        return b"".join(self.buffer[start:start + length]
                        for start, length in zip(offsets, lengths))

    def decode_into(self, k: int, target: np.ndarray, reduce: int = 0, threads: int = 1,
                    as_rgb: bool = True) -> None:
        """Decode frame k into `target`; `reduce` reaches J2K/HTJ2K and JPEG
        (`target` then has the reduced shape), `threads` J2K/HTJ2K, `as_rgb` the
        codecs that convert colour themselves (:data:`CODEC_COLOUR`)."""
        data = self.encoded(k)
        try:
            self.decode_frame(data, target, self.pixels, reduce, threads, as_rgb)
        except DicomFramesError as exc:
            raise self._frame_error(k, exc) from None

    def _frame_error(self, k: int, exc: DicomFramesError) -> DicomFramesError:
        """A codec's error as frame k's: with the frame, its fragment and offset."""
        offset = self.fragment_offset(k)
        return in_context(exc, f"frame {k} ({self.ts.name}, fragment at offset {offset})",
                          tag=TAG_PIXEL_DATA, offset=offset, frame=k)

    def prewake(self, threads: int) -> None:
        """A batch of this codec is coming: wake the C pool's threads now."""
        from . import _codecs

        if self.ts.key in _codecs.BATCH_CODECS:
            _codecs.prewake(threads)

    def decode_batch(self, selected: Sequence[int], out: np.ndarray, threads: int,
                     codec_threads: int, as_rgb: bool = True) -> bool:
        """Decode frames `selected` into ``out[0]``, ``out[1]``... as
        :meth:`decode_into` does, all in C on up to `threads` threads with no
        Python between frames (csrc/dcf_batch.h). The error raised is the first
        failing frame's, as frame by frame. False, with nothing done, where the
        batch decoder cannot serve (other codecs)."""
        from . import _codecs

        key = self.ts.key
        if key not in _codecs.BATCH_CODECS or self.no_decoder is not None:
            return False
        p = self.pixels
        # YBR_FULL(_422) JPEG shown as RGB: libjpeg converts its frames itself, our own
        # decoder (lossless, 12-bit) does not; those are converted here, as frame by frame.
        convert = key == "jpeg" and as_rgb and p.is_ybr_full

        # In chunks: the calling thread is in C for a whole chunk, and Ctrl-C (which
        # Python sees only between bytecodes) must not wait for a thousand frames.
        step = max(64, 32 * threads)
        for begin in range(0, len(selected), step):
            chunk = selected[begin:begin + step]
            frames: list[Any] = []  # memoryviews of the mapping, bytes where gathered
            unlocated: DicomFramesError | None = None
            for k in chunk:
                try:
                    frames.append(self.encoded(k))
                except DicomFramesError as exc:  # raised once the frames before it are done
                    unlocated = exc
                    break
            colour_done = bytearray(len(frames)) if convert else None
            failure = _codecs.decode_batch(
                key, frames, out[begin:begin + len(frames)], p.rows, p.columns,
                p.samples_per_pixel, p.bits_allocated, p.bits_stored, p.pixel_representation,
                p.photometric_interpretation, threads, codec_threads,
                as_rgb=as_rgb or not p.is_ybr_full, colour_done=colour_done)
            if colour_done is not None:  # the frames decoded, also before a failure
                decoded = failure[0] if failure is not None else len(frames)
                for position in range(decoded):
                    if not colour_done[position]:
                        out[begin + position] = ybr_full_to_rgb(out[begin + position])
            if failure is not None:
                position, error = failure
                raise self._frame_error(chunk[position], error) from None
            if unlocated is not None:
                raise unlocated
        return True


Decoder = Callable[[Any, np.ndarray, PixelDescription, int, int, bool], None]
# Codec key -> the most resolution levels `reduce` may drop.
REDUCIBLE = {"j2k": 32, "htj2k": 32, "jpeg": 3}
# Codecs that convert YBR_FULL(_422) colour themselves when `as_rgb` (the others
# leave it to FrameOutput, as for native data).
CODEC_COLOUR = frozenset({"jpeg"})


def codec_for(ts: TransferSyntax) -> Decoder:
    """The decode function ``(data, out, pixels, reduce, threads, as_rgb)`` for
    transfer syntax `ts`, or UnsupportedTransferSyntaxError. Only the codecs of
    REDUCIBLE use `reduce` (out is then ceil(size / 2**reduce)), only J2K/HTJ2K
    `threads`, only those of CODEC_COLOUR `as_rgb`."""
    from . import _codecs

    def args(p: PixelDescription, reduce: int = 0) -> tuple[int, int, int, int, int, int, str]:
        rows, columns = -(-p.rows >> reduce), -(-p.columns >> reduce)
        return (rows, columns, p.samples_per_pixel, p.bits_allocated, p.bits_stored,
                p.pixel_representation, p.photometric_interpretation)

    if ts.codec == "rle":
        return lambda data, out, p, reduce, threads, as_rgb: _codecs.decode_rle(
            data, out, *args(p))
    if ts.codec == "jpegls":
        return lambda data, out, p, reduce, threads, as_rgb: _codecs.decode_jls(
            data, out, *args(p))
    if ts.codec in ("j2k", "htj2k"):
        return lambda data, out, p, reduce, threads, as_rgb: _codecs.decode_j2k(
            data, out, *args(p, reduce), reduce=reduce, threads=threads)
    if ts.codec == "deflate":
        return _decode_deflated
    if ts.codec == "jpeg":
        return partial(_decode_jpeg, _codecs.decode_jpeg, args)
    raise UnsupportedTransferSyntaxError(
        f"no decoder for {ts.name} ({ts.uid}) Pixel Data: dicomframes decodes native, RLE "
        f"Lossless, JPEG, JPEG-LS, JPEG 2000, HTJ2K and Deflated Image Frame Compression",
        tag=TAG_PIXEL_DATA)


def _no_decoder(exc: Exception, *args: Any) -> None:
    raise exc


def _decode_jpeg(decode: Callable[..., bool], args: Callable[..., tuple], data: Any,
                 out: np.ndarray, p: PixelDescription, reduce: int, threads: int,
                 as_rgb: bool) -> None:
    # libjpeg converts YCbCr itself (3 components only): to RGB unless the caller
    # keeps YBR_FULL(_422) as stored (as Pillow under pydicom). Our lossless / 12-bit
    # decoder converts nothing: a YBR_FULL frame is converted here, as native data is.
    done = decode(data, out, *args(p, reduce), as_rgb=as_rgb or not p.is_ybr_full,
                  reduce=reduce)
    if not done and as_rgb and p.is_ybr_full:
        out[...] = ybr_full_to_rgb(out)


def _decode_deflated(data: Any, out: np.ndarray, p: PixelDescription, reduce: int,
                     threads: int, as_rgb: bool) -> None:
    # Once inflated, a frame is native frame 0: little endian, bits above Bits
    # Stored made canonical (as for RLE), 1-bit frames unpacked.
    layout = native_layout(p, big_endian=False, swap_ow_bytes=False)
    layout.decode_deflated(data, out.reshape(-1).view(np.uint8))


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
    if flags & FLAG_ENCAPSULATED:
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
                        bool(flags & FLAG_BIG_ENDIAN), correct_unused_bits)
