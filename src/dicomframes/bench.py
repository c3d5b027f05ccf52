"""Decoding throughput with 1 and N threads against the installed peer libraries: the
comparison ``dicomframes bench`` prints (benchmarks/parallel_report.py uses it too, and the
codec benchmarks share its per-frame decoders and timing helpers).  The default sample
files, when no FILES are given, come from ``bench_files``.

A *target* is one multi-frame file, or the single-frame files of one series (decoded into
one stack).  For each target and thread count every case decodes all frames into one
array and is timed (best of ``runs`` interleaved runs, MB/s of decoded output, MB = 10^6
bytes):

* ``dicomframes``: ``open(path).frames(threads=t)``, or ``read_frames(paths, threads=t)``
  for a series (the library's own thread pool);
* each peer at 1 thread in its best serial way, and at t > 1 threads from a
  ``ThreadPoolExecutor(t)`` that is created once, outside the timed call: pydicom (with
  each installed decoding plugin), python-gdcm, dicomsdl, and imagecodecs on frames
  extracted with pydicom beforehand (extraction not timed).  See ``PEER_NOTES``.

A peer that is not installed, or has no decoder for the syntax, is skipped with the reason;
one that raises or whose output differs from the reference is reported, never fatal.
Peers are imported lazily: none of them is a dependency.
"""

from __future__ import annotations

import gc
import importlib
import os
import platform
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from .bench_files import default_files
from .pixels import PixelDescription
from .uids import TransferSyntax

MB = 1e6

Fn = Callable[[], np.ndarray]


class Skip(Exception):
    """This case cannot run here: the library is not installed or has no decoder for the
    syntax (reported as a note, not an error)."""


# ---------------------------------------------------------------------------------------
# targets
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What one comparison decodes: one multi-frame file, or a series of single-frame files
    (in the given order)."""

    label: str
    paths: tuple[str, ...]
    syntax: TransferSyntax
    pixels: PixelDescription
    n_frames: int

    @property
    def is_series(self) -> bool:
        return len(self.paths) > 1

    @property
    def codec(self) -> str:
        """"native", "rle", "jpegls", "j2k", "htj2k", ..."""
        return self.syntax.codec or "native"

    @property
    def dtype(self) -> np.dtype:
        return self.pixels.dtype

    @property
    def frame_shape(self) -> tuple[int, ...]:
        return self.pixels.frame_shape

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.n_frames, *self.frame_shape)

    @property
    def decoded_bytes(self) -> int:
        return int(np.prod(self.shape)) * self.dtype.itemsize

    def describe(self) -> str:
        kind = f"{len(self.paths)} files" if self.is_series else "1 file"
        shape = "x".join(map(str, self.frame_shape))
        return (f"{self.syntax.name}, {kind}, {self.n_frames} frames of {shape} {self.dtype}, "
                f"{self.decoded_bytes / MB:.1f} MB decoded")


def target(paths: Sequence[str | os.PathLike], label: str | None = None) -> Target:
    """A Target for one file, or for several single-frame files of one geometry."""
    from . import open as open_dicom

    paths = tuple(str(p) for p in paths)
    with open_dicom(paths[0]) as f:
        syntax, pixels, n = f.transfer_syntax, f.pixels, f.number_of_frames
    if len(paths) > 1:
        n = len(paths)
    if label is None:
        label = Path(paths[0]).name if len(paths) == 1 else \
            f"{len(paths)} files in {Path(paths[0]).parent}"
    return Target(label, paths, syntax, pixels, n)


def group(paths: Iterable[str | os.PathLike]) -> tuple[list[Target], list[str]]:
    """Targets for the user's files: each multi-frame file on its own; single-frame files of
    the same syntax and geometry together, as one series (in the order given).  Also returns
    one message per file that could not be opened."""
    from . import open as open_dicom
    from .errors import DicomFramesError

    targets: list[Target] = []
    singles: dict[tuple, list[str]] = {}
    errors: list[str] = []
    for p in map(str, paths):
        try:
            with open_dicom(p) as f:
                syntax, pixels, n = f.transfer_syntax, f.pixels, f.number_of_frames
        except (DicomFramesError, OSError) as exc:
            errors.append(f"{p}: {exc}")
            continue
        if n == 1:
            singles.setdefault((syntax.uid, pixels.frame_shape, pixels.dtype.str,
                                pixels.photometric_interpretation), []).append(p)
        else:
            targets.append(Target(Path(p).name, (p,), syntax, pixels, n))
    for members in singles.values():
        targets.append(target(members))
    return targets, errors


# ---------------------------------------------------------------------------------------
# helpers for the cases
# ---------------------------------------------------------------------------------------


def _need(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise Skip("not installed") from None


@contextmanager
def one_cpu(slot: int = 0):
    """Pin the calling thread to one CPU while decoding: GDCM's OpenJPEG starts a thread per
    CPU with no knob reachable from Python, and threads it starts inherit the pinning."""
    if not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    cpus = sorted(before)
    os.sched_setaffinity(0, {cpus[slot % len(cpus)]})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _split(n: int, parts: int) -> list[range]:
    """range(n) in `parts` contiguous pieces of near-equal size (none empty)."""
    parts = max(1, min(n, parts))
    bounds = [n * i // parts for i in range(parts + 1)]
    return [range(a, b) for a, b in zip(bounds, bounds[1:])]


def _pooled(t: Target, pool: Executor, parts: int,
            work: Callable[[int, range, np.ndarray], None]) -> Fn:
    """Decode all frames as `parts` chunks on `pool`: work(slot, frames, out)."""
    chunks = _split(t.n_frames, parts)

    def run():
        out = np.empty(t.shape, t.dtype)
        list(pool.map(lambda job: work(job[0], job[1], out), enumerate(chunks)))
        return out

    return run


def sign_extend(a: np.ndarray, bits_stored: int) -> None:
    """In place: two's-complement values of `bits_stored` bits in a signed integer array."""
    shift = a.dtype.itemsize * 8 - bits_stored
    if shift:
        np.left_shift(a, shift, out=a)
        np.right_shift(a, shift, out=a)


