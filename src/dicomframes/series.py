"""`read_frames`: the frames of many files (a series) stacked into one array,
decoded in parallel."""

from __future__ import annotations

import os
from typing import Any, Iterable

import numpy as np

from .batch import resolve_threads, run_parallel
from .errors import DicomFramesError, MalformedError, format_tag, in_context
from .file import DicomFile, open
from .frames import check_out
from .output import FrameOutput

__all__ = ["MismatchError", "read_frames"]

TAG_INSTANCE_NUMBER = 0x00200013
TAG_IMAGE_POSITION_PATIENT = 0x00200032
TAG_IMAGE_ORIENTATION_PATIENT = 0x00200037
SORT_KEYS = ("instance", "position")


class MismatchError(DicomFramesError):
    """Files of one batch whose frames differ in shape or dtype."""


def _name(file: DicomFile, position: int) -> str:
    return file.path or f"source {position} (bytes)"


def _instance_key(file: DicomFile, position: int) -> float:
    number = file.dataset.numbers(TAG_INSTANCE_NUMBER)
    if number is None or number[0] is None:
        raise MalformedError(f"{_name(file, position)}: no Instance Number (0020,0013) to "
                             f"sort by", tag=TAG_INSTANCE_NUMBER)
    return float(number[0])


def _position_key(file: DicomFile, position: int) -> float:
    """Distance along the slice normal (row direction x column direction):
    the order of the slices in space, whatever the orientation."""
    found = []
    for tag, size in ((TAG_IMAGE_POSITION_PATIENT, 3), (TAG_IMAGE_ORIENTATION_PATIENT, 6)):
        name = "Image Position" if size == 3 else "Image Orientation"
        try:
            value = file.dataset.numbers(tag)  # MalformedError for text, bytes, items
        except MalformedError as exc:
            raise in_context(exc, f"{_name(file, position)}: {name} (Patient)") from None
        if value is None or len(value) != size or any(v is None for v in value):
            offset = file.dataset.value_offset(tag)
            raise MalformedError(
                f"{_name(file, position)}: {name} (Patient) {format_tag(tag)} needs {size} "
                f"numbers to sort by position, found {value!r}"
                + ("" if offset is None else f" at offset {offset}"),
                tag=tag, offset=offset)
        found.append(value)
    where, orientation = found
    normal = np.cross(np.asarray(orientation[:3], float), np.asarray(orientation[3:], float))
    return float(np.dot(normal, np.asarray(where, float)))


def read_frames(sources: Iterable[Any], *, out: np.ndarray | None = None,
                threads: int | None = None, sort: str | None = None, as_rgb: bool = True,
                rescale: bool = False, reduce: int = 0) -> np.ndarray:
    """Every frame of every source (paths, bytes or open :class:`DicomFile`\\ s),
    in order, stacked into one ``(total_frames, *frame_shape)`` array (or into
    `out`), decoded in parallel on `threads` threads (None: one per CPU).

    A CT or MR series of single-frame files is the common case. All frames
    must share shape and dtype, else :class:`MismatchError` names the first
    file that differs. `sort` orders the files first: ``"instance"`` by
    Instance Number, ``"position"`` by Image Position (Patient) along the
    slice normal. `as_rgb`, `rescale` and `reduce` as for
    :meth:`DicomFile.frame`. Files opened here are closed before returning;
    a failing frame raises (naming its file) after all threads have stopped.
    """
    if sort is not None and sort not in SORT_KEYS:
        raise ValueError(f"sort must be None, 'instance' or 'position', not {sort!r}")
    workers = resolve_threads(threads)
    sources = list(sources)
    if not sources:
        raise ValueError("read_frames needs at least one source")
    files: list[DicomFile | None] = [s if isinstance(s, DicomFile) else None for s in sources]
    owned = [i for i, f in enumerate(files) if f is None]

    def open_owned(i: int) -> None:
        source = sources[owned[i]]
        try:
            files[owned[i]] = open(source)
        except DicomFramesError as exc:
            name = (os.fspath(source) if isinstance(source, (str, os.PathLike))
                    else f"source {owned[i]} (bytes)")
            raise in_context(exc, name) from None

    try:
        # The scan releases the GIL: opening hundreds of files is worth the threads.
        run_parallel(open_owned, len(owned), workers)
        return _read(files, out, workers, sort, as_rgb, rescale, reduce)  # type: ignore[arg-type]
    finally:
        for i in owned:
            if files[i] is not None:
                files[i].close()  # type: ignore[union-attr]


def _read(files: list[DicomFile], out: np.ndarray | None, workers: int, sort: str | None,
          as_rgb: bool, rescale: bool, reduce: int) -> np.ndarray:
    order = list(range(len(files)))
    if sort is not None:
        key = _instance_key if sort == "instance" else _position_key
        keys = []
        for i, file in enumerate(files):
            try:
                keys.append(key(file, i))
            except DicomFramesError as exc:
                if _name(file, i) in str(exc):
                    raise
                raise in_context(exc, _name(file, i)) from None
        order.sort(key=keys.__getitem__)  # stable: ties keep the given order
    outputs: list[FrameOutput] = []
    jobs: list[tuple[int, int]] = []  # (file position, frame index), in output order
    first: FrameOutput | None = None
    for i in order:
        file = files[i]
        try:
            output = file.decoder(as_rgb=as_rgb, rescale=rescale, reduce=reduce)
            frame_count = len(file)
        except DicomFramesError as exc:
            raise in_context(exc, _name(file, i)) from None
        if first is None:
            first = output
        elif (output.shape, output.dtype) != (first.shape, first.dtype):
            raise MismatchError(
                f"{_name(file, i)}: frames of shape {output.shape} and dtype {output.dtype}, "
                f"unlike the {first.shape} {first.dtype} of {_name(files[order[0]], order[0])}")
        outputs.append(output)
        jobs.extend((len(outputs) - 1, k) for k in range(frame_count))
    assert first is not None
    shape = (len(jobs), *first.shape)
    dtype = first.dtype
    if out is not None:
        check_out(out, shape, dtype)
    else:
        out = np.empty(shape, dtype)
    codec_threads = first.codec_threads(workers, len(jobs))
    target = out

    def decode(position: int) -> None:
        which, k = jobs[position]
        try:
            outputs[which].decode_into(k, target[position], codec_threads)
        except DicomFramesError as exc:
            file = files[order[which]]
            raise in_context(exc, _name(file, order[which])) from None

    run_parallel(decode, len(jobs), workers)
    return out
