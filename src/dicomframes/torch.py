"""PyTorch adapter: :class:`FrameDataset`, a map-style dataset of DICOM frames.

    from torch.utils.data import DataLoader
    from dicomframes.torch import FrameDataset

    dataset = FrameDataset("scans/")                  # every frame of every DICOM file
    loader = DataLoader(dataset, batch_size=8, shuffle=True, num_workers=4)

Construction opens each file's header once to count its frames and keeps no file
open. Frames are decoded on demand in whichever process asks for them: each process
(the main one, or a DataLoader worker, forked or spawned) opens its own files lazily,
so no memory mapping crosses a fork or a pickle.

PyTorch is an optional dependency (``pip install 'dicomframes[torch]'``).
"""

from __future__ import annotations

import bisect
import itertools
import operator
import os
import threading
from collections import OrderedDict
from typing import Any, Callable, Iterable, Sequence, Union

try:
    import torch
    from torch.utils.data import Dataset
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise ImportError("dicomframes.torch needs PyTorch: pip install 'dicomframes[torch]'"
                      ) from exc

from .batch import resolve_threads, run_parallel
from .errors import DicomFramesError, in_context
from .file import DicomFile
from .file import open as open_dicom

__all__ = ["FrameDataset", "dicom_files"]

PathLike = Union[str, "os.PathLike[str]"]
FrameSelector = Union[str, int, Callable[[str, int], Iterable[int]]]

_MAGIC_OFFSET = 128  # "DICM" follows the 128-byte preamble in a Part 10 file


def dicom_files(folder: PathLike) -> list[str]:
    """The DICOM Part 10 files directly in `folder` (not its subfolders),
    sorted by name: regular files with ``DICM`` at byte offset 128.

    Recognising files by their magic reads 132 bytes of each and never guesses:
    a README, a .npy or a thumbnail beside the DICOM files is left out (a
    DICOMDIR is found, and adds no frames). A DICOM file written without the
    preamble is not picked up this way; pass such files by path instead
    (anything :func:`dicomframes.open` accepts)."""
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if not entry.is_file():
                continue
            with open(entry.path, "rb") as fh:
                head = fh.read(_MAGIC_OFFSET + 4)
            if head[_MAGIC_OFFSET:] == b"DICM":
                found.append(entry.path)
    return sorted(found)


def _source_paths(sources: PathLike | Sequence[PathLike]) -> list[str]:
    if isinstance(sources, (str, bytes, os.PathLike)):
        path = os.fsdecode(sources)
        return dicom_files(path) if os.path.isdir(path) else [path]
    return [os.fsdecode(p) for p in sources]


def _select(path: str, count: int, frames: FrameSelector) -> Sequence[int]:
    """The frame indices of one file that `frames` picks (non-negative)."""
    if isinstance(frames, str):
        if frames != "all":
            raise ValueError(f"frames must be 'all', an int or a callable, not {frames!r}")
        return range(count)
    if callable(frames):
        chosen = frames(path, count)
    elif isinstance(frames, bool):
        raise TypeError("frames must be 'all', an int or a callable, not a bool")
    else:
        try:
            chosen = (operator.index(frames),)
        except TypeError:
            raise TypeError(f"frames must be 'all', an int or a callable, "
                            f"not {type(frames).__name__}") from None
    selected = []
    for k in chosen:
        k = operator.index(k)
        if not -count <= k < count:
            raise IndexError(f"frame {k} out of range: {path!r} has {count} frame(s)")
        selected.append(k + count if k < 0 else k)
    return tuple(selected)


def _probe(path: str, rescale: bool) -> int:
    """The number of frames of the file at `path` (0 without Pixel Data), after checking
    that its frames can be decoded: the pixel description, the transfer syntax's
    decoder, the frame location rules and, with `rescale`, the Modality LUT attributes.
    Only the header is read (no pixel byte is decoded)."""
    with open_dicom(path) as f:
        count = f.number_of_frames
        if count:
            f.decoder(rescale=rescale)
        return count


def _naming(exc: BaseException, path: str) -> BaseException:
    """`exc` with `path` leading its message (same class), unless it names it already."""
    if path in str(exc):
        return exc
    if isinstance(exc, DicomFramesError):
        return in_context(exc, path)
    if isinstance(exc, OSError) and exc.filename is None:
        return type(exc)(exc.errno, f"{path}: {exc.strerror or exc}")
    return exc