# ---------------------------------------------------------------------------------------
# the cases: factory(target, threads, pool) -> zero-argument callable returning the frames
# ---------------------------------------------------------------------------------------


def _dicomframes(t: Target, threads: int, pool: Executor | None) -> Fn:
    import dicomframes

    if t.is_series:
        paths = list(t.paths)
        return lambda: dicomframes.read_frames(paths, threads=threads)
    path = t.paths[0]

    def run():
        with dicomframes.open(path) as f:
            return f.frames(threads=threads)

    return run


def _pydicom(t: Target, threads: int, pool: Executor | None, plugin: str) -> Fn:
    """Serial: ``pixel_array(path)`` (all frames). Pooled: one ``dcmread`` per run, then
    ``get_decoder(uid).as_array(ds, index=i)`` per frame; a series: ``pixel_array`` per
    file."""
    _need("pydicom")
    from pydicom import dcmread
    from pydicom.pixels import get_decoder, pixel_array

    if t.codec == "native":
        if plugin != "pydicom":
            raise Skip("native data: no plugin")
        kw: dict[str, str] = {}
    else:
        try:
            decoder = get_decoder(t.syntax.uid)
        except NotImplementedError:
            raise Skip(f"no pydicom decoder for {t.syntax.name}") from None
        if plugin not in decoder.available_plugins:
            raise Skip(f"plugin {plugin!r} not available for {t.syntax.name}")
        kw = {"decoding_plugin": plugin}
    pinned = one_cpu if plugin == "gdcm" else _unpinned
    paths = t.paths

    def files(slot: int, frames: range, out: np.ndarray) -> None:
        with pinned(slot):
            for i in frames:
                out[i] = pixel_array(paths[i], **kw)

    if t.is_series:
        if pool is None:
            return _pooled(t, _Inline(), 1, files)
        return _pooled(t, pool, threads * (1 if plugin == "gdcm" else 4), files)
    path = paths[0]
    if pool is None:
        def run():
            with pinned():
                return pixel_array(path, **kw)

        return run
    decoder = get_decoder(t.syntax.uid)
    chunks = _split(t.n_frames, threads * (1 if plugin == "gdcm" else 4))

    def run():
        ds = dcmread(path)
        for _ in ds:  # convert every element now, not racily from the pool's threads
            pass
        out = np.empty(t.shape, t.dtype)

        def frames(job):
            slot, rng = job
            with pinned(slot):
                for i in rng:
                    out[i] = decoder.as_array(ds, index=i, **kw)[0]

        list(pool.map(frames, enumerate(chunks)))
        return out

    return run


