"""Remote and file-object sources: DICOM files read by byte ranges.

`dicomframes.open()` hands URLs (``http(s)://``, ``s3://``, ``memory://``...,
through fsspec: ``pip install dicomframes[remote]``) and seekable binary file
objects to :func:`open_source`. The file is laid out in a sparse anonymous
mapping of its full size (pages that are never written cost no memory), so the
C scanner and the frame locators run on it unchanged; only the bytes they need
are fetched into it:

- the header: one block (64 KiB), doubled while a scan of the fetched prefix
  cannot reach the Pixel Data's offset table (or, for native Pixel Data, the
  start of its value; the bytes after the value are fetched too, since the
  scan reads them);
- frame k: one range read of its fragments when an offset table places it
  (the last frame, whose end no table gives, walks its item headers: one
  small read, then one read per fragment), one range read for a native frame;
- without a usable offset table, the fragments are located by walking their
  item headers with small reads (each item header and the first 64 bytes of
  its fragment, which the start-marker rule looks at; several at once when the
  fragments are small) before the scan is completed, and remembered in the
  element index; then frame k is one range read. A single-frame file reads all
  its fragments in one read instead (they are all the frame).

Fetched frame ranges are kept in a small LRU (`max_cache_bytes`, default
64 MiB); evicted ranges are handed back to the OS (``MADV_DONTNEED``) and
fetched again if needed. Nothing downloads the whole file unless the caller
asks (``download=True``), except a Deflated data set (inflated in memory) and
a single-frame file's fragments (one read of the frame and what follows it).

Network errors come from the reader (fsspec, the file object) as they are;
DICOM errors met while opening are led by the URL.
"""

from __future__ import annotations

import mmap
import threading
import warnings
from collections import OrderedDict
from contextlib import contextmanager
from functools import partial
from typing import Any, Callable, Iterator, Literal, Sequence

from . import _scan
from ._core import FLAG_BIG_ENDIAN, FLAG_ENCAPSULATED, Encoding
from .errors import DicomFramesError, in_context
from .frames import EncapsulatedFrames, NativeFrames, frame_source
from .source import Source

__all__ = ["FileObjectReader", "FsspecReader", "RangeNotSupportedError", "RemoteSource",
           "is_remote", "open_source"]

HEADER_BLOCK = 64 * 1024
# The fragment walk: each read covers an item header and the first bytes of its
# fragment (RLE's 64-byte header is the longest start marker looked at); after a
# small fragment, a larger read takes in the next few at once.
WALK_PEEK = 8 + 64
WALK_SMALL_FRAGMENT = 4096
WALK_SMALL_READ = 16 * 1024
DEFAULT_MAX_CACHE_BYTES = 64 << 20
_PAGE = mmap.PAGESIZE


class RangeNotSupportedError(OSError):
    """The server answered a range request with more (or other) bytes than asked:
    it does not support range requests."""


def is_remote(source: Any) -> bool:
    """A URL (``scheme://...``) or a seekable binary file object that is not
    itself bytes-like (mmap objects stay bytes)."""
    if isinstance(source, str):
        scheme, sep, _ = source.partition("://")
        return bool(sep) and len(scheme) > 1 and scheme.replace("+", "").isalnum()
    if hasattr(source, "read") and hasattr(source, "seek"):
        try:
            memoryview(source).release()
            return False
        except TypeError:
            return True
    return False


class FileObjectReader:
    """Range reads from a seekable binary file object (serialised by a lock)."""

    def __init__(self, fileobj: Any) -> None:
        self._f = fileobj
        self._lock = threading.Lock()
        with self._lock:
            position = fileobj.tell()
            self.size = fileobj.seek(0, 2)
            fileobj.seek(position)
        self.name = getattr(fileobj, "name", None)
        if not isinstance(self.name, str):
            self.name = None
        self.requests = 0
        self.bytes_read = 0

    def read(self, start: int, end: int) -> bytes:
        parts = []
        with self._lock:
            self._f.seek(start)
            left = end - start
            while left > 0:
                chunk = self._f.read(left)
                if not chunk:
                    break
                parts.append(chunk)
                left -= len(chunk)
        data = b"".join(parts)
        self.requests += 1
        self.bytes_read += len(data)
        return data


