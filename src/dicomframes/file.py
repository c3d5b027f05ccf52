"""`open()` and `DicomFile`: a scanned DICOM file with lazy frame access.

Opening maps the file read-only and runs the C scanner over it; no value is
decoded and no pixel byte is touched until asked for. Frames are decoded on
request straight from the mapping.
"""

from __future__ import annotations

import mmap
import os
import zlib
from typing import Any, Iterator, Sequence

import numpy as np

from . import _scan
from .errors import DicomFramesError, MalformedError, PixelDataError, format_tag
from .batch import resolve_threads, run_parallel
from .frames import EncapsulatedFrames, NativeFrames, check_out, frame_source
from .modality import RescaleTable
from .output import FrameOutput
from .pixels import PIXEL_KEYWORDS, PixelDescription, describe_pixels
from .uids import TransferSyntax, transfer_syntax
from .values import decode_value, implicit_vr, python_encoding

__all__ = ["DicomFile", "Item", "open"]

_ENCODING_UIDS = {
    _scan.ENCODING_IMPLICIT_LE: "1.2.840.10008.1.2",
    _scan.ENCODING_EXPLICIT_LE: "1.2.840.10008.1.2.1",
    _scan.ENCODING_EXPLICIT_BE: "1.2.840.10008.1.2.2",
    _scan.ENCODING_DEFLATED: "1.2.840.10008.1.2.1.99",
}
_MISSING = object()
TAG_SPECIFIC_CHARACTER_SET = 0x00080005

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)
# Files up to this size are read into memory instead of being mapped.
_READ_BELOW_BYTES = 64 * 1024
# Number of Frames beyond this is taken as corrupt (len() must fit a C ssize_t).
MAX_FRAMES = (1 << 31) - 1
# A deflated data set is inflated in memory; refuse to grow past this.
DEFAULT_MAX_INFLATED_BYTES = 1 << 32
DEFAULT_MAX_FRAME_BYTES = 1 << 32