@contextmanager
def _unpinned(slot: int = 0):
    yield


class _Inline(Executor):
    """An executor that runs each job at once in the calling thread (the serial case)."""

    def map(self, fn, *iterables, **kwargs):  # type: ignore[override]
        return [fn(*args) for args in zip(*iterables)]


def gdcm_read(path: str, t: Target, first: int, stop: int) -> np.ndarray:
    """Frames [first, stop) of one file: ``ImageRegionReader`` + ``BoxRegion`` +
    ``ReadIntoBuffer``; RLE, which the region reader does not decode, through
    ``ImageReader`` + ``GetBuffer()`` (the whole file)."""
    import gdcm

    shape = (stop - first, *t.frame_shape)
    if t.codec == "rle":
        r = gdcm.ImageReader()
        r.SetFileName(path)
        if not r.Read():
            raise RuntimeError(f"gdcm.ImageReader.Read failed on {path}")
        buf = r.GetImage().GetBuffer().encode("utf-8", "surrogateescape")
        return np.frombuffer(buf, t.dtype).reshape(shape)
    r = gdcm.ImageRegionReader()
    r.SetFileName(path)
    if not r.ReadInformation():
        raise RuntimeError(f"gdcm.ImageRegionReader.ReadInformation failed on {path}")
    box = gdcm.BoxRegion()
    box.SetDomain(0, t.pixels.columns - 1, 0, t.pixels.rows - 1, first, stop - 1)
    r.SetRegion(box)
    buf = bytearray(r.ComputeBufferLength())
    if not r.ReadIntoBuffer(buf):
        raise RuntimeError(f"gdcm.ImageRegionReader.ReadIntoBuffer failed on {path}")
    return np.frombuffer(buf, t.dtype).reshape(shape)


def _gdcm(t: Target, threads: int, pool: Executor | None) -> Fn:
    """python-gdcm, each decoding thread pinned to one CPU (see ``one_cpu``)."""
    _need("gdcm")
    paths = t.paths
    if t.is_series:
        def files(slot: int, frames: range, out: np.ndarray) -> None:
            with one_cpu(slot):
                for i in frames:
                    out[i] = gdcm_read(paths[i], t, 0, 1)[0]

        return _pooled(t, pool or _Inline(), threads, files)
    if pool is None:
        def run():
            with one_cpu():
                return gdcm_read(paths[0], t, 0, t.n_frames)

        return run
    if t.codec == "rle":
        raise Skip("GDCM decodes RLE only as a whole file (no frame range)")

    def chunk(slot: int, frames: range, out: np.ndarray) -> None:
        with one_cpu(slot):
            out[frames.start:frames.stop] = gdcm_read(paths[0], t, frames.start, frames.stop)

    return _pooled(t, pool, threads, chunk)


def _dicomsdl(t: Target, threads: int, pool: Executor | None) -> Fn:
    """``dicomsdl.open(path)`` + ``copyFrameData(i, out[i])``; pooled: each chunk of frames
    opens its own file object."""
    dicomsdl = _need("dicomsdl")
    paths = t.paths

    def chunk(slot: int, frames: range, out: np.ndarray) -> None:
        if t.is_series:
            for i in frames:
                df = dicomsdl.open(paths[i])
                df.copyFrameData(0, out[i])
                df.close()
            return
        df = dicomsdl.open(paths[0])
        for i in frames:
            df.copyFrameData(i, out[i])
        df.close()

    return _pooled(t, pool or _Inline(), threads, chunk)