class FsspecReader:
    """Range reads of one URL through fsspec (each read one ``cat_file``)."""

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        try:
            import fsspec  # type: ignore[import-untyped,unused-ignore]
        except ImportError:
            raise ImportError(f"opening {url} needs fsspec (pip install "
                              f"dicomframes[remote])") from None
        self.name = url
        self.fs, self.path = fsspec.core.url_to_fs(url, **(storage_options or {}))
        self.size = int(self.fs.size(self.path))
        self.requests = 0
        self.bytes_read = 0

    def read(self, start: int, end: int) -> bytes:
        data = self.fs.cat_file(self.path, start=start, end=end)
        self.requests += 1
        self.bytes_read += len(data)
        want = min(end, self.size) - start
        if len(data) != want:
            raise RangeNotSupportedError(
                f"{self.name}: asked for bytes {start}-{end - 1} and got {len(data)} bytes "
                f"instead of {want}: the server does not support range requests (pass "
                f"download=True to read the whole file)")
        return bytes(data)


class _Range:
    __slots__ = ("start", "end", "pins", "permanent")

    def __init__(self, start: int, end: int, permanent: bool) -> None:
        self.start, self.end, self.pins, self.permanent = start, end, 0, permanent


class RemoteSource(Source):
    """A Source whose buffer is a sparse mapping filled by range reads."""

    __slots__ = ("reader", "name", "_map", "_ranges", "_lock", "_cached", "max_cache_bytes",
                 "_everything", "_walked_pages")
    # Stop the header scan after the offset table whatever it holds: the fragments
    # are walked by small reads (prepare_completion) before the scan is completed.
    lazy_scan = 2

    def __init__(self, reader: Any, name: str | None,
                 max_cache_bytes: int = DEFAULT_MAX_CACHE_BYTES) -> None:
        flags = mmap.MAP_PRIVATE | getattr(mmap, "MAP_ANONYMOUS", 0x20) | getattr(
            mmap, "MAP_NORESERVE", 0)
        size = max(reader.size, 1)
        mapping = mmap.mmap(-1, size, flags=flags)
        super().__init__(memoryview(mapping)[:reader.size], path=name, mapping=mapping)
        self.reader = reader
        self.name = name or "<file object>"
        self._map = mapping
        self._ranges: OrderedDict[tuple[int, int], _Range] = OrderedDict()
        self._lock = threading.Lock()
        self._cached = 0
        self.max_cache_bytes = max_cache_bytes
        self._everything = False
        self._walked_pages: set[int] = set()  # see _drop_pages

    # ---- fetching ------------------------------------------------------------

    def _covered(self, start: int, end: int) -> _Range | None:
        for r in self._ranges.values():
            if r.start <= start and end <= r.end:
                return r
        return None

    def fetch(self, start: int, end: int, permanent: bool = False) -> None:
        """Make bytes [start, end) present (one range read unless cached)."""
        with self.hold(start, end, permanent):
            pass

    @contextmanager
    def hold(self, start: int, end: int, permanent: bool = False) -> Iterator[None]:
        """Bytes [start, end) present and not evicted while inside."""
        end = min(end, self.reader.size)
        if start >= end:
            yield
            return
        with self._lock:
            r = self._covered(start, end)
            if r is not None:
                r.pins += 1
                key = (r.start, r.end)
                if key in self._ranges:
                    self._ranges.move_to_end(key)
        if r is None:
            data = self.reader.read(start, end)
            with self._lock:
                self._map[start:start + len(data)] = data
                r = self._ranges.get((start, end))
                if r is None:
                    r = self._ranges[(start, end)] = _Range(start, end, permanent)
                    if not permanent:
                        self._cached += end - start
                r.permanent = r.permanent or permanent
                r.pins += 1
                self._evict()
        try:
            yield
        finally:
            with self._lock:
                r.pins -= 1

    def _evict(self) -> None:
        """Drop the least recently used unpinned frame ranges over the bound."""
        if self._cached <= self.max_cache_bytes:
            return
        for key, r in list(self._ranges.items()):
            if self._cached <= self.max_cache_bytes:
                break
            if r.permanent or r.pins:
                continue
            del self._ranges[key]
            self._cached -= r.end - r.start
            low = -(-r.start // _PAGE)
            high = r.end // _PAGE
            if high > low and hasattr(self._map, "madvise") and not any(
                    o.start < high * _PAGE and low * _PAGE < o.end
                    for o in self._ranges.values()):
                self._drop_pages(low, high)

    def _drop_pages(self, low: int, high: int) -> None:
        """Hand pages [low, high) back to the OS, except those holding what the
        fragment walk fetched (item headers, fragment starts): the scan and the
        frame location read those, maybe in another thread, after the walk."""
        pinned = self._walked_pages
        start = low
        for page in range(low, high + 1):
            if page < high and page not in pinned:
                continue
            if page > start:
                try:
                    self._map.madvise(mmap.MADV_DONTNEED, start * _PAGE,
                                      (page - start) * _PAGE)
                except (OSError, ValueError, AttributeError):
                    return
            start = page + 1

    def extend_prefix(self, end: int) -> None:
        """Make bytes [0, end) present, kept, as one range from 0 (one read of
        what is missing from its end): a hold inside it is then covered by one
        range, and the next extension starts where this one stopped."""
        with self._lock:
            start = max((r.end for r in self._ranges.values() if r.permanent and r.start == 0),
                        default=0)
        end = min(end, self.reader.size)
        if end <= start:
            return
        self.fetch(start, end, permanent=True)
        with self._lock:
            self._ranges.pop((start, end), None)
            self._ranges.pop((0, start), None)
            self._ranges[(0, end)] = _Range(0, end, True)

    def fetch_everything(self) -> None:
        """Fetch every byte not fetched yet (one read from the end of the header)."""
        if self._everything:
            return
        self.extend_prefix(self.reader.size)
        self._everything = True

    def prepare_completion(self, index: Any, single_frame: bool) -> Callable[[], None]:
        """What must run before the lazy scan of `index` is completed (its
        ``before_finish``): fetch the bytes the scan reads after the offset table."""
        pixel = index.pixel_data
        if single_frame or pixel < 0 or not index.record(pixel).flags & FLAG_ENCAPSULATED:
            return self.fetch_everything
        table = index.record(pixel + 1)  # the offset table item: the walk starts after it
        return partial(self.walk_fragments, table.offset + table.length,
                       bool(table.flags & FLAG_BIG_ENDIAN))

    def walk_fragments(self, first_item: int, big_endian: bool) -> None:
        """Fetch the item headers of the fragments from `first_item` on (each
        with the first bytes of its fragment), and everything after the sequence
        delimiter, by small reads; the fragment values stay unfetched. Stops
        where the items stop making sense: the scan then reports what it finds
        there, as it would on the whole file."""
        if self._everything:
            return
        order: Literal["big", "little"] = "big" if big_endian else "little"
        size = self.reader.size
        pos, at, block, read_size = first_item, first_item, b"", WALK_PEEK
        whole = True  # the items ran to a delimiter (or to the end): fetch what follows
        while pos + 8 <= size:  # pos grows by at least 8 per item
            if not (at <= pos and min(pos + WALK_PEEK, size) <= at + len(block)):
                block = self.reader.read(pos, min(size, pos + read_size))
                at = pos
                with self._lock:
                    self._map[at:at + len(block)] = block
                    self._walked_pages.update(range(at // _PAGE,
                                                    (at + max(len(block), 1) - 1) // _PAGE + 1))
            head = block[pos - at:pos - at + 8]
            if len(head) < 8:  # a reader that returned less than asked
                whole = False
                break
            group = int.from_bytes(head[0:2], order)
            element = int.from_bytes(head[2:4], order)
            length = int.from_bytes(head[4:8], order)
            if group == 0xFFFE and element == 0xE0DD:
                pos += 8
                break
            if group != 0xFFFE or element != 0xE000 or length == 0xFFFFFFFF or (
                    pos + 8 + length > size):
                whole = False
                break
            read_size = WALK_SMALL_READ if length < WALK_SMALL_FRAGMENT else WALK_PEEK
            pos += 8 + length
        if whole and pos < size:
            self.fetch(pos, size, permanent=True)

    def reopen_argument(self) -> str | bytes:
        if self.path is not None:
            return self.path
        raise ValueError("cannot pickle a DicomFile opened from a file object")

    # ---- frames --------------------------------------------------------------

    def frame_source(self, *args: Any) -> NativeFrames | EncapsulatedFrames:
        """frames.frame_source, with sources that fetch what they read."""
        source = frame_source(*args)
        if isinstance(source, NativeFrames):
            source.__class__ = _RemoteNativeFrames
        else:
            source.__class__ = _RemoteEncapsulatedFrames
        source.remote = self  # type: ignore[union-attr]
        return source


class _RemoteNativeFrames(NativeFrames):
    remote: RemoteSource

    def _range(self, k: int) -> tuple[int, int]:
        bits = self.layout.frame_bits
        return self.offset + k * bits // 8, self.offset + -(-(k + 1) * bits // 8)

    def view(self, k: int) -> None:
        return None  # never a view of the sparse mapping: its pages may be dropped

    def decode_into(self, k: int, target: Any, reduce: int = 0, threads: int = 1,
                    as_rgb: bool = True, stream: bool = False) -> None:
        with self.remote.hold(*self._range(k)):
            super().decode_into(k, target, reduce, threads, as_rgb, stream)

    def decode_batch(self, selected: Sequence[int], out: Any, threads: int,
                     stream: bool = False) -> bool:
        return False  # each frame's range is fetched by its decode_into, on its thread

    def prewake(self, threads: int) -> None:
        pass  # no C batch (decode_batch): nothing to wake

    def encoded_bytes(self, k: int, start: int, size: int) -> bytes:
        with self.remote.hold(self.offset + start, self.offset + start + size):
            return bytes(self.value[start:start + size])


class _RemoteEncapsulatedFrames(EncapsulatedFrames):
    remote: RemoteSource

    def _table_range(self, k: int) -> tuple[int, int | None] | None:
        lazy = self._lazy
        if lazy is None or self._all is not None or self._index.complete:
            return None
        size = lazy.entry_size
        order: Literal["big", "little"] = "big" if lazy.big_endian else "little"
        table = lazy.table
        n = len(table) // size

        def entry(i: int) -> int:
            return int.from_bytes(table[i * size:(i + 1) * size], order)

        if k >= n:
            return None
        start = lazy.first_item + entry(k)
        end = lazy.first_item + entry(k + 1) if k + 1 < n else None
        return start, end

    def _fetch_last(self, start: int) -> tuple[int, int]:
        """Walk the item headers from `start` to the sequence delimiter with one
        read per fragment (each with the header after it); the range walked."""
        order: Literal["big", "little"] = (
            "big" if self._lazy is not None and self._lazy.items_big_endian else "little")
        remote, size = self.remote, self.remote.reader.size
        remote.fetch(start, start + 8)
        pos = start
        while pos + 8 <= size:
            head = bytes(self.buffer[pos:pos + 8])
            group = int.from_bytes(head[0:2], order)
            element = int.from_bytes(head[2:4], order)
            length = int.from_bytes(head[4:8], order)
            if group != 0xFFFE or element != 0xE000 or length == 0xFFFFFFFF:
                return start, pos + 8
            remote.fetch(pos + 8, pos + 16 + length)
            pos += 8 + length
        return start, size

    def fragments_of(self, k: int) -> tuple[list[int], list[int]]:
        if k not in self._walked:
            place = self._table_range(k)
            if place is not None:
                start, end = place
                if end is None:
                    start, end = self._fetch_last(start)
                with self.remote.hold(start, end):
                    return super().fragments_of(k)
        return super().fragments_of(k)

    def decode_batch(self, selected: Sequence[int], out: Any, threads: int,
                     codec_threads: int, as_rgb: bool = True) -> bool:
        # Gathering every frame first would fetch them one after another: the
        # frame-by-frame path fetches and decodes on each thread at once.
        return False

    def prewake(self, threads: int) -> None:
        pass  # no C batch (decode_batch): nothing to wake

    def encoded(self, k: int) -> bytes:
        offsets, lengths = self.fragments_of(k)
        with self.remote.hold(min(offsets), max(o + n for o, n in zip(offsets, lengths))):
            return bytes(super().encoded(k))


def _header_end(reader: Any, buffer: memoryview, fetched: int,
                max_depth: int) -> tuple[int | None, tuple[int, int] | None]:
    """Scan the fetched prefix: (None, None) when it is too short to say; else
    how far the header reaches, and for native Pixel Data the range after its
    value that the scan reads too (None otherwise)."""
    size = reader.size
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            index = _scan.scan(buffer[:fetched], -1, max_depth, RemoteSource.lazy_scan)
        except DicomFramesError:
            if fetched >= size:
                return size, None  # the real scan says what is wrong
            return None, None
    if fetched >= size:
        return size, None
    if index.encoding == Encoding.DEFLATED:
        return size, None  # inflated in memory: every byte is needed
    if not index.complete:
        return fetched, None  # stopped after the offset table, inside the prefix
    pixel = index.pixel_data
    if pixel < 0:
        return None, None
    record = index.record(pixel)
    if record.flags & FLAG_ENCAPSULATED:
        return size, None  # not stopped after its offset table: every fragment is needed
    # The length as declared: the scan clips a value cut by the prefix.
    order: Literal["big", "little"] = "big" if index.encoding == Encoding.EXPLICIT_BE else "little"
    declared = int.from_bytes(bytes(buffer[record.offset - 4:record.offset]), order)
    value_end = record.offset + declared
    if value_end >= size:
        return record.offset, None
    return record.offset, (value_end, size)


def open_source(source: Any, *, storage_options: dict[str, Any] | None = None,
                download: bool = False, max_depth: int = 0,
                max_cache_bytes: int = DEFAULT_MAX_CACHE_BYTES,
                header_block: int = HEADER_BLOCK) -> Source:
    """The Source of a URL or a file object: the header fetched, frames later."""
    if isinstance(source, str):
        reader: Any = FsspecReader(source, storage_options)
    else:
        reader = FileObjectReader(source)
    if download:
        data = reader.read(0, reader.size)
        if len(data) != reader.size:
            raise OSError(f"{reader.name or '<file object>'}: read {len(data)} bytes of "
                          f"{reader.size}")
        return Source(data, path=reader.name if isinstance(source, str) else None)
    remote = RemoteSource(reader, reader.name if isinstance(source, str) else None,
                          max_cache_bytes)
    try:
        size = reader.size
        fetched = min(header_block, size)
        remote.extend_prefix(fetched)
        while True:
            end, tail = _header_end(reader, remote.buffer, fetched, max_depth)
            if end is not None:
                break
            fetched = min(size, fetched * 2)
            remote.extend_prefix(fetched)
        remote.extend_prefix(end)
        if tail is not None:
            remote.fetch(*tail, permanent=True)
    except BaseException:
        remote.close()
        raise
    return remote


def name_errors(name: str | None, exc: DicomFramesError) -> DicomFramesError:
    """`exc` led by the URL (or file object name) it came from."""
    return in_context(exc, name or "<file object>")
