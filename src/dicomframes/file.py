"""`open()` and `DicomFile`: a scanned DICOM file with lazy frame access.

Opening maps the file read-only and runs the C scanner over it; no value is
decoded and no pixel byte is touched until asked for. Frames are decoded on
request straight from the mapping.
"""

from __future__ import annotations

from typing import Any, Iterator, Literal, Sequence

import numpy as np

from . import _scan, remote, uids
from ._core import Encoding, EncodingSource
from .batch import resolve_threads, run_parallel
from .dataset import MISSING, DatasetValues, Item
from .errors import DicomFramesError, NotDicomError, PixelDataError
from .frames import EncapsulatedFrames, NativeFrames, check_out, frame_source
from .modality import RescaleTable
from .output import FrameOutput
from .pixels import PixelDescription, PixelModule, describe_pixels
from .source import DEFAULT_MAX_INFLATED_BYTES, Source
from .uids import TransferSyntax, transfer_syntax

__all__ = ["DicomFile", "Item", "open"]

# The transfer syntax a data set found in each encoding stands for, when the
# file meta names none.
_ENCODING_UIDS: dict[int, str] = {
    Encoding.IMPLICIT_LE: uids.IMPLICIT_VR_LITTLE_ENDIAN,
    Encoding.EXPLICIT_LE: uids.EXPLICIT_VR_LITTLE_ENDIAN,
    Encoding.EXPLICIT_BE: uids.EXPLICIT_VR_BIG_ENDIAN,
    Encoding.DEFLATED: uids.DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
}
# Number of Frames beyond this is taken as corrupt (len() must fit a C ssize_t).
MAX_FRAMES = (1 << 31) - 1
DEFAULT_MAX_FRAME_BYTES = 1 << 32


def open(source: Any, *, correct_unused_bits: bool = True, max_depth: int = 0,
         max_inflated_bytes: int = DEFAULT_MAX_INFLATED_BYTES,
         max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
         storage_options: dict[str, Any] | None = None, download: bool = False) -> DicomFile:
    """Open a DICOM file (a path, memory-mapped read-only; files under 64 KiB
    are simply read) or DICOM bytes (any bytes-like object) and index its
    elements. Only the header is read: the cost does not grow with the size
    of the Pixel Data.

    `correct_unused_bits` (pydicom's option of the same name): make the
    bits above Bits Stored canonical (cleared, or copies of the sign bit), so
    values equal pydicom's. A native frame is still returned as a view when
    its bits are already canonical, which takes one read of the frame to
    check; pass False to get raw views without that read (the values then
    differ from pydicom's wherever a writer left data in the unused bits).
    `max_depth` bounds sequence nesting (default 32); `max_inflated_bytes`
    bounds a Deflated data set once inflated; `max_frame_bytes` (default 4 GiB)
    bounds one decoded frame, so that bogus Rows/Columns cannot make us
    allocate a giant output.

    Raises a :class:`~dicomframes.DicomFramesError` for data that is not
    valid DICOM, naming the tag and the byte offset
    (:class:`~dicomframes.NotDicomError` for data that is not DICOM at all).
    Damage after the Pixel Data (a cut, garbage) is not an error: the frames
    are whole, a :class:`~dicomframes.DicomFramesWarning` says what and where,
    and :attr:`DicomFile.damage` keeps it.

    A URL (``http(s)://``, ``s3://``, ``memory://``... through fsspec, with
    `storage_options`) or a seekable binary file object is read by byte ranges:
    the header on opening, each frame's bytes when it is asked for (see
    :mod:`dicomframes.remote`); `download` reads the whole file at once instead.
    """
    if remote.is_remote(source):
        opened = remote.open_source(source, storage_options=storage_options,
                                    download=download, max_depth=max_depth)
        try:
            file = DicomFile(opened, max_depth=max_depth,
                             max_inflated_bytes=max_inflated_bytes,
                             correct_unused_bits=correct_unused_bits,
                             max_frame_bytes=max_frame_bytes)
        except DicomFramesError as exc:
            raise remote.name_errors(getattr(opened, "name", None) or opened.path,
                                     exc) from None
        # Pickled with these, a file reopens on a worker as it was opened here.
        if storage_options:
            file._options["storage_options"] = storage_options
        if download:
            file._options["download"] = True
        return file
    return DicomFile(Source.open(source), max_depth=max_depth,
                     max_inflated_bytes=max_inflated_bytes,
                     correct_unused_bits=correct_unused_bits, max_frame_bytes=max_frame_bytes)