class FrameDataset(Dataset):
    """A map-style :class:`torch.utils.data.Dataset` over the frames of DICOM files.

    `sources`: a folder (its DICOM files, see :func:`dicom_files`), one file,
    or a sequence of paths. `frames`: ``"all"`` (every frame of every file);
    an int (that frame of every file; negative counts from the end); or a
    callable ``(path, n_frames) -> indices`` choosing per file (may return
    none). Files without Pixel Data contribute no frames. Item ``i`` is frame
    ``k`` of file ``path`` (see :meth:`frame_index`) as a tensor of shape
    ``(rows, columns)`` or ``(rows, columns, samples)`` in the frame's dtype,
    or float32 Modality LUT values with ``rescale=True``; `transform`, if
    given, is applied to that tensor. Torch supports few operations on uint16
    and uint32 tensors: convert them in `transform` or use `rescale`.

    Each tensor is made with :func:`torch.from_numpy` from the array the
    decoder wrote, so it shares that memory: nothing is copied after decoding.
    Native frames are decoded into a new array (``frame(k, copy=True)``) rather
    than handed out as read-only views of the file's mapping: torch has no
    read-only tensors, and an in-place transform (or the caller) writing into a
    view of a read-only mapping would crash the process. That copy costs what a
    memcpy does, which DataLoader's batching pays again anyway.

    Construction reads every file's header, on `threads` threads (None: one per CPU),
    and checks that its frames can be decoded (the pixel description, a decoder for
    its transfer syntax, the Modality LUT attributes with `rescale`). A file that
    fails (damaged, unreadable, a syntax without a decoder) raises, with
    ``on_error="raise"`` (the default), a :class:`~dicomframes.DicomFramesError` (or
    OSError) of the same class whose message starts with the file's path; with
    ``on_error="skip"`` it is left out and listed in :attr:`skipped` as ``(path,
    reason)``. Errors raised later by ``dataset[i]`` name the file as well.

    Files are opened lazily by each process that reads items and kept open
    (at most `max_open_files` per process, least recently used dropped);
    pickling drops them, so the dataset works with ``DataLoader(num_workers=N)``
    under fork and spawn alike.
    """

    def __init__(self, sources: PathLike | Sequence[PathLike], frames: FrameSelector = "all",
                 transform: Callable[[torch.Tensor], Any] | None = None,
                 rescale: bool = False, *, max_open_files: int = 64,
                 on_error: str = "raise", threads: int | None = None) -> None:
        if max_open_files < 1:
            raise ValueError(f"max_open_files must be at least 1, not {max_open_files}")
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
        self.transform = transform
        self.rescale = bool(rescale)
        self.max_open_files = max_open_files
        self.on_error = on_error
        self._frames_label = (getattr(frames, "__name__", type(frames).__name__)
                              if callable(frames) else repr(frames))
        candidates = _source_paths(sources)
        # Every header is read and checked here, in parallel (the scan releases the GIL):
        # a damaged file, or one in a syntax without a decoder, is found now, not at ds[i].
        probed: list[int | BaseException] = [0] * len(candidates)

        def probe(j: int) -> None:
            try:
                probed[j] = _probe(candidates[j], self.rescale)
            except (DicomFramesError, OSError) as exc:
                probed[j] = exc

        run_parallel(probe, len(candidates), resolve_threads(threads))
        paths: list[str] = []
        selections: list[Sequence[int]] = []
        skipped: list[tuple[str, str]] = []
        for path, result in zip(candidates, probed):
            if isinstance(result, BaseException):
                if on_error == "skip":
                    skipped.append((path, str(result)))
                    continue
                raise _naming(result, path) from None
            if result == 0:
                continue  # no Pixel Data (a DICOMDIR, a report): no frames to pick from
            selected = _select(path, result, frames)
            if selected:
                paths.append(path)
                selections.append(selected)
        self._paths = paths
        self._selections = selections
        # (path, reason) of each file left out with on_error="skip".
        self.skipped: list[tuple[str, str]] = skipped
        # _ends[j] = items in files 0..j; item i lives in the first file with _ends[j] > i.
        self._ends = list(itertools.accumulate(len(s) for s in selections))
        self._reset_files()

    # ---- per-process open files ---------------------------------------------

    def _reset_files(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._open_files: OrderedDict[str, DicomFile] = OrderedDict()

    def _file(self, path: str) -> DicomFile:
        if self._pid != os.getpid():
            # A forked child inherited the parent's files: open its own instead.
            self._reset_files()
        with self._lock:
            f = self._open_files.get(path)
            if f is not None:
                self._open_files.move_to_end(path)
                return f
        f = open_dicom(path)
        with self._lock:
            self._open_files[path] = f
            while len(self._open_files) > self.max_open_files:
                # Dropped, not closed: another thread may still be decoding from it;
                # the mapping goes when the last reference does.
                self._open_files.popitem(last=False)
        return f

    def close(self) -> None:
        """Forget this process's open files (they are reopened on demand)."""
        self._reset_files()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in ("_pid", "_lock", "_open_files"):
            del state[name]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("skipped", [])  # pickled before on_error existed
        state.setdefault("on_error", "raise")
        self.__dict__.update(state)
        self._reset_files()

    # ---- the dataset ---------------------------------------------------------

    @property
    def paths(self) -> list[str]:
        """The files that contribute frames, in dataset order."""
        return list(self._paths)

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    def frame_index(self, index: int) -> tuple[str, int]:
        """``(path, k)``: item `index` is frame `k` of the file at `path`
        (negative indices count from the end)."""
        i = operator.index(index)
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"item {i} out of range: the dataset has {n} frame(s)")
        if i < 0:
            i += n
        j = bisect.bisect_right(self._ends, i)
        start = self._ends[j - 1] if j else 0
        return self._paths[j], self._selections[j][i - start]

    def __getitem__(self, index: int) -> Any:
        path, k = self.frame_index(index)
        try:
            f = self._file(path)
            if self.rescale:
                array = f.frame(k, copy=True, rescale=True)
            else:
                array = f.frame(k, copy=True)
        except (DicomFramesError, OSError) as exc:
            raise _naming(exc, path) from None
        if not array.flags.writeable:  # defensive: never hand torch a read-only view
            array = array.copy()
        tensor = torch.from_numpy(array)
        return self.transform(tensor) if self.transform is not None else tensor

    def __repr__(self) -> str:
        return (f"<dicomframes.torch.FrameDataset: {len(self)} frames from "
                f"{len(self._paths)} files, frames={self._frames_label}, "
                f"rescale={self.rescale}"
                + (f", {len(self.skipped)} files skipped" if self.skipped else "") + ">")
