"""The one registry of decoders: dicomframes, its peers, the engines and the numpy floors.

A ``Peer`` says which modules it needs, which codecs (``uids.CODECS`` keys) it decodes,
how it does it (one line for the reports) and how it makes the callable of each job:

* ``open``: open a file and read rows, columns and the number of frames;
* ``frame``: frame k of an input's (first) file, path to array, cold open included
  (or the engine alone on that frame's codestream, taken beforehand);
* ``all``: every frame of an input into one array at t threads: dicomframes with its own
  pool, a peer serially at 1 thread and from a ``ThreadPoolExecutor(t)`` made beforehand.

``case(name, job, inp, ...)`` gives the callable or raises ``Skip`` with the reason.
Peers are imported when a case is made, never here: none is a dependency.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from .cases import (
    TORCH_BATCH,
    df_all,
    df_decodes,
    df_engine,
    df_frame,
    df_open,
    df_sorted,
    dicomsdl_all,
    dicomsdl_frame,
    dicomsdl_open,
    floor,
    gdcm_all,
    imagecodecs_all,
    imagecodecs_engine,
    need,
    pydicom_all,
    pydicom_frame,
    pydicom_open,
    torch,
)
from .inputs import Input, Skip
from .timing import Fn

ALL_CODECS = frozenset({"native", "rle", "jpegls", "j2k", "htj2k", "jpeg"})
COMPRESSED = ALL_CODECS - {"native"}


@dataclass(frozen=True)
class Peer:
    """One decoder and how each job is done with it (None: it has no such case)."""

    name: str
    needs: tuple[str, ...]  # modules that must import
    codecs: frozenset[str]  # codec keys it decodes
    how: str
    open: Callable[[str], Fn] | None = None
    frame: Callable[[Input, int], Fn] | None = None
    all: Callable[[Input, int, Executor | None], Fn] | None = None
    holds_gil: bool = False  # while decoding: its pool cannot scale
    series_only: bool = False


def case(name: str, job: str, inp: Input, *, k: int = 0, threads: int = 1,
         pool: Executor | None = None) -> Fn:
    """The zero-argument callable of peer `name` doing `job` on `inp` (frame `k`; at
    `threads` threads from `pool`, None at 1 thread); Skip when it cannot run here."""
    peer = PEERS[name]
    make = getattr(peer, job)
    if make is None:
        raise Skip(f"no {job} case")
    for module in peer.needs:
        need(module)
    if inp.codec not in peer.codecs:
        raise Skip(f"no decoder for {inp.syntax.name}")
    if peer.series_only and not inp.is_series:
        raise Skip("series only")
    if name.startswith("dicomframes") and job != "open":
        df_decodes(inp)
    if job == "open":
        return make(inp.paths[0])
    if job == "frame":
        return make(inp, k)
    return make(inp, threads, pool)


@contextmanager
def thread_cases(inp: Input, names: Sequence[str],
                 threads: Sequence[int]) -> Iterator[dict[tuple[str, int], Callable[[], Fn]]]:
    """Factories of the all-frames cases of `names` at each thread count, keyed (name,
    threads), with one pool per count > 1 whose threads are started before any timing."""
    pools = {t: ThreadPoolExecutor(t) for t in threads if t > 1}
    try:
        for t, pool in pools.items():
            barrier = threading.Barrier(t)
            list(pool.map(lambda _, b=barrier: b.wait(), range(t)))
        yield {(n, t): (lambda n=n, t=t: case(n, "all", inp, threads=t, pool=pools.get(t)))
               for n in names for t in threads}
    finally:
        for pool in pools.values():
            pool.shutdown()


# ---------------------------------------------------------------------------------------
# the registry
# ---------------------------------------------------------------------------------------

_PIXEL_ARRAY = "`pydicom.pixels.pixel_array(path)` (`index=k` for one frame)"
_POOL = ("; pool: `dcmread` once, then `get_decoder(uid).as_array(ds, index=i)` per frame; "
         "a series: `pixel_array` per file")
_IC = ("frames extracted with `pydicom.dcmread` + `generate_frames` beforehand (not timed), "
       "then `dicomrle_decode` / `jpegls_decode` (CharLS) / `jpeg2k_decode(numthreads=1)` "
       "(OpenJPEG) / `htj2k_decode` (OpenJPH) / `jpeg8_decode` (libjpeg-turbo 3: 8-bit, "
       "12-bit and lossless; faster than `ljpeg_decode` on lossless) per frame into a "
       "preallocated array")

PEERS: dict[str, Peer] = {p.name: p for p in [
    Peer("dicomframes", (), ALL_CODECS,
         "`open(path)` + `f.frames(threads=t)` (its own pool); a series: "
         "`read_frames(paths, threads=t)`; one frame: `open(path)` + `f[k]`",
         open=df_open, frame=df_frame("view"), all=df_all),
    Peer("dicomframes-copy", (), ALL_CODECS, "`open(path)` + `f.frame(k, copy=True)`",
         frame=df_frame("copy")),
    Peer("dicomframes-out", (), ALL_CODECS,
         "`open(path)` + `f.frames([k], out=buf)` (a preallocated buffer)",
         frame=df_frame("out")),
    Peer("dicomframes-raw-bits", (), ALL_CODECS,
         "`open(path, correct_unused_bits=False)` + `f[k]`", frame=df_frame("raw-bits")),
    Peer("dicomframes-opened", (), ALL_CODECS, "`f[k]` on a file opened beforehand",
         frame=df_frame("opened")),
    Peer("dicomframes-opened-cycling", (), ALL_CODECS,
         "`f[k]` on a file opened beforehand, k + 7 every call", frame=df_frame("cycling")),
    Peer("dicomframes sort=instance", (), ALL_CODECS,
         "`read_frames(paths in directory-listing order, threads=t, sort=\"instance\")` (the "
         "names are shuffled)", all=df_sorted, series_only=True),
    Peer("engine: dicomframes._codecs", (), COMPRESSED,
         "our C call `dicomframes._codecs.decode_*` on frame k's codestream (from "
         "`f.encoded_frame(k)`, taken once) into a preallocated array; JPEG: "
         "`decode_jpeg(..., as_rgb=True)`, looked up at run time",
         frame=df_engine),
    Peer("pydicom", ("pydicom",), frozenset({"native", "rle"}),
         _PIXEL_ARRAY + ": numpy for native data, pydicom's own RLE decoder" + _POOL,
         open=pydicom_open, frame=pydicom_frame("pydicom"), all=pydicom_all("pydicom"),
         holds_gil=True),
    Peer("pydicom+pylibjpeg", ("pydicom", "pylibjpeg"), COMPRESSED,
         "as pydicom, `decoding_plugin=\"pylibjpeg\"` (pylibjpeg-rle, -libjpeg, -openjpeg)",
         frame=pydicom_frame("pylibjpeg"), all=pydicom_all("pylibjpeg"), holds_gil=True),
    Peer("pydicom+pyjpegls", ("pydicom", "jpeg_ls"), frozenset({"jpegls"}),
         "as pydicom, `decoding_plugin=\"pyjpegls\"` (CharLS)",
         frame=pydicom_frame("pyjpegls"), all=pydicom_all("pyjpegls"), holds_gil=True),
    Peer("pydicom+pillow", ("pydicom", "PIL"), frozenset({"jpeg"}),
         "as pydicom, `decoding_plugin=\"pillow\"` (8-bit DCT JPEG)",
         frame=pydicom_frame("pillow"), all=pydicom_all("pillow")),  # Pillow drops the GIL
    Peer("pydicom+gdcm", ("pydicom", "gdcm"), frozenset({"jpegls", "j2k", "jpeg"}),
         "as pydicom, `decoding_plugin=\"gdcm\"`; each thread pinned to one CPU",
         frame=pydicom_frame("gdcm"), all=pydicom_all("gdcm"), holds_gil=True),
    Peer("gdcm", ("gdcm",), ALL_CODECS,
         "python-gdcm `ImageRegionReader` + `BoxRegion` + `ReadIntoBuffer` (pool: a frame "
         "range per thread; RLE, 12-bit JPEG: `ImageReader` whole file only; YBR_FULL_422 "
         "JPEG: YCbCr out, converted to RGB by pydicom); each thread pinned to one CPU "
         "(GDCM's OpenJPEG starts a thread per CPU, no knob)",
         all=gdcm_all, holds_gil=True),
    Peer("dicomsdl", ("dicomsdl",), ALL_CODECS,
         "`dicomsdl.open(path)` + `copyFrameData(i, out[i])` (pool: a frame range per "
         "thread, each with its own `open`); one frame: `pixelData(k, storedvalue=True)`",
         open=dicomsdl_open, frame=dicomsdl_frame, all=dicomsdl_all, holds_gil=True),
    Peer("imagecodecs", ("imagecodecs",), COMPRESSED, _IC, all=imagecodecs_all()),
    Peer("imagecodecs(openjpeg-ht)", ("imagecodecs",), frozenset({"htj2k"}),
         "as imagecodecs, HTJ2K through `jpeg2k_decode` (OpenJPEG's HT decoder, the engine "
         "dicomframes uses)", all=imagecodecs_all("openjpeg")),
    Peer("engine: imagecodecs", ("imagecodecs",), COMPRESSED,
         "imagecodecs (its own CharLS / OpenJPEG / OpenJPH / libjpeg-turbo builds) on frame "
         "k's codestream into a preallocated array", frame=imagecodecs_engine()),
    Peer("engine: imagecodecs(openjpeg-ht)", ("imagecodecs",), frozenset({"htj2k"}),
         "as engine: imagecodecs, HTJ2K through OpenJPEG's HT decoder",
         frame=imagecodecs_engine("openjpeg")),
    Peer("torch DataLoader", ("torch", "dicomframes.torch"), ALL_CODECS,
         f"`DataLoader(dicomframes.torch.FrameDataset(paths), batch_size={TORCH_BATCH}, "
         f"num_workers=0 | t, persistent_workers=True)`, batches concatenated (workers "
         f"started and warmed outside the timed call)", all=torch, series_only=True),
    Peer("numpy-memmap", (), frozenset({"native"}), "floor (view): `np.memmap(...)[k]`",
         frame=floor("memmap")),
    Peer("mmap-frombuffer", (), frozenset({"native"}),
         "floor (view): `os.open` + `mmap.mmap` + `np.frombuffer`", frame=floor("frombuffer")),
    Peer("readinto", (), frozenset({"native"}),
         "floor (copy): `open` + `seek` + `readinto(np.empty(...))`", frame=floor("readinto")),
]}

# ``dicomframes bench``: every peer that decodes all frames, dicomframes first
BENCH_PEERS = [n for n, p in PEERS.items() if p.all is not None and not p.series_only]