# The two-letter VRs of PS3.5 Table 6.2-1; those with a 4-byte length.
_VRS = frozenset(b"AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV "
                 b"TM UC UI UL UN UR US UT UV".split())
_LONG_VRS = frozenset(b"OB OD OF OL OV OW SQ SV UC UN UR UT UV".split())


def _usual_first_group(group: int) -> bool:
    """A group a data set without file meta usually starts with (even, up to
    0FFF, or 7FE0 for one that starts with its Pixel Data)."""
    return group % 2 == 0 and (group <= 0x0FFF or group == 0x7FE0)


def _not_dicom_reason(data: memoryview) -> str | None:
    """Why `data` is not a DICOM file, or None when it may be one: it has the
    ``DICM`` prefix (at 128, or at 0), or its first bytes are a plausible data
    element (a file without preamble, as pydicom reads with force=True): an
    even group (or a private one) below 0x8000, a known VR or none (implicit),
    and a value length that fits in the file unless the group is a usual first
    one (even, up to 0FFF, or 7FE0: then it is a cut DICOM file)."""
    size = len(data)
    if size >= 132 and data[128:132] == b"DICM" or data[:4] == b"DICM":
        return None
    if size == 0:
        return "the file is empty"
    why = 'no "DICM" prefix at offset 128, and '
    if size < 8:
        if size >= 2 and _usual_first_group(int.from_bytes(data[:2], "little")):
            return None  # a cut DICOM file: the scan names where
        return why + f"{size} bytes are too few for a data element"
    head = bytes(data[:12])
    group_le, element_le = int.from_bytes(head[0:2], "little"), int.from_bytes(head[2:4], "little")
    tag = f"({group_le:04X},{element_le:04X})"
    vr = head[4:6]
    if vr in _VRS:
        # Explicit VR, either byte order (the scan guesses it from the group).
        group_be = int.from_bytes(head[0:2], "big")
        big = group_be < group_le
        group = group_be if big else group_le
        order: Literal["big", "little"] = "big" if big else "little"
        if vr in _LONG_VRS:
            length = int.from_bytes(head[8:12], order) if size >= 12 else None
            start = 12
        else:
            length = int.from_bytes(head[6:8], order)
            start = 8
        kind = f"explicit VR {vr.decode()}"
    else:
        group, order = group_le, "little"
        length = int.from_bytes(head[4:8], "little")
        start = 8
        kind = "no known VR (implicit VR)"
    if group >= 0x8000 or group in (1, 3, 5, 7):
        return why + (f"its first bytes are not a plausible data element: tag {tag} is not "
                      f"a DICOM group")
    if length is None:
        return None  # a cut long-VR header: the scan names it
    # A cut file whose first element has a usual leading group stays a (truncated)
    # DICOM file, as does one that starts with its Pixel Data.
    if length != 0xFFFFFFFF and start + length > size and not _usual_first_group(group):
        return why + (f"its first bytes are not a plausible data element: tag {tag} with "
                      f"{kind} and value length {length} runs past the end of the "
                      f"{size}-byte file")
    return None