def imagecodecs_decoder(t: Target, engine: str) -> Callable[[bytes, np.ndarray], None]:
    """decode(codestream, out): one frame into `out` with imagecodecs."""
    ic = _need("imagecodecs")
    p = t.pixels
    signed = p.pixel_representation == 1
    if engine == "openjpeg" and t.codec != "htj2k":
        raise Skip("only for HTJ2K")
    if t.codec == "rle":
        dt = t.dtype.newbyteorder("<")
        rows, cols, spp = p.rows, p.columns, p.samples_per_pixel

        def decode(data, out):
            flat = np.frombuffer(ic.dicomrle_decode(data, dt), dt)
            if spp == 1:
                out[...] = flat.reshape(out.shape)
            else:  # one segment per sample: comes back colour-by-plane
                out[...] = flat.reshape(spp, rows, cols).transpose(1, 2, 0)
            if signed:
                sign_extend(out, p.bits_stored)

        return decode
    if t.codec == "jpegls":
        def decode(data, out):
            # CharLS gives unsigned samples; the DICOM value is their two's complement
            ic.jpegls_decode(data, out=out.view(out.dtype.str.replace("i", "u")))
            if signed:
                sign_extend(out, p.bits_stored)

        return decode
    if t.codec == "j2k" or (t.codec == "htj2k" and engine == "openjpeg"):
        return lambda data, out: ic.jpeg2k_decode(data, numthreads=1, out=out)
    if t.codec == "htj2k":  # OpenJPH, single-threaded
        return lambda data, out: ic.htj2k_decode(data, out=out)
    raise Skip(f"no imagecodecs decoder for {t.syntax.name}")


def _extract_frames(t: Target) -> list[bytes]:
    """Every frame's codestream, with ``pydicom.dcmread`` + ``generate_frames``."""
    _need("pydicom")
    from pydicom import dcmread
    from pydicom.encaps import generate_frames

    frames: list[bytes] = []
    for path in t.paths:
        ds = dcmread(path)
        n = int(ds.get("NumberOfFrames") or 1)
        frames.extend(generate_frames(ds.PixelData, number_of_frames=n))
    return frames


def _imagecodecs(t: Target, threads: int, pool: Executor | None, engine: str = "") -> Fn:
    """imagecodecs on each frame's codestream, extracted beforehand (not timed)."""
    decode = imagecodecs_decoder(t, engine)
    frames = _extract_frames(t)
    if len(frames) != t.n_frames:
        raise RuntimeError(f"pydicom found {len(frames)} frames, expected {t.n_frames}")

    def chunk(slot: int, rng: range, out: np.ndarray) -> None:
        for i in rng:
            decode(frames[i], out[i])

    return _pooled(t, pool or _Inline(), threads * 4, chunk)


CASES: dict[str, Callable[[Target, int, Executor | None], Fn]] = {
    "dicomframes": _dicomframes,
    "pydicom": lambda t, n, pool: _pydicom(t, n, pool, "pydicom"),
    "pydicom+pylibjpeg": lambda t, n, pool: _pydicom(t, n, pool, "pylibjpeg"),
    "pydicom+pyjpegls": lambda t, n, pool: _pydicom(t, n, pool, "pyjpegls"),
    "pydicom+gdcm": lambda t, n, pool: _pydicom(t, n, pool, "gdcm"),
    "gdcm": _gdcm,
    "dicomsdl": _dicomsdl,
    "imagecodecs": _imagecodecs,
    "imagecodecs(openjpeg-ht)": lambda t, n, pool: _imagecodecs(t, n, pool, "openjpeg"),
}

# peers that hold the GIL while decoding (their pools cannot scale)
GIL_HOLDING = ("pydicom", "pydicom+pylibjpeg", "pydicom+pyjpegls", "pydicom+gdcm", "gdcm",
               "dicomsdl")

