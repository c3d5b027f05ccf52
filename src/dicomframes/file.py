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

from . import _native, _scan
from .errors import (
    DicomFramesError,
    MalformedError,
    PixelDataError,
    UnsupportedTransferSyntaxError,
    format_tag,
)
from .pixels import (
    PIXEL_KEYWORDS,
    TAG_PIXEL_DATA,
    PixelDescription,
    describe_pixels,
    ybr_full_to_rgb,
)
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
# A deflated data set is inflated in memory; refuse to grow past this.
DEFAULT_MAX_INFLATED_BYTES = 1 << 32


def open(source: Any, *, max_depth: int = 0,
         max_inflated_bytes: int = DEFAULT_MAX_INFLATED_BYTES) -> DicomFile:
    """Open a DICOM file (a path, memory-mapped read-only; files under 64 KiB
    are simply read) or DICOM bytes (any bytes-like object) and index its
    elements. Only the header is read: the cost does not grow with the size
    of the Pixel Data.

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
                             max_inflated_bytes=max_inflated_bytes)
        except BaseException:
            if mapping is not None:
                mapping.close()
            raise
    return DicomFile(source, max_depth=max_depth, max_inflated_bytes=max_inflated_bytes)


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


def _as_tag(tag: Any) -> int:
    if isinstance(tag, tuple):
        group, element = tag
        return (int(group) << 16) | int(element)
    return int(tag)


class DicomFile:
    """A DICOM file indexed in place. Use as a context manager or call
    :meth:`close`. Safe to share between threads for reading."""

    def __init__(self, data: Any, *, path: str | None = None, mapping: mmap.mmap | None = None,
                 max_depth: int = 0,
                 max_inflated_bytes: int = DEFAULT_MAX_INFLATED_BYTES) -> None:
        self.path = path
        self._mapping = mapping
        view = memoryview(data)
        if view.ndim != 1 or view.itemsize != 1:
            view = view.cast("B")
        self._buffer = view
        index = _scan.scan(view, -1, max_depth)
        if index.encoding == _scan.ENCODING_DEFLATED:
            view = self._inflate(view, index.dataset_offset, max_inflated_bytes)
            index = _scan.scan(view, _scan.ENCODING_DEFLATED, max_depth)
            self._buffer = view
        self._index = index
        self._pixel_index: int = index.pixel_data
        self._root = Item(self, -1)
        self._charset: str | None = None
        self._module: tuple[Any, ...] | None = None
        self._pixels: PixelDescription | None = None
        self._layout: Any = None
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
        state = "closed" if self._closed else f"{len(self._index)} elements"
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
            raise ValueError(f"{format_tag(tag)} holds encapsulated fragments, not a value")
        raw = self._buffer[offset:offset + length]
        return decode_value(raw.tobytes() if len(raw) < 4096 else raw, vr,
                            big_endian=bool(flags & _scan.FLAG_BIG_ENDIAN),
                            encoding=self._text_encoding())

    def _text_encoding(self) -> str:
        if self._charset is None:
            charset = self._top_value(TAG_SPECIFIC_CHARACTER_SET, text_encoding="latin-1")
            self._charset = python_encoding(charset)
        return self._charset

    def _top_value(self, tag: int, text_encoding: str | None = None) -> Any:
        index = self._index.find(-1, tag)
        if index < 0:
            return None
        if text_encoding is not None:
            _, vr, flags, offset, length = self._index.record(index)
            return decode_value(self._buffer[offset:offset + length].tobytes(), "CS")
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
            uid = self._decode_element(self._index.transfer_syntax)
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
            return self.frame(int(key))
        return self.frames(key)

    def _frame_index(self, index: int) -> int:
        count = self.number_of_frames
        if not -count <= index < count:
            raise IndexError(f"frame {index} out of range: the file has {count} frame(s)")
        return index + count if index < 0 else index

    def frame(self, index: int, *, copy: bool = False, out: np.ndarray | None = None,
              as_rgb: bool = True) -> np.ndarray:
        """Decode frame `index` (shape :attr:`frame_shape`, dtype :attr:`dtype`).

        Little-endian byte-aligned native frames come back as read-only views
        of the mapping (no copy) unless `copy` is true or `out` is given.
        `as_rgb` converts YBR_FULL / YBR_FULL_422 to RGB, like pydicom.
        """
        self._check_open()
        k = self._frame_index(int(index))
        pixels = self.pixels
        if out is not None:
            _check_out(out, pixels.frame_shape, pixels.dtype)
        to_rgb = as_rgb and pixels.samples_per_pixel == 3 and \
            pixels.photometric_interpretation in ("YBR_FULL", "YBR_FULL_422")
        if not copy and out is None and not to_rgb:
            view = self._native_view(k)
            if view is not None:
                return view
        target = out if out is not None and not to_rgb else np.empty(pixels.frame_shape,
                                                                      pixels.dtype)
        self._decode_into(k, target)
        if to_rgb:
            converted = ybr_full_to_rgb(target)
            if out is None:
                return converted
            out[...] = converted
            return out
        return target

    def frames(self, indices: Sequence[int] | None = None, *, out: np.ndarray | None = None,
               as_rgb: bool = True) -> np.ndarray:
        """Decode several frames (all when `indices` is None) into one array
        of shape ``(n, *frame_shape)``, or into `out` (C-contiguous,
        writeable, exactly that dtype and shape)."""
        self._check_open()
        pixels = self.pixels
        count = self.number_of_frames
        if indices is None:
            selected = list(range(count))
        else:
            selected = [self._frame_index(int(i)) for i in np.asarray(indices).reshape(-1)]
        shape = (len(selected), *pixels.frame_shape)
        if out is None:
            out = np.empty(shape, pixels.dtype)
        else:
            _check_out(out, shape, pixels.dtype)
        for position, k in enumerate(selected):
            self.frame(k, out=out[position], as_rgb=as_rgb)
        return out

    # ---- decoding ----------------------------------------------------------

    def _pixel_value(self) -> tuple[memoryview, int, int]:
        tag, _, _, offset, length = self._index.record(self._pixel_index)
        return self._buffer[offset:offset + length], offset, tag

    def _native_layout(self) -> Any:
        if self._layout is None:
            pixels = self.pixels
            _, vr, flags, _, _ = self._index.record(self._pixel_index)
            big_endian = bool(flags & _scan.FLAG_BIG_ENDIAN)
            self._layout = _native.NativeLayout(
                pixels.rows, pixels.columns, pixels.samples_per_pixel, pixels.bits_allocated,
                pixels.bits_stored, pixels.pixel_representation, pixels.planar_configuration,
                big_endian, big_endian and pixels.bits_allocated == 8 and vr == "OW",
                pixels.photometric_interpretation == "YBR_FULL_422", pixels.is_float)
        return self._layout

    def _check_native(self) -> None:
        ts = self.transfer_syntax
        tag, _, flags, offset, _ = self._index.record(self._pixel_index)
        if flags & _scan.FLAG_ENCAPSULATED:
            if not ts.encapsulated:
                raise MalformedError(
                    f"Pixel Data {format_tag(tag)} is encapsulated but the transfer "
                    f"syntax {ts.uid} ({ts.name}) is native", tag=tag, offset=offset)
            raise UnsupportedTransferSyntaxError(
                f"decoding {ts.name} ({ts.uid}) Pixel Data is not supported yet",
                tag=tag, offset=offset)
        if ts.encapsulated and tag == TAG_PIXEL_DATA:
            raise MalformedError(
                f"transfer syntax {ts.uid} ({ts.name}) needs encapsulated Pixel Data but "
                f"(7FE0,0010) has a defined length", tag=tag, offset=offset)

    def _native_view(self, k: int) -> np.ndarray | None:
        self._check_native()
        layout = self._native_layout()
        value, offset, _ = self._pixel_value()
        if not layout.viewable(value, k):
            return None
        pixels = self.pixels
        view = np.frombuffer(self._buffer, dtype=pixels.dtype,
                             count=pixels.rows * pixels.columns * pixels.samples_per_pixel,
                             offset=offset + k * layout.frame_size)
        view = view.reshape(pixels.frame_shape)
        view.flags.writeable = False
        return view

    def _decode_into(self, k: int, target: np.ndarray) -> None:
        self._check_native()
        value, offset, tag = self._pixel_value()
        self._native_layout().decode(value, k, target.reshape(-1).view(np.uint8), tag, offset)

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
        if flags & _scan.FLAG_TRUNCATED:
            info["warning"] = "the file ends inside the Pixel Data"
        return info


def _check_out(out: Any, shape: tuple[int, ...], dtype: np.dtype) -> None:
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