def _check_present_in_order(source: NativeFrames | EncapsulatedFrames,
                            selected: Sequence[int]) -> None:
    """The size checks made before the output is allocated, raising the error of
    the first failing frame in the order asked for (as decoding would). Native
    frames are present up to a point, so one check of the largest index shows
    whether any fails; encapsulated ones are checked one by one (only RLE and
    deflate check anything)."""
    if not selected:
        return
    if isinstance(source, NativeFrames):
        # O(log n) checks, whatever Number of Frames says: max(range(2**31)) alone
        # would walk two billion ints.
        whole = selected if isinstance(selected, range) and selected.step == 1 else None
        top = whole[-1] if whole is not None else max(selected)
        try:
            source.check_present(top)
            return
        except DicomFramesError:
            pass
        low, high = 0, top  # frame `top` is absent: find the first absent frame
        while low < high:
            mid = (low + high) // 2
            try:
                source.check_present(mid)
                low = mid + 1
            except DicomFramesError:
                high = mid
        first = (max(whole.start, low) if whole is not None
                 else next(k for k in selected if k >= low))
        source.check_present(first)  # raises its error
        return
    if not source.size_bounded:
        return
    for k in selected:  # stops at the first frame without fragments
        source.check_present(k)


# A batch of native frames into the caller's `out` larger than this is written around
# the cache (non-temporal stores, see dcf_native_decode_streaming): a last-level cache's
# worth. Measured on 105 MB of CT: into an `out` already in memory 5.3 ms instead of
# 9.0; into a fresh array, whose pages the kernel zeroes (through the cache) as they are
# first written, 3-5% slower, so a fresh array is written with ordinary stores.
STREAM_ABOVE_BYTES = 32 << 20


def _native_frames(source: NativeFrames, selected: Sequence[int], out: np.ndarray | None,
                   workers: int) -> np.ndarray:
    """Native frames as stored (no colour conversion, rescale or reduction): each
    decoded in one pass straight into its slot of the output, each thread working
    through its own contiguous block of slots (in C: NativeFrames.decode_batch; for
    remote sources, on run_parallel). Every frame is known to be present
    (_check_present_in_order)."""
    shape = (len(selected), *source.shape)
    if out is not None:
        check_out(out, shape, source.dtype)
        stream = out.nbytes > STREAM_ABOVE_BYTES
    else:
        out = np.empty(shape, source.dtype)
        stream = False
    if source.decode_batch(selected, out, workers, stream):
        return out
    decode, target = source.decode_into, out

    def task(position: int) -> None:
        decode(selected[position], target[position], stream=stream)

    run_parallel(task, len(selected), workers)
    return out


