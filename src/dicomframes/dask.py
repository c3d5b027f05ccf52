"""Lazy Dask arrays of DICOM frames: a series of files (:func:`read_series`) or the
frames of one large multi-frame file (:func:`read_frames_array`).

The headers are read on the client (open + :meth:`DicomFile.decoder`, no frame
decoded), so the array's shape, dtype and chunks are known before anything is
decoded. Each chunk is one task that opens its file(s) and decodes its frames
with the C decoders; the task graph carries only sources (paths, or whatever
:func:`dicomframes.open` accepts) and options, never open files, so it pickles
small and runs on the threaded scheduler or on ``dask.distributed`` workers
(processes, other machines: the paths must be readable there).

Needs the ``dask`` extra (``pip install "dicomframes[dask]"``).
"""

from __future__ import annotations

import os
from typing import Any, Iterable

import dask.array as da
import numpy as np
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph
from dask.utils import parse_bytes

from .batch import resolve_threads, run_parallel
from .errors import DicomFramesError, in_context
from .file import DicomFile, open
from .remote import is_remote
from .series import SORT_KEYS, MismatchError, _instance_key, _position_key

__all__ = ["read_series", "read_frames_array"]

# One source as a task carries it: (what open() takes, open() options, name for errors).
_Source = tuple[Any, dict[str, Any], str]


def _source_of(source: Any, position: int,
               storage_options: dict[str, Any] | None = None) -> _Source:
    """What a task needs to reopen `source` elsewhere; never an open file.
    `storage_options` go with URLs (fsspec), as :func:`dicomframes.open` takes them."""
    if isinstance(source, DicomFile):
        # A file pickles as the means to reopen it: its path (or its bytes).
        argument = source._source.reopen_argument()
        name = source.path or f"source {position} (bytes)"
        return argument, dict(source._options), name
    if isinstance(source, str) and storage_options and is_remote(source):
        return source, {"storage_options": dict(storage_options)}, source
    if isinstance(source, (str, os.PathLike)):
        return source, {}, os.fspath(source)
    return source, {}, f"source {position} (bytes)"


def _open(source: _Source) -> DicomFile:
    argument, options, name = source
    try:
        return open(argument, **options)
    except DicomFramesError as exc:
        raise in_context(exc, name) from None


