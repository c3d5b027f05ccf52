"""Where a DicomFile's bytes come from, and how they are released.

A path is mapped read-only (or read, when small); any other bytes-like object is
used as it is. A Deflated data set is inflated in memory, bounded. URLs and
file objects are read by byte ranges into a RemoteSource (remote.py).
"""

from __future__ import annotations

import mmap
import os
import zlib
from typing import Any

from .errors import MalformedError

__all__ = ["DEFAULT_MAX_INFLATED_BYTES", "READ_BELOW_BYTES", "Source"]

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)
# Files up to this size are read into memory instead of being mapped: mapping
# costs two more system calls and a page fault, and there is no lazy I/O to gain.
READ_BELOW_BYTES = 64 * 1024
# A deflated data set is inflated in memory; refuse to grow past this.
DEFAULT_MAX_INFLATED_BYTES = 1 << 32
_INFLATE_STEP = 1 << 20
# A closed source's buffer (shared: it is never released).
_CLOSED = memoryview(b"")


def _as_bytes_view(data: Any) -> memoryview:
    view = memoryview(data)
    if view.ndim != 1 or view.itemsize != 1:
        view = view.cast("B")
    return view


class Source:
    """The bytes of one DICOM file as a flat, read-only-by-contract memoryview
    (`buffer`), with the path it came from (None for bytes) and, for a mapped
    file, the mapping that `close()` releases."""

    __slots__ = ("path", "buffer", "_mapping", "_deflated", "closed")
    # How lazily the header is scanned (`_scan.scan`'s `lazy`): stop after a usable
    # offset table of compressed Pixel Data; the fragments are indexed when needed.
    lazy_scan = 1

    def __init__(self, data: Any, *, path: str | None = None,
                 mapping: mmap.mmap | None = None) -> None:
        self.path = path
        self._mapping = mapping
        self.buffer = _as_bytes_view(data)
        self._deflated: bytes | None = None  # the bytes as given, once inflated (pickling)
        self.closed = False

    @classmethod
    def open(cls, source: Any) -> Source:
        """A path (str or os.PathLike), mapped or read; else a bytes-like object."""
        if not isinstance(source, (str, os.PathLike)):
            return cls(source)
        path = os.fspath(source)
        fd = os.open(path, _OPEN_FLAGS)
        try:
            try:
                # The size by lseek, not fstat, which builds a stat_result: 2 us more on a
                # cold open + one frame.
                size = os.lseek(fd, 0, os.SEEK_END)
                os.lseek(fd, 0, os.SEEK_SET)
                if size > READ_BELOW_BYTES:
                    mapping = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
                    return cls(mapping, path=path, mapping=mapping)
            except OSError:
                # What lseek or mmap refuses (a pipe, a directory) is read as fstat sizes
                # it, and fails as it did; a mapping refused for a large file, as it was.
                size = os.fstat(fd).st_size
                if size > READ_BELOW_BYTES:
                    raise
            return cls(os.read(fd, size), path=path)
        finally:
            os.close(fd)

    def inflate(self, dataset_offset: int, limit: int) -> None:
        """Replace the buffer by the file meta followed by the inflated data set
        (raw deflate from `dataset_offset`), refusing more than `limit` bytes."""
        view = self.buffer
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        parts = [bytes(view[:dataset_offset])]
        total = 0
        src = view[dataset_offset:]
        try:
            for start in range(0, len(src), _INFLATE_STEP):
                chunk: bytes | memoryview = src[start:start + _INFLATE_STEP]
                while chunk:
                    out = inflater.decompress(chunk, _INFLATE_STEP)
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
        finally:
            src.release()
        if self.path is None:
            self._deflated = view.tobytes()
        view.release()
        self.buffer = memoryview(b"".join(parts))
        self._unmap()  # the inflated copy is all that is read from now on

    def _unmap(self) -> None:
        """Close the mapping, if any. A slice of it still alive elsewhere (a view
        handed out, a traceback) keeps it mapped until that goes."""
        if self._mapping is not None:
            try:
                self._mapping.close()
            except BufferError:
                pass
            self._mapping = None

    def close(self) -> None:
        """Release the buffer and the mapping. Frames handed out as views keep
        the mapping alive until they are gone."""
        if self.closed:
            return
        self.closed = True
        buffer, self.buffer = self.buffer, _CLOSED
        try:
            buffer.release()
        except BufferError:
            return  # views still use it; the mapping goes with the last of them
        self._unmap()

    def reopen_argument(self) -> str | bytes:
        """What `open()` needs to open this file again in another process: the
        path, or the bytes themselves for a file opened from bytes."""
        if self.path is not None:
            return self.path
        if self._deflated is not None:
            return self._deflated
        if self.closed:
            raise ValueError("cannot pickle a closed DicomFile opened from bytes")
        return self.buffer.tobytes()