PEER_NOTES = {
    "dicomframes": "`open(path).frames(threads=t)`; a series: `read_frames(paths, threads=t)`",
    "pydicom": "`pydicom.pixels.pixel_array(path)` (numpy for native data, pydicom's own "
               "RLE decoder); pool: `dcmread` once, then `get_decoder(uid).as_array(ds, "
               "index=i)` per frame; a series: `pixel_array` per file",
    "pydicom+pylibjpeg": "as pydicom, `decoding_plugin=\"pylibjpeg\"` (pylibjpeg-rle, "
                         "-libjpeg, -openjpeg)",
    "pydicom+pyjpegls": "as pydicom, `decoding_plugin=\"pyjpegls\"` (CharLS)",
    "pydicom+gdcm": "as pydicom, `decoding_plugin=\"gdcm\"`; each thread pinned to one CPU",
    "gdcm": "python-gdcm `ImageRegionReader` + `BoxRegion` + `ReadIntoBuffer` (pool: a frame "
            "range per thread; RLE: `ImageReader` whole file only); each thread pinned to one "
            "CPU (GDCM's OpenJPEG starts a thread per CPU, no knob)",
    "dicomsdl": "`dicomsdl.open(path)` + `copyFrameData(i, out[i])`; pool: a frame range per "
                "thread, each with its own `open`",
    "imagecodecs": "frames extracted with `pydicom.dcmread` + `generate_frames` beforehand "
                   "(not timed), then `dicomrle_decode` / `jpegls_decode` / "
                   "`jpeg2k_decode(numthreads=1)` / `htj2k_decode` (OpenJPH) per frame",
    "imagecodecs(openjpeg-ht)": "as imagecodecs, HTJ2K through `jpeg2k_decode` (OpenJPEG's "
                                "HT decoder, the engine dicomframes uses)",
}


# ---------------------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------------------


class Progress:
    """A one-line progress bar on a terminal stream (stderr), drawn only once a run has
    lasted `after` seconds, so that short runs print nothing."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool | None = None,
                 after: float = 1.0, width: int = 30) -> None:
        self.stream = sys.stderr if stream is None else stream
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total, self.enabled, self.width = max(total, 1), enabled, width
        self.done, self.start, self.after, self.drawn = 0, time.perf_counter(), after, False

    def step(self, label: str = "") -> None:
        self.done += 1
        if not self.enabled or time.perf_counter() - self.start < self.after:
            return
        filled = self.width * min(self.done, self.total) // self.total
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} {label[:40]:<40}")
        self.stream.flush()
        self.drawn = True

    def skip(self, steps: int) -> None:
        """Count steps that will not run (a skipped case), without drawing."""
        self.done += steps

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r" + " " * (self.width + 55) + "\r")
            self.stream.flush()


@dataclass
class Cell:
    """One case at one thread count: run times, or why it has none."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    mismatch: str | None = None
    error: str | None = None

    @property
    def best(self) -> float | None:
        return min(self.wall) if self.wall else None


@dataclass
class Outcome:
    """All cases of one target."""

    target: Target
    threads: tuple[int, ...]
    cells: dict[tuple[str, int], Cell] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # case -> reason
    load: tuple[str, str] = ("", "")

    def best(self, name: str, threads: Iterable[int] | None = None) -> float | None:
        """Minimum time of a case over the given thread counts (all by default), counting
        only correct runs."""
        times = [c.best for (n, k), c in self.cells.items()
                 if n == name and (threads is None or k in threads) and c.best is not None
                 and not c.mismatch]
        return min(times) if times else None

    def rate(self, seconds: float | None) -> float | None:
        return None if not seconds else self.target.decoded_bytes / MB / seconds


def compare(out: Any, truth: np.ndarray) -> str | None:
    """None when equal, else a short description of the difference."""
    a = np.asarray(out)
    if a.shape != truth.shape:
        if a.size != truth.size:
            return f"shape {a.shape} != {truth.shape}"
        a = a.reshape(truth.shape)
    if a.dtype != truth.dtype:
        return f"dtype {a.dtype} != {truth.dtype}"
    if np.array_equal(a, truth):
        return None
    return f"{int(np.count_nonzero(a != truth))} values differ"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def timed(fn: Fn) -> tuple[Any, float, float]:
    """``(fn(), wall seconds, process CPU seconds)`` of one call, after a garbage
    collection (not timed)."""
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    t1, c1 = time.perf_counter(), time.process_time()
    return out, t1 - t0, c1 - c0