def _frame_chunks(total: int, chunks: Any, frame_bytes: int) -> tuple[int, ...]:
    """Chunk sizes along the frame axis: an int (frames per chunk), a sequence of
    ints summing to `total`, or "auto"/None (about dask's ``array.chunk-size``)."""
    if total == 0:
        return (0,)
    if chunks is None or chunks == "auto":
        import dask

        limit = parse_bytes(dask.config.get("array.chunk-size"))
        size = max(1, min(total, limit // max(1, frame_bytes)))
    elif isinstance(chunks, (int, np.integer)) and not isinstance(chunks, bool):
        size = int(chunks)
        if size < 1:
            raise ValueError(f"chunks must be at least 1 frame, not {chunks}")
    else:
        sizes = tuple(int(c) for c in chunks)
        if any(c < 1 for c in sizes) or sum(sizes) != total:
            raise ValueError(f"chunks {sizes} must be positive and sum to {total} frames")
        return sizes
    return tuple(min(size, total - start) for start in range(0, total, size))


def _read_chunk(pieces: tuple[tuple[_Source, int, int], ...], as_rgb: bool, rescale: bool,
                reduce: int, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """One chunk: frames [start, stop) of each source in turn, stacked."""
    count = sum(stop - start for _, start, stop in pieces)
    out = np.empty((count, *shape), np.dtype(dtype))
    position = 0
    for source, start, stop in pieces:
        name = source[2]
        with _open(source) as file:
            try:
                output = file.decoder(as_rgb=as_rgb, rescale=rescale, reduce=reduce)
                if (output.shape, output.dtype) != (shape, out.dtype):
                    raise MismatchError(
                        f"frames of shape {output.shape} and dtype {output.dtype}, unlike the "
                        f"{shape} {out.dtype} its header had when the array was made")
                if len(file) < stop:
                    raise MismatchError(f"{len(file)} frames, fewer than the {stop} its header "
                                        f"had when the array was made")
                for k in range(start, stop):
                    output.decode_into(k, out[position])
                    position += 1
            except DicomFramesError as exc:
                raise in_context(exc, name) from None
    return out


def _array(plan: list[tuple[_Source, int]], chunks: Any, as_rgb: bool, rescale: bool,
           reduce: int, shape: tuple[int, ...], dtype: np.dtype, label: str) -> da.Array:
    """The array of `plan` ((source, frame count) in output order) in chunks."""
    total = sum(count for _, count in plan)
    sizes = _frame_chunks(total, chunks, int(np.prod(shape, dtype=np.int64)) * dtype.itemsize)
    name = f"{label}-" + tokenize(plan, sizes, as_rgb, rescale, reduce, shape, str(dtype))
    zeros = (0,) * len(shape)
    graph: dict[Any, Any] = {}
    # Walk the plan once, cutting it at the chunk boundaries.
    which, offset = 0, 0  # the source and the frame within it where the next chunk starts
    for block, size in enumerate(sizes):
        pieces = []
        need = size
        while need:
            source, count = plan[which]
            take = min(need, count - offset)
            if take:
                pieces.append((source, offset, offset + take))
            need -= take
            offset += take
            if offset == count:
                which, offset = which + 1, 0
        graph[(name, block) + zeros] = (_read_chunk, tuple(pieces), bool(as_rgb),
                                        bool(rescale), int(reduce), tuple(shape), dtype.str)
    layer = HighLevelGraph.from_collections(name, graph, dependencies=())
    return da.Array(layer, name, (sizes, *((n,) for n in shape)), dtype=dtype)


def read_series(sources: Iterable[Any], *, sort: str | None = None, rescale: bool = False,
                as_rgb: bool = True, reduce: int = 0, chunks: Any = "auto",
                threads: int | None = None,
                storage_options: dict[str, Any] | None = None) -> da.Array:
    """A lazy ``dask.array.Array`` of every frame of every source (paths, or
    anything :func:`dicomframes.open` accepts), stacked exactly as
    :func:`dicomframes.read_frames` stacks them: shape ``(total_frames,
    *frame_shape)``, `sort` ``"instance"`` or ``"position"`` (or None: the given
    order), the same checks that all frames share shape and dtype
    (:class:`MismatchError` names the first file that differs).

    The headers are read here, on `threads` threads (None: one per CPU); no
    frame is decoded until the array is computed. `chunks`: frames per chunk
    along the first axis (an int), explicit sizes (a sequence summing to the
    frame count), or ``"auto"`` (about dask's ``array.chunk-size``); a chunk
    may span several files. Each chunk is one task that opens its files and
    decodes its frames; errors name the file. `storage_options` are passed
    with every URL to :func:`dicomframes.open` (they travel in the tasks).
    """
    if sort is not None and sort not in SORT_KEYS:
        raise ValueError(f"sort must be None, 'instance' or 'position', not {sort!r}")
    given = [_source_of(s, i, storage_options) for i, s in enumerate(sources)]
    if not given:
        raise ValueError("read_series needs at least one source")
    headers: list[tuple[float | None, tuple[int, ...], np.dtype, int] | None] = [None] * len(given)
    key = None if sort is None else (_instance_key if sort == "instance" else _position_key)

    def read_header(i: int) -> None:
        source = given[i]
        with _open(source) as file:
            try:
                order_key = None if key is None else key(file, i)
                output = file.decoder(as_rgb=as_rgb, rescale=rescale, reduce=reduce)
                headers[i] = (order_key, output.shape, output.dtype, len(file))
            except DicomFramesError as exc:
                if source[2] in str(exc):
                    raise
                raise in_context(exc, source[2]) from None

    # Opening scans the header only (and releases the GIL): worth the threads.
    run_parallel(read_header, len(given), resolve_threads(threads))
    found = [h for h in headers if h is not None]
    assert len(found) == len(given)
    order = list(range(len(given)))
    if key is not None:
        order.sort(key=lambda i: found[i][0])  # type: ignore[arg-type,return-value]
    first = order[0]
    shape, dtype = found[first][1], found[first][2]
    for i in order:
        if (found[i][1], found[i][2]) != (shape, dtype):
            raise MismatchError(
                f"{given[i][2]}: frames of shape {found[i][1]} and dtype {found[i][2]}, "
                f"unlike the {shape} {dtype} of {given[first][2]}")
    plan = [(given[i], found[i][3]) for i in order]
    return _array(plan, chunks, as_rgb, rescale, reduce, shape, dtype, "dicomframes-series")


def read_frames_array(source: Any, *, rescale: bool = False, as_rgb: bool = True,
                      reduce: int = 0, chunks: Any = "auto",
                      storage_options: dict[str, Any] | None = None) -> da.Array:
    """A lazy ``dask.array.Array`` of the frames of one (multi-frame) file:
    shape ``(number_of_frames, *frame_shape)``, equal to :meth:`DicomFile.frames`
    with the same options. The header is read here; `chunks` as for
    :func:`read_series` (an int: frames per chunk). Each chunk is one task that
    opens the file and decodes its frames; errors name the file.
    `storage_options` as for :func:`read_series`."""
    given = _source_of(source, 0, storage_options)
    with _open(given) as file:
        try:
            output = file.decoder(as_rgb=as_rgb, rescale=rescale, reduce=reduce)
            count = len(file)
        except DicomFramesError as exc:
            raise in_context(exc, given[2]) from None
        shape, dtype = output.shape, output.dtype
    return _array([(given, count)], chunks, as_rgb, rescale, reduce, shape, dtype,
                  "dicomframes-frames")