def open(source: Any, *, correct_unused_bits: bool = True, max_depth: int = 0,
         max_inflated_bytes: int = DEFAULT_MAX_INFLATED_BYTES,
         max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> DicomFile:
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
    valid DICOM, naming the tag and the byte offset.
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        fd = os.open(path, _OPEN_FLAGS)
        try:
            size = os.fstat(fd).st_size
            if size <= _READ_BELOW_BYTES:
                # Mapping a small file costs more than reading it (two extra
                # system calls and a page fault); nothing to gain from lazy I/O.
                data: Any = os.read(fd, size)
                mapping = None
            else:
                data = mapping = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        finally:
            os.close(fd)
        try:
            return DicomFile(data, path=path, mapping=mapping, max_depth=max_depth,
                             max_inflated_bytes=max_inflated_bytes,
                             correct_unused_bits=correct_unused_bits,
                             max_frame_bytes=max_frame_bytes)
        except BaseException:
            if mapping is not None:
                try:
                    mapping.close()
                except BufferError:
                    pass  # a traceback still holds a view; the mapping goes with it
            raise
    return DicomFile(source, max_depth=max_depth, max_inflated_bytes=max_inflated_bytes,
                     correct_unused_bits=correct_unused_bits, max_frame_bytes=max_frame_bytes)


class Item:
    """A read-only view of one data set in the index: the top level of a file
    or one item of a sequence."""

    __slots__ = ("_file", "_index", "_table")

    def __init__(self, file: DicomFile, index: int) -> None:
        self._file = file
        self._index = index  # -1 for the top level
        self._table: dict[int, int] | None = None

    def _lookup(self) -> dict[int, int]:
        if self._table is None:
            self._table = self._file._index.children(self._index)
        return self._table

    def __contains__(self, tag: Any) -> bool:
        return _as_tag(tag) in self._lookup()

    def tags(self) -> list[int]:
        """The tags of this data set's elements, in file order."""
        return list(self._lookup())

    def element_index(self, tag: Any) -> int | None:
        """Row of `tag` in :attr:`DicomFile.elements`, or None."""
        found = self._file._index.find(self._index, _as_tag(tag))
        return None if found < 0 else found

    def value_offset(self, tag: Any) -> int | None:
        """Byte offset of `tag`'s value in the file, or None when absent."""
        index = self.element_index(tag)
        return None if index is None else self._file._index.record(index)[3]

    def value(self, tag: Any, default: Any = _MISSING) -> Any:
        """The value of `tag` (an int such as ``0x00280010`` or a ``(group,
        element)`` pair), decoded by its VR; a list of :class:`Item` for a
        sequence. Raises KeyError when absent unless `default` is given."""
        index = self.element_index(tag)
        if index is None:
            if default is _MISSING:
                raise KeyError(format_tag(_as_tag(tag)))
            return default
        return self._file._decode_element(index)

    def __repr__(self) -> str:
        where = "top level" if self._index < 0 else f"element {self._index}"
        return f"<dicomframes.Item {where}, {len(self._lookup())} elements>"


def _reopen(source: Any, options: dict[str, Any]) -> DicomFile:
    return open(source, **options)


def _as_tag(tag: Any) -> int:
    if isinstance(tag, tuple):
        group, element = tag
        return (int(group) << 16) | int(element)
    return int(tag)


class DicomFile:
    """A DICOM file indexed in place. Use as a context manager or call
    :meth:`close`. Safe to share between threads for reading."""

    def __init__(self, data: Any, *, path: str | None = None, mapping: mmap.mmap | None = None,
                 max_depth: int = 0, max_inflated_bytes: int = DEFAULT_MAX_INFLATED_BYTES,
                 correct_unused_bits: bool = True,
                 max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        self.path = path
        self._mapping = mapping
        view = memoryview(data)
        if view.ndim != 1 or view.itemsize != 1:
            view = view.cast("B")
        self._buffer = view
        try:
            # Lazy: the fragments of compressed Pixel Data with an offset table
            # are indexed only if something needs them (see _scan.pyx).
            index = _scan.scan(view, -1, max_depth, True)
            if index.encoding == _scan.ENCODING_DEFLATED:
                inflated = self._inflate(view, index.dataset_offset, max_inflated_bytes)
                view.release()
                view = self._buffer = inflated
                index = _scan.scan(view, _scan.ENCODING_DEFLATED, max_depth, True)
        except BaseException:
            view.release()  # so that open() can unmap the file at once
            raise
        self._index = index
        self._pixel_index: int = index.pixel_data
        self._root = Item(self, -1)
        self._charset: str | None = None
        self._module: tuple[Any, ...] | None = None
        self._pixels: PixelDescription | None = None
        self._source: NativeFrames | EncapsulatedFrames | None = None
        self._frame_count: int | None = None
        self._outputs: dict[tuple[bool, bool, int], FrameOutput] = {}
        self._rescale: RescaleTable | None = None
        self._correct_unused_bits = correct_unused_bits
        self._max_frame_bytes = max_frame_bytes
        # What reopening needs (pickling by path, e.g. into data-loader workers).
        self._options = {"correct_unused_bits": correct_unused_bits, "max_depth": max_depth,
                         "max_inflated_bytes": max_inflated_bytes,
                         "max_frame_bytes": max_frame_bytes}
        self._closed = False

    @staticmethod
    def _inflate(view: memoryview, dataset_offset: int, limit: int) -> memoryview:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        parts = [bytes(view[:dataset_offset])]
        total = 0
        src = view[dataset_offset:]
        step = 1 << 20
        try:
            for start in range(0, len(src), step):
                chunk = src[start:start + step]
                while chunk:
                    out = inflater.decompress(chunk, step)
                    total += len(out)
                    if total > limit:
                        raise MalformedError(
                            f"deflated data set at offset {dataset_offset} inflates to more "
                            f"than {limit} bytes", offset=dataset_offset)
                    parts.append(out)
                    chunk = inflater.unconsumed_tail
            parts.append(inflater.flush())
            if not inflater.eof:
                raise MalformedError(
                    f"deflated data set at offset {dataset_offset} ends before its deflate "
                    f"stream does (cut short)", offset=dataset_offset)
        except zlib.error as exc:
            raise MalformedError(
                f"deflated data set at offset {dataset_offset} cannot be inflated: {exc}",
                offset=dataset_offset) from None
        return memoryview(b"".join(parts))

    # ---- lifetime -------------------------------------------------------

    def close(self) -> None:
        """Release the mapping. Frames handed out as views keep it alive
        until they are gone."""
        if self._closed:
            return
        self._closed = True
        buffer, self._buffer = self._buffer, memoryview(b"")
        try:
            buffer.release()
        except BufferError:
            return  # views still use it; the mapping goes with the last of them
        if self._mapping is not None:
            try:
                self._mapping.close()
            except BufferError:
                pass
            self._mapping = None

    def __enter__(self) -> DicomFile:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # A file pickles as the means to reopen it, not as its mapping: a worker
        # process maps the file itself. Files opened from bytes carry the bytes.
        if self.path is not None:
            return _reopen, (self.path, self._options)
        if self._closed:
            raise ValueError("cannot pickle a closed DicomFile opened from bytes")
        return _reopen, (self._buffer.tobytes(), self._options)

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("I/O operation on a closed DicomFile")

    def __repr__(self) -> str:
        name = self.path or "<bytes>"
        if self._closed:
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

    def value(self, tag: Any, default: Any = _MISSING) -> Any:
        """The value of top-level element `tag`, decoded by its VR (ints for
        US/UL/SS/SL/IS, floats for FL/FD/DS, str for text, bytes for OB/UN,
        lists for multiplicity > 1, a list of :class:`Item` for SQ)."""
        return self._root.value(tag, default)

    def __contains__(self, tag: Any) -> bool:
        return tag in self._root

    def _decode_element(self, index: int) -> Any:
        self._check_open()
        tag, vr, flags, offset, length = self._index.record(index)
        if flags & _scan.FLAG_IMPLICIT_VR and vr in ("UN", "OW"):
            vr = implicit_vr(tag)
        if vr == "SQ":
            return [Item(self, i) for i in self._index.items_of(index)]
        if flags & _scan.FLAG_ENCAPSULATED:
            raise MalformedError(f"{format_tag(tag)} holds encapsulated fragments, not a value",
                                 tag=tag, offset=offset)
        raw = self._buffer[offset:offset + length]
        try:
            return decode_value(raw.tobytes() if len(raw) < 4096 else raw, vr,
                                big_endian=bool(flags & _scan.FLAG_BIG_ENDIAN),
                                encoding=self._text_encoding())
        except ValueError as exc:  # e.g. IS "1A": not a number
            raise MalformedError(f"{format_tag(tag)} at offset {offset}: invalid {vr} value "
                                 f"{bytes(raw[:64])!r}: {exc}", tag=tag, offset=offset) from None

    def _text_encoding(self) -> str:
        if self._charset is None:
            # Read directly: decoding it through _decode_element would need the
            # encoding being worked out here. Its CS values are ASCII.
            index = self._index.find(-1, TAG_SPECIFIC_CHARACTER_SET)
            charset = None
            if index >= 0:
                _, _, _, offset, length = self._index.record(index)
                charset = decode_value(self._buffer[offset:offset + length].tobytes(), "CS")
            self._charset = python_encoding(charset)
        return self._charset

    def _top_value(self, tag: int) -> Any:
        index = self._index.find(-1, tag)
        if index < 0:
            return None
        try:
            return self._decode_element(index)
        except (ValueError, UnicodeError):
            return None

    def _pixel_module(self) -> tuple[Any, ...]:
        if self._module is None:
            self._check_open()
            self._module = self._index.pixel_module(self._buffer)
        return self._module

    # ---- file-level facts -----------------------------------------------

    @property
    def transfer_syntax_uid(self) -> str:
        """The Transfer Syntax UID from the file meta, or the one the data
        set was found to be encoded in when the file has none."""
        if self._index.transfer_syntax >= 0:
            # The bytes as written, whatever the VR says: the scanner read them the
            # same way to pick the data set encoding.
            _, _, _, offset, length = self._index.record(self._index.transfer_syntax)
            uid = self._buffer[offset:offset + length].tobytes().decode("latin-1")
            uid = uid.strip("\x00 ")
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
            pixel_tag = self._index.record(self._pixel_index)[0]
            self._pixels = describe_pixels(self._pixel_module(), pixel_tag)
        return self._pixels

    # The raw attribute values (None when absent), as stored in the file.
    @property
    def rows(self) -> int | None:
        return self._pixel_module()[0]

    @property
    def columns(self) -> int | None:
        return self._pixel_module()[1]

    @property
    def samples_per_pixel(self) -> int | None:
        return self._pixel_module()[2]

    @property
    def bits_allocated(self) -> int | None:
        return self._pixel_module()[3]

    @property
    def bits_stored(self) -> int | None:
        return self._pixel_module()[4]

    @property
    def pixel_representation(self) -> int | None:
        return self._pixel_module()[5]

    @property
    def planar_configuration(self) -> int | None:
        return self._pixel_module()[6]

    @property
    def photometric_interpretation(self) -> str | None:
        return self._pixel_module()[8]

    @property
    def number_of_frames(self) -> int:
        """Frames in the Pixel Data (1 when Number of Frames is absent or 0,
        as pydicom reads it; 0 without Pixel Data)."""
        if self._pixel_index < 0:
            return 0
        frames = self._pixel_module()[7]
        if frames and frames > MAX_FRAMES:
            raise PixelDataError(f"(0028,0008) Number of Frames {frames} is implausible (more "
                                 f"than {MAX_FRAMES})", tag=0x00280008)
        return frames if frames and frames > 0 else 1

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
            return self.frame(key)
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
        source = self._source
        if source is None:
            self._check_open()
            source = self._source = frame_source(
                self._buffer, self._index, self._pixel_index, self.pixels,
                self.transfer_syntax, self._correct_unused_bits, self._max_frame_bytes)
        return source

    def _output(self, as_rgb: bool, rescale: bool, reduce: int) -> FrameOutput:
        """The FrameOutput for one kind of request, made once."""
        key = (bool(as_rgb), bool(rescale), int(reduce))
        output = self._outputs.get(key)
        if output is None:
            source = self._source or self._frames()
            table = None
            if rescale:
                if self._rescale is None:
                    # OW LUT Data is in the byte order the data set was found in
                    # (the scan's, which may differ from a wrong Transfer Syntax UID).
                    big_endian = self._index.encoding == _scan.ENCODING_EXPLICIT_BE
                    self._rescale = RescaleTable(self._root, self.number_of_frames, big_endian)
                table = self._rescale
            output = self._outputs[key] = FrameOutput(
                source, to_rgb=key[0] and self.pixels.is_ybr_full, rescale=table,
                reduce=key[2])
        return output

    def output_shape(self, *, reduce: int = 0) -> tuple[int, ...]:
        """The shape of one decoded frame: :attr:`frame_shape`, or with `reduce`
        the JPEG 2000 reduced size ``ceil(rows / 2**reduce)`` x ``ceil(columns /
        2**reduce)``."""
        return self._output(False, False, reduce).shape

    def frame(self, index: int, *, copy: bool = False, out: np.ndarray | None = None,
              as_rgb: bool = True, rescale: bool = False, reduce: int = 0) -> np.ndarray:
        """Decode frame `index` (shape :attr:`frame_shape`, dtype :attr:`dtype`).

        Little-endian byte-aligned native frames come back as read-only views
        of the mapping (no copy) unless `copy` is true or `out` is given.
        `as_rgb` converts YBR_FULL / YBR_FULL_422 to RGB, like pydicom.
        `rescale` applies the Modality LUT (Rescale Slope and Intercept, from the
        top level or the frame's functional groups, or a Modality LUT Sequence)
        and gives float32 values equal to pydicom's ``apply_rescale``. `reduce` (JPEG 2000 / HTJ2K only)
        decodes at 1/2**reduce of the size, skipping the finest wavelet levels.
        """
        if self._closed:
            self._check_open()
        source = self._source or self._frames()
        k = self._frame_index(index)
        if rescale or reduce or (as_rgb and self.pixels.is_ybr_full):
            output = self._output(as_rgb, rescale, reduce)
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
        source.decode_into(k, target)
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
        output = self._output(as_rgb, rescale, reduce)
        source = output.source
        if indices is None:
            source.check_present(self.number_of_frames - 1)  # before allocating for them all
            selected: Sequence[int] = range(self.number_of_frames)
        else:
            selected = [self._frame_index(i) for i in np.asarray(indices).reshape(-1).tolist()]
            if selected:
                source.check_present(max(selected))
        count = len(selected)
        shape = (count, *output.shape)
        codec_threads = output.codec_threads(workers, count)
        start = 0
        if out is not None:
            check_out(out, shape, output.dtype)
        elif isinstance(source, EncapsulatedFrames) and count > 1:
            # Decode one frame before allocating for all of them: a tiny corrupt
            # file must fail on its first frame, not on a giant allocation.
            first = np.empty(output.shape, output.dtype)
            output.decode_into(selected[0], first, codec_threads)
            out = np.empty(shape, output.dtype)
            out[0] = first
            start = 1
        else:
            out = np.empty(shape, output.dtype)
        target = out

        def decode(position: int) -> None:
            position += start
            output.decode_into(selected[position], target[position], codec_threads)

        run_parallel(decode, count - start, workers)
        return out

    # ---- description -----------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """A summary of the file, as `dicomframes info` prints it."""
        ts = self.transfer_syntax
        info: dict[str, Any] = {
            "path": self.path,
            "transfer_syntax": f"{ts.uid} ({ts.name})",
            "elements": len(self._index),
        }
        if self._index.encoding_source == 1:
            info["transfer_syntax"] += " [no Transfer Syntax UID: inferred from the data]"
        elif self._index.encoding_source == 2:
            info["transfer_syntax"] += " [data set encoding differs from the UID: corrected]"
        if not self.has_pixel_data:
            info["pixel_data"] = None
            return info
        tag, _, flags, offset, length = self._index.record(self._pixel_index)
        info["pixel_data"] = (f"{PIXEL_KEYWORDS[tag]} {format_tag(tag)} "
                              f"at offset {offset}, {length} bytes")
        try:
            p = self.pixels
            info["pixels"] = (
                f"{p.rows}x{p.columns}x{p.samples_per_pixel} {p.photometric_interpretation}, "
                f"bits {p.bits_allocated}/{p.bits_stored}, "
                f"{'signed' if p.pixel_representation else 'unsigned'}, "
                f"planar {p.planar_configuration} -> {p.dtype.name} {p.frame_shape}")
            info["frames"] = p.number_of_frames
        except DicomFramesError as exc:
            info["pixels"] = f"not decodable: {exc}"
        if flags & _scan.FLAG_ENCAPSULATED:
            fragments = self._index.items_of(self._pixel_index)
            bot_length = self._index.record(fragments[0])[4] if fragments else 0
            if 0x7FE00001 in self._root:
                table = "extended offset table"
            elif bot_length:
                table = f"basic offset table ({bot_length // 4} entries)"
            else:
                table = "no offset table"
            info["fragments"] = f"{max(len(fragments) - 1, 0)}, {table}"
            try:
                source = self._frames()
                if isinstance(source, EncapsulatedFrames):
                    info["frame location"] = source.rule
            except DicomFramesError as exc:
                info["frame location"] = f"not found: {exc}"
        if flags & _scan.FLAG_TRUNCATED:
            info["warning"] = "the file ends inside the Pixel Data"
        return info