def failure(exc: BaseException) -> str:
    """How a failed run is reported: the exception's type and the start of its message."""
    return f"{type(exc).__name__}: {str(exc).strip()[:200]}"


def measure(t: Target, names: Sequence[str], threads: Sequence[int], runs: int = 3, *,
            truth: np.ndarray | None = None, cases: dict | None = None, slow: float = 40.0,
            progress: Progress | None = None) -> Outcome:
    """Time every case of `names` at every thread count on target `t`, runs interleaved
    (run 1 of every case, then run 2, ...).  Each case's first output is compared with
    `truth`, or, when None, with dicomframes' first output.  A peer whose run took over
    `slow` seconds is not repeated."""
    cases = CASES if cases is None else cases
    threads = tuple(threads)
    res = Outcome(t, threads)
    pools = {k: ThreadPoolExecutor(k) for k in threads if k > 1}  # outside the timed calls
    fns: dict[tuple[str, int], Fn] = {}
    try:
        for name in names:
            for k in threads:
                try:
                    fns[name, k] = cases[name](t, k, pools.get(k))
                    res.cells[name, k] = Cell()
                except Skip as exc:
                    res.skipped[name] = str(exc) if k == threads[0] else f"at {k} threads: {exc}"
                    if progress is not None:
                        progress.skip(runs * (len(threads) - threads.index(k)))
                    break
                except Exception as exc:  # noqa: BLE001 - a peer's failure is a result
                    res.cells[name, k] = Cell(error=f"{type(exc).__name__}: {exc}")
        for k, pool in pools.items():  # start every pool thread before any timing
            barrier = threading.Barrier(k)
            list(pool.map(lambda _: barrier.wait(), range(k)))
        reference = truth
        before = load()
        for r in range(runs):
            for (name, k), fn in fns.items():
                cell = res.cells[name, k]
                if progress is not None:
                    progress.step(f"{t.label} {name} {k}T")
                if cell.error or (r and name != "dicomframes" and max(cell.wall) > slow):
                    continue
                try:
                    out, wall, cpu = timed(fn)
                except Exception as exc:  # noqa: BLE001
                    cell.error = failure(exc)
                    continue
                cell.wall.append(wall)
                cell.cpu.append(cpu)
                if r == 0:
                    if reference is None:
                        reference = np.array(out, copy=True)
                    cell.mismatch = compare(out, reference)
                del out
        res.load = (before, load())
    finally:
        for pool in pools.values():
            pool.shutdown()
    return res


# ---------------------------------------------------------------------------------------
# printing
# ---------------------------------------------------------------------------------------


def cell_text(res: Outcome, cell: Cell | None) -> str:
    if cell is None:
        return "—"
    if not cell.wall:
        return "ERR"
    s = f"{res.rate(cell.best):.1f}"
    if len(cell.wall) > 1:
        s += f" ({res.rate(float(np.median(cell.wall))):.1f})"
    if cell.mismatch:
        s += " ✗"
    if cell.error:
        s += " ERR"
    return s


def table(outcomes: Sequence[Outcome], names: Sequence[str]) -> list[str]:
    """Markdown rows: one per (target, case) that ran, MB/s at each thread count, the case's
    own speed-up, and dicomframes at its most threads against the case at its best."""
    threads = sorted({k for o in outcomes for k in o.threads})
    top = max(threads)
    head = " | ".join(f"{k} thread{'s' * (k > 1)}" for k in threads)
    lines = [f"| target | decoder | {head} | {top} / 1 | dicomframes {top}T / this |",
             "|---|---|" + "---:|" * len(threads) + "---:|---:|"]
    for o in outcomes:
        ours = o.best("dicomframes", [top])
        for name in names:
            if not any(n == name for n, _ in o.cells):
                continue
            cells = [cell_text(o, o.cells.get((name, k))) for k in threads]
            one, many = o.best(name, [1]), o.best(name, [top])
            speedup = f"{one / many:.2f}x" if one and many else "-"
            theirs = o.best(name)
            vs = f"{theirs / ours:.2f}x" if ours and theirs and name != "dicomframes" else ""
            lines.append(f"| {o.target.label} | {name} | " + " | ".join(cells)
                         + f" | {speedup} | {vs} |")
    return lines