class _ItemContext:
    """What an Item reads through: the element index and the value decoder."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: Any, values: DatasetValues) -> None:
        self._index = index
        self._values = values


def _reopen(source: Any, options: dict[str, Any]) -> DicomFile:
    return open(source, **options)


_DEFLATED = int(Encoding.DEFLATED)  # compared on every open: an enum member is looked up


class DicomFile:
    """A DICOM file indexed in place. Use as a context manager or call
    :meth:`close`. Safe to share between threads for reading."""

    # What is worked out when first needed: None until then (class defaults, so that
    # opening does not store each of them).
    _uid: str | None = None  # the Transfer Syntax UID, once read (kept after close)
    _root_item: Item | None = None  # the top level
    _module: PixelModule | None = None
    _pixels: PixelDescription | None = None
    _frame_source: NativeFrames | EncapsulatedFrames | None = None
    _frame_count: int | None = None
    _rescale: RescaleTable | None = None
    _outputs: dict[tuple[bool, bool, int], FrameOutput] | None = None  # decoder()'s

    def __init__(self, data: Any, *, path: str | None = None, mapping: Any = None,
                 max_depth: int = 0, max_inflated_bytes: int = DEFAULT_MAX_INFLATED_BYTES,
                 correct_unused_bits: bool = True,
                 max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        source = data if isinstance(data, Source) else Source(data, path=path, mapping=mapping)
        try:
            reason = _not_dicom_reason(source.buffer)
            if reason is not None:
                raise NotDicomError(f"not a DICOM file: {reason}", offset=0)
            # Lazy: the fragments of compressed Pixel Data with an offset table
            # are indexed only if something needs them (see _scan.pyx).
            index = _scan.scan(source.buffer, -1, max_depth, source.lazy_scan)
            if index.encoding == _DEFLATED:
                source.inflate(index.dataset_offset, max_inflated_bytes)
                index = _scan.scan(source.buffer, Encoding.DEFLATED, max_depth, 1)
        except BaseException:
            source.close()  # at once: the mapping is not left to the garbage collector
            raise
        self._source = source
        self.path = source.path  # where the file was opened from (None for bytes)
        self._index = index
        self._values = DatasetValues(index, source)
        self._pixel_index: int = index.pixel_data
        self._correct_unused_bits = correct_unused_bits
        self._max_frame_bytes = max_frame_bytes
        # What reopening needs (pickling by path, e.g. into data-loader workers).
        self._options: dict[str, Any] = {
            "correct_unused_bits": correct_unused_bits, "max_depth": max_depth,
            "max_inflated_bytes": max_inflated_bytes, "max_frame_bytes": max_frame_bytes}
        prepare = getattr(source, "prepare_completion", None)  # remote sources
        if prepare is not None and not index.complete:
            # Whatever completes the scan (a value after the Pixel Data, len(), locating
            # frames without a usable offset table) reads bytes not fetched yet.
            index.before_finish = prepare(index, self._single_frame())

    @property
    def _root(self) -> Item:
        root = self._root_item
        if root is None:
            # The items see the index and the values, not this file: a file that is never
            # closed is freed (and its mapping released) by reference counting alone,
            # with no cycle left for the garbage collector.
            root = self._root_item = Item(_ItemContext(self._index, self._values), -1)
        return root

    @property
    def _buffer(self) -> memoryview:
        return self._source.buffer

    # ---- lifetime -------------------------------------------------------

    def close(self) -> None:
        """Release the mapping. Frames handed out as views keep it alive
        until they are gone; the file's facts (path, transfer syntax, pixel
        attributes already read) stay readable."""
        if self._source.closed:
            return
        self._uid = self.transfer_syntax_uid
        # The frame sources hold slices of the mapping: dropped, so that it is
        # unmapped now rather than when this object goes.
        self._frame_source = None
        self._outputs = None
        self._rescale = None
        self._source.close()

    def __enter__(self) -> DicomFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __reduce__(self) -> tuple[Any, ...]:
        # A file pickles as the means to reopen it, not as its mapping: a worker
        # process maps the file itself. Files opened from bytes carry the bytes.
        return _reopen, (self._source.reopen_argument(), self._options)

    @property
    def closed(self) -> bool:
        return self._source.closed

    def _check_open(self) -> None:
        if self._source.closed:
            raise ValueError("I/O operation on a closed DicomFile")

    def __repr__(self) -> str:
        name = self.path or "<bytes>"
        if self.closed:
            state = "closed"
        elif self._index.complete:
            state = f"{len(self._index)} elements"
        else:  # not worth indexing the fragments for
            state = f"{self._index.indexed} elements before the Pixel Data fragments"
        return f"<dicomframes.DicomFile {name!r} {state}>"

    # ---- elements and values -------------------------------------------

    @property
    def elements(self) -> np.ndarray:
        """The element index: a read-only structured array with fields tag,
        vr, flags, parent, depth, offset, length (one row per element, item
        and fragment, in file order)."""
        return self._index.array()

    @property
    def has_preamble(self) -> bool:
        return self._index.has_preamble

    @property
    def has_file_meta(self) -> bool:
        return self._index.has_file_meta

    @property
    def dataset(self) -> Item:
        """The top-level data set."""
        return self._root

    def value(self, tag: Any, default: Any = MISSING) -> Any:
        """The value of top-level element `tag` (an int, a ``(group,
        element)`` pair, a keyword such as ``"PatientName"`` or a string such
        as ``"(0010,0010)"``), decoded by its VR (ints for US/UL/SS/SL/IS,
        floats for FL/FD/DS, str for text, bytes for OB/UN, lists for
        multiplicity > 1, a list of :class:`Item` for SQ). An unknown keyword
        raises KeyError naming close matches."""
        return self._root.value(tag, default)

    def __contains__(self, tag: Any) -> bool:
        return tag in self._root

    def _pixel_module(self) -> PixelModule:
        if self._module is None:
            self._module = self._values.pixel_module()
        return self._module

    # ---- file-level facts -----------------------------------------------

    @property
    def transfer_syntax_uid(self) -> str:
        """The Transfer Syntax UID from the file meta, or the one the data
        set was found to be encoded in when the file has none."""
        uid = self._uid
        if uid is None:
            uid = self._uid = self._read_transfer_syntax_uid()
        return uid

    def _read_transfer_syntax_uid(self) -> str:
        if self._index.transfer_syntax >= 0:
            # The bytes as written, whatever the VR says: the scanner read them the
            # same way to pick the data set encoding.
            uid = str(self._values.raw(self._index.transfer_syntax), "latin-1").strip("\x00 ")
            if uid:
                return uid
        return _ENCODING_UIDS[self._index.encoding]

    @property
    def transfer_syntax(self) -> TransferSyntax:
        return transfer_syntax(self.transfer_syntax_uid)

    @property
    def has_pixel_data(self) -> bool:
        return self._pixel_index >= 0

    # ---- the pixel description -------------------------------------------

    @property
    def pixels(self) -> PixelDescription:
        """The checked pixel description (raises PixelDataError when the
        Image Pixel module is missing or inconsistent)."""
        if self._pixels is None:
            if self._pixel_index < 0:
                raise PixelDataError("the data set has no top-level Pixel Data, Float Pixel "
                                     "Data or Double Float Pixel Data element")
            pixel_tag = self._index.record(self._pixel_index).tag
            self._pixels = describe_pixels(self._pixel_module(), pixel_tag)
        return self._pixels

    # The raw attribute values (None when absent), as stored in the file.
    @property
    def rows(self) -> int | None:
        return self._pixel_module().rows

    @property
    def columns(self) -> int | None:
        return self._pixel_module().columns

    @property
    def samples_per_pixel(self) -> int | None:
        return self._pixel_module().samples_per_pixel

    @property
    def bits_allocated(self) -> int | None:
        return self._pixel_module().bits_allocated

    @property
    def bits_stored(self) -> int | None:
        return self._pixel_module().bits_stored

    @property
    def pixel_representation(self) -> int | None:
        return self._pixel_module().pixel_representation

    @property
    def planar_configuration(self) -> int | None:
        return self._pixel_module().planar_configuration

    @property
    def photometric_interpretation(self) -> str | None:
        return self._pixel_module().photometric_interpretation

    @property
    def number_of_frames(self) -> int:
        """Frames in the Pixel Data (1 when Number of Frames is absent or 0,
        as pydicom reads it; 0 without Pixel Data)."""
        if self._pixel_index < 0:
            return 0
        frames = self._pixel_module().number_of_frames
        if frames and frames > MAX_FRAMES:
            raise PixelDataError(f"(0028,0008) Number of Frames {frames} is implausible (more "
                                 f"than {MAX_FRAMES})", tag=0x00280008)
        return frames if frames and frames > 0 else 1

    def _single_frame(self) -> bool:
        """Does the Pixel Data hold one frame (so all its fragments are it)?"""
        try:
            return self.number_of_frames == 1
        except DicomFramesError:
            return False

    @property
    def dtype(self) -> np.dtype:
        """The dtype of decoded frames (native byte order)."""
        return self.pixels.dtype

    @property
    def frame_shape(self) -> tuple[int, ...]:
        """``(rows, columns)`` or ``(rows, columns, samples)``."""
        return self.pixels.frame_shape

    # ---- frames -------------------------------------------------------------

    def __len__(self) -> int:
        return self.number_of_frames

    def __iter__(self) -> Iterator[np.ndarray]:
        for index in range(len(self)):
            yield self.frame(index)

    def __getitem__(self, key: Any) -> np.ndarray:
        """``f[k]`` one frame (negative k counts from the end); ``f[a:b:c]`` or
        ``f[[i, j, ...]]`` the selected frames stacked on a new first axis."""
        if isinstance(key, slice):
            return self.frames(range(*key.indices(len(self))))
        if isinstance(key, (int, np.integer)):
            return self.frame(int(key))
        return self.frames(key)

    def _frame_index(self, index: Any) -> int:
        if not isinstance(index, (int, np.integer)):
            raise TypeError(f"frame indices must be integers, not {type(index).__name__}")
        index = int(index)
        count = self._frame_count if self._frame_count is not None else self.number_of_frames
        self._frame_count = count
        if not -count <= index < count:
            raise IndexError(f"frame {index} out of range: the file has {count} frame(s)")
        return index + count if index < 0 else index

    def _frames(self) -> NativeFrames | EncapsulatedFrames:
        source = self._frame_source
        if source is None:
            self._check_open()
            make = getattr(self._source, "frame_source", frame_source)  # remote sources
            source = self._frame_source = make(
                self._source.buffer, self._index, self._pixel_index, self.pixels,
                self.transfer_syntax, self._correct_unused_bits, self._max_frame_bytes)
        return source

    def decoder(self, *, as_rgb: bool = True, rescale: bool = False,
                reduce: int = 0) -> FrameOutput:
        """The decoder for one kind of frame request (made once per kind):
        its ``shape`` and ``dtype`` are those of one output frame, and
        ``decode_into(k, target, threads=1)`` decodes frame k into `target` (a
        C-contiguous array of that shape and dtype: only its size is checked, in
        the codec, so a target of the right size but another shape or dtype is
        filled as raw bytes). For
        callers that stack frames of several files themselves, as
        :func:`read_frames` does. The options are those of :meth:`frame`."""
        key = (bool(as_rgb), bool(rescale), int(reduce))
        outputs = self._outputs
        if outputs is None:
            outputs = self._outputs = {}
        output = outputs.get(key)
        if output is None:
            source = self._frame_source or self._frames()
            missing = getattr(source, "no_decoder", None)
            if missing is not None:  # a decoder for frames that no codec decodes
                raise missing
            table = None
            if rescale:
                if self._rescale is None:
                    # OW LUT Data is in the byte order the data set was found in
                    # (the scan's, which may differ from a wrong Transfer Syntax UID).
                    big_endian = self._index.encoding == Encoding.EXPLICIT_BE
                    self._rescale = RescaleTable(self._root, self.number_of_frames, big_endian)
                table = self._rescale
            output = outputs[key] = FrameOutput(
                source, to_rgb=key[0] and self.pixels.is_ybr_full, rescale=table,
                reduce=key[2])
        return output

    def output_shape(self, *, reduce: int = 0) -> tuple[int, ...]:
        """The shape of one decoded frame: :attr:`frame_shape`, or with `reduce`
        the JPEG 2000 reduced size ``ceil(rows / 2**reduce)`` x ``ceil(columns /
        2**reduce)``."""
        return self.decoder(as_rgb=False, reduce=reduce).shape

    def frame(self, index: int, *, copy: bool = False, out: np.ndarray | None = None,
              as_rgb: bool = True, rescale: bool = False, reduce: int = 0) -> np.ndarray:
        """Decode frame `index` (shape :attr:`frame_shape`, dtype :attr:`dtype`).

        Little-endian byte-aligned native frames come back as read-only views
        of the mapping (no copy) unless `copy` is true or `out` is given.
        `as_rgb` converts YBR_FULL / YBR_FULL_422 to RGB, like pydicom.
        `rescale` applies the Modality LUT (Rescale Slope and Intercept, from the
        top level or the frame's functional groups, or a Modality LUT Sequence)
        and gives float32 values equal to pydicom's ``apply_rescale``. `reduce`
        (JPEG 2000 / HTJ2K only) decodes at 1/2**reduce of the size, skipping the
        finest wavelet levels.
        """
        self._check_open()
        source = self._frame_source or self._frames()
        k = self._frame_index(index)
        if rescale or reduce or (as_rgb and self.pixels.is_ybr_full):
            output = self.decoder(as_rgb=as_rgb, rescale=rescale, reduce=reduce)
            if out is not None:
                check_out(out, output.shape, output.dtype)
            target = out if out is not None else np.empty(output.shape, output.dtype)
            output.decode_into(k, target)
            return target
        if out is not None:
            check_out(out, source.shape, source.dtype)
        elif not copy:
            view = source.view(k)
            if view is not None:
                return view
        source.check_present(k)
        target = out if out is not None else np.empty(source.shape, source.dtype)
        source.decode_into(k, target, as_rgb=as_rgb)
        return target

    def encoded_frame(self, index: int) -> memoryview | bytes:
        """Frame `index`'s stored bytes, undecoded: for encapsulated Pixel Data
        the codestream (a memoryview of the mapping when the frame is one
        fragment, else the fragments joined into bytes), for native data the
        frame's bytes when it starts on a byte boundary. For GPU decoders and
        re-muxers."""
        self._check_open()
        source = self._frames()
        k = self._frame_index(index)
        if isinstance(source, EncapsulatedFrames):
            return source.encoded(k)
        start_bit = k * source.layout.frame_bits
        if start_bit % 8 or source.layout.frame_bits % 8:
            raise ValueError(f"frame {k} of this bit-packed Pixel Data does not start or end on "
                             f"a byte boundary")
        size = source.layout.frame_bits // 8
        start = start_bit // 8
        encoded_bytes = getattr(source, "encoded_bytes", None)  # remote sources
        if encoded_bytes is not None and start + size <= len(source.value):
            return encoded_bytes(k, start, size)
        if start + size > len(source.value):
            raise PixelDataError(f"frame {k} runs past the end of the Pixel Data "
                                 f"({len(source.value)} bytes)", tag=source.tag,
                                 offset=source.offset, frame=k)
        return source.value[start:start + size]

    def frames(self, indices: Sequence[int] | None = None, *, out: np.ndarray | None = None,
               threads: int | None = None, as_rgb: bool = True, rescale: bool = False,
               reduce: int = 0) -> np.ndarray:
        """Decode several frames (all when `indices` is None; else any
        sequence of indices, negative and repeated ones included, like numpy
        fancy indexing) into one new array of shape ``(n, *frame_shape)``, or
        into `out` (C-contiguous, writeable, exactly that dtype and shape).

        Frames are decoded in parallel on `threads` threads (None: one per CPU;
        1: serially, in the calling thread) from a pool the library keeps. A
        J2K/HTJ2K batch of fewer frames than threads gives the codec the spare
        threads. If any frame fails, the error of the first failing frame is
        raised once all threads have stopped. `as_rgb`, `rescale` and `reduce`
        as for :meth:`frame`.
        """
        self._check_open()
        workers = resolve_threads(threads)
        output = self.decoder(as_rgb=as_rgb, rescale=rescale, reduce=reduce)
        source = output.source
        if indices is None:
            selected: Sequence[int] = range(self.number_of_frames)
        else:
            selected = [self._frame_index(i) for i in np.asarray(indices).reshape(-1).tolist()]
        if workers > 1 and output.plain:
            # A batch as stored is decoded on the C pool: its threads wake (tens of µs
            # from sleep) while the frames are checked and the output allocated.
            source.prewake(min(workers, len(selected)))
        _check_present_in_order(source, selected)  # before allocating for them all
        if isinstance(source, NativeFrames) and output.plain:
            return _native_frames(source, selected, out, workers)
        count = len(selected)
        shape = (count, *output.shape)
        codec_threads = output.codec_threads(workers, count)
        start = 0
        if out is not None:
            check_out(out, shape, output.dtype)
        elif (isinstance(source, EncapsulatedFrames) and count > 1 and
              not source.size_bounded and not source.header_agrees(selected[0])):
            # A tiny corrupt file must fail on its first frame, not on a giant allocation:
            # unless the first frame's codestream header vouches for the attributes (RLE
            # and deflate frames are bounded by their size in check_present), decode it
            # alone before allocating for all of them.
            first = np.empty(output.shape, output.dtype)
            output.decode_into(selected[0], first, codec_threads)
            out = np.empty(shape, output.dtype)
            out[0] = first
            start = 1
        else:
            out = np.empty(shape, output.dtype)
        if output.plain and isinstance(source, EncapsulatedFrames) and source.decode_batch(
                selected[start:], out[start:], workers, codec_threads, output.as_rgb):
            return out
        target = out

        def decode(position: int) -> None:
            position += start
            output.decode_into(selected[position], target[position], codec_threads)

        run_parallel(decode, count - start, workers)
        return out

    def display(self, index: int, window: Any = None, bits: int = 8) -> np.ndarray:
        """Frame `index` as a viewer shows it, scaled to uint8 (`bits` 8) or uint16
        (`bits` 16): the Modality LUT (Rescale Slope / Intercept or a Modality LUT
        Sequence), the VOI LUT (Window Center / Width with the VOI LUT Function LINEAR,
        LINEAR_EXACT or SIGMOID, or a VOI LUT Sequence; `window` = (center, width) or
        ``"CENTER,WIDTH"`` replaces the file's), MONOCHROME1 inverted, PALETTE COLOR
        through its palette to RGB. Shape (rows, columns) for grayscale, (rows, columns,
        3) for colour. See :mod:`dicomframes.display`."""
        from .display import display

        return display(self, index, window, bits)

    # ---- description -----------------------------------------------------

    @property
    def encoding_source(self) -> EncodingSource:
        """How the data set encoding was settled: from the Transfer Syntax UID
        (FROM_META), inferred from the data for want of one (GUESSED), or from the
        data where the UID disagreed with it (CORRECTED)."""
        return EncodingSource(self._index.encoding_source)

    @property
    def pixel_data_element(self) -> int | None:
        """Row of the top-level Pixel Data (or Float / Double Float Pixel Data)
        element in :attr:`elements`, or None."""
        return self._pixel_index if self._pixel_index >= 0 else None

    @property
    def frame_location(self) -> str | None:
        """How the frames of encapsulated Pixel Data are located (the rule of
        csrc/dcf_frames.h, such as "basic offset table"); None for native data.
        Raises a DicomFramesError when they cannot be located, or there is no
        Pixel Data (PixelDataError)."""
        source = self._frames()
        return source.rule if isinstance(source, EncapsulatedFrames) else None

    @property
    def damage(self) -> DicomFramesError | None:
        """The damage met after the Pixel Data (a cut, garbage, a bogus length),
        as the error it would have been, or None. The frames are whole; the
        elements end before it. A :class:`~dicomframes.DicomFramesWarning` was
        issued when it was met. Indexes the elements after the Pixel Data first."""
        self._index.finish()
        return self._index.damage

    def describe(self) -> dict[str, Any]:
        """A summary of the file, as `dicomframes info` prints it."""
        from .cli import describe

        return describe(self)