def notes(outcomes: Sequence[Outcome]) -> list[str]:
    """One line per skipped case, failure and mismatch."""
    lines = []
    for o in outcomes:
        for name, why in o.skipped.items():
            lines.append(f"- {o.target.label}: {name} skipped ({why})")
        for (name, k), cell in o.cells.items():
            if cell.error:
                lines.append(f"- {o.target.label}: {name} {k}T failed: {cell.error}")
            if cell.mismatch:
                lines.append(f"- {o.target.label}: {name} {k}T output differs: {cell.mismatch}")
    return lines


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions() -> str:
    """dicomframes, its codec libraries and every installed peer."""
    import dicomframes

    parts = [f"dicomframes {dicomframes.__version__}"]
    try:
        from ._codecs import codec_versions

        cv = codec_versions()
        parts[0] += f" (OpenJPEG {cv['openjpeg']}, CharLS {cv['charls']})"
    except (ImportError, AttributeError, KeyError):
        pass
    parts.append(f"numpy {np.__version__}")
    for dist in ("pydicom", "pylibjpeg", "pylibjpeg-rle", "pylibjpeg-libjpeg",
                 "pylibjpeg-openjpeg", "pyjpegls", "python-gdcm", "dicomsdl", "imagecodecs"):
        try:
            parts.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(parts)


def machine() -> str:
    return (f"{cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


# ---------------------------------------------------------------------------------------
# the command
# ---------------------------------------------------------------------------------------


def run(paths: Sequence[str], *, threads: int | None = None, runs: int = 3,
        peers: Sequence[str] | None = None, progress: bool | None = None,
        stream: TextIO | None = None, command: str = "dicomframes bench") -> int:
    """What ``dicomframes bench`` does: the comparison on `paths` (a default set, generated
    into a temporary directory, when empty), printed as markdown to `stream`."""
    import tempfile

    out = sys.stdout if stream is None else stream
    n = threads or os.cpu_count() or 1
    counts = (1, n) if n > 1 else (1,)
    names = ["dicomframes", *[p for p in CASES if p != "dicomframes"
                              and (not peers or p in peers)]]
    with tempfile.TemporaryDirectory(prefix="dicomframes-bench-") as tmp:
        preface: list[str] = []
        if not paths:
            try:
                paths, left_out = default_files(tmp)
            except Skip:
                print("no FILES given, and pydicom (needed to write the default set) is not "
                      "installed", file=out)
                return 2
            preface.append(f"No FILES given: a default set of {len(paths)} generated files "
                           f"(48 frames of 256x256 int16 each)"
                           + (f"; left out: {'; '.join(left_out)}" if left_out else ""))
        targets, errors = group(paths)
        print("## dicomframes bench\n", file=out)
        print(f"- command: `{command}`", file=out)
        print(f"- machine: {machine()}; load average {load()}", file=out)
        print(f"- {versions()}", file=out)
        for line in preface:
            print(f"- {line}", file=out)
        for target_ in targets:
            print(f"- {target_.label}: {target_.describe()}", file=out)
        print(f"\nAll frames into one array, MB/s of decoded output: best (median) of {runs} "
              f"run(s); dicomframes with its own pool, peers at 1 thread in their best serial "
              f"way and from a {n}-thread pool. ✗ = output differs from dicomframes', "
              f"ERR = failed.\n", file=out)
        bar = Progress(len(targets) * len(names) * len(counts) * runs, enabled=progress)
        outcomes = []
        try:
            for target_ in targets:
                outcomes.append(measure(target_, names, counts, runs, progress=bar))
        finally:
            bar.close()
        for line in table(outcomes, names):
            print(line, file=out)
        lines = notes(outcomes) + [f"- {e} (not benchmarked)" for e in errors]
        if lines:
            print("\n" + "\n".join(lines), file=out)
        print(f"\nLoad average at the end: {load()}", file=out)
    return 0 if outcomes else 1
