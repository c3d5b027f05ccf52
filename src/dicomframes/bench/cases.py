"""How each library does each job: the factories behind ``peers.PEERS``.  Each returns a
zero-argument callable doing exactly one measured operation; imports and set-up happen in the
factory, never in the callable, so they are not timed."""

from __future__ import annotations

import functools
import itertools
import mmap
import os
from collections.abc import Callable
from concurrent.futures import Executor
from contextlib import contextmanager

import numpy as np

from .inputs import Input, Skip
from .timing import Fn

TORCH_BATCH = 16


def need(module: str):
    """The module, or Skip("not installed")."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise Skip("not installed") from None


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


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


@contextmanager
def _unpinned(slot: int = 0):
    yield


def _split(n: int, parts: int) -> list[range]:
    """range(n) in `parts` contiguous pieces of near-equal size (none empty)."""
    parts = max(1, min(n, parts))
    bounds = [n * i // parts for i in range(parts + 1)]
    return [range(a, b) for a, b in itertools.pairwise(bounds)]


class _Inline(Executor):
    """An executor that runs each job at once in the calling thread (the serial case)."""

    def map(self, fn, *iterables, **kwargs):  # type: ignore[override]
        return [fn(*args) for args in zip(*iterables)]


def _pooled(inp: Input, pool: Executor | None, parts: int,
            work: Callable[[int, range, np.ndarray], None]) -> Fn:
    """All frames as `parts` chunks on `pool` (None: serially): work(slot, frames, out)."""
    chunks = _split(inp.n_frames, parts if pool is not None else 1)
    pool = pool or _Inline()

    def run():
        out = np.empty(inp.shape, inp.dtype)
        list(pool.map(lambda job: work(job[0], job[1], out), enumerate(chunks)))
        return out

    return run


def sign_extend(a: np.ndarray, bits_stored: int) -> None:
    """In place: two's-complement values of `bits_stored` bits in a signed integer array."""
    shift = a.dtype.itemsize * 8 - bits_stored
    if shift:
        np.left_shift(a, shift, out=a)
        np.right_shift(a, shift, out=a)


def df_decodes(inp: Input) -> None:
    """Skip unless dicomframes decodes inp's pixel data (its first frame, tried once per
    file outside any timing): a build without a syntax's decoder reports a clean skip."""
    if inp.syntax.encapsulated and not _df_decodes(inp.paths[0]):
        raise Skip(f"no decoder for {inp.syntax.name} in this dicomframes")


@functools.lru_cache(maxsize=64)
def _df_decodes(path: str) -> bool:
    import dicomframes

    try:
        with dicomframes.open(path) as f:
            f.frame(0, copy=True)
    except NotImplementedError:  # UnsupportedError, UnsupportedTransferSyntaxError
        return False
    return True


def encoded_frame(inp: Input, k: int) -> bytes:
    """Frame k's codestream, read by dicomframes (outside any timing); by pydicom when
    this dicomframes has no decoder for the syntax (then it does not index the frames)."""
    import dicomframes

    try:
        with dicomframes.open(inp.paths[0]) as f:
            return bytes(f.encoded_frame(k))
    except NotImplementedError:
        need("pydicom")
        from pydicom import dcmread
        from pydicom.encaps import get_frame

        ds = dcmread(inp.paths[0])
        return get_frame(ds.PixelData, k, number_of_frames=inp.n_frames)


# ---------------------------------------------------------------------------------------
# dicomframes
# ---------------------------------------------------------------------------------------


def df_open(path: str) -> Fn:
    import dicomframes

    def run():
        with dicomframes.open(path) as f:
            return f.rows, f.columns, f.number_of_frames

    return run


def df_frame(how: str) -> Callable[[Input, int], Fn]:
    """open + frame k: `how` is "view" (f[k]), "copy", "out" (a preallocated buffer),
    "raw-bits" (correct_unused_bits=False), "opened" (a file opened beforehand) or
    "cycling" (the same, a different frame on every call: none in the CPU caches)."""

    def make(inp: Input, k: int) -> Fn:
        import dicomframes

        path = inp.paths[0]
        if how in ("opened", "cycling"):
            f = dicomframes.open(path)
            state = [k]

            def next_frame():  # frame k first, so that the output can be checked
                i = state[0]
                state[0] = (i + 7) % len(f)
                return f[i]

            return next_frame if how == "cycling" else (lambda: f[k])
        buf = np.empty((1, *inp.frame_shape), inp.dtype)
        options = {"correct_unused_bits": False} if how == "raw-bits" else {}

        def run():
            with dicomframes.open(path, **options) as f:
                if how == "copy":
                    return f.frame(k, copy=True)
                return f.frames([k], out=buf) if how == "out" else f[k]

        return run

    return make


def df_all(inp: Input, threads: int, pool: Executor | None) -> Fn:
    import dicomframes

    if inp.is_series:
        paths = list(inp.paths)
        return lambda: dicomframes.read_frames(paths, threads=threads)

    def run():
        with dicomframes.open(inp.paths[0]) as f:
            return f.frames(threads=threads)

    return run


def df_sorted(inp: Input, threads: int, pool: Executor | None) -> Fn:
    import dicomframes

    listing = sorted(inp.paths)  # name order: shuffled with respect to the slices
    return lambda: dicomframes.read_frames(listing, threads=threads, sort="instance")


def df_engine(inp: Input, k: int) -> Fn:
    """Our C decode on frame k's bytes into a preallocated array (GIL released, no file)."""
    from dicomframes import _codecs

    options = {}
    if inp.codec == "jpeg":  # one entry point for all JPEG processes, looked up at run time
        decode = getattr(_codecs, "decode_jpeg", None)
        if decode is None:
            raise Skip("no decoder: dicomframes._codecs has no decode_jpeg")
        options["as_rgb"] = True  # YBR_FULL(_422) as RGB, like f[k] and pydicom
    else:
        decode = {"rle": _codecs.decode_rle, "jpegls": _codecs.decode_jls,
                  "j2k": _codecs.decode_j2k, "htj2k": _codecs.decode_j2k}[inp.codec]
    p = inp.pixels
    data = encoded_frame(inp, k)
    out = np.empty(inp.frame_shape, inp.dtype)
    args = (p.rows, p.columns, p.samples_per_pixel, p.bits_allocated, p.bits_stored,
            p.pixel_representation, p.photometric_interpretation)

    def run():
        decode(data, out, *args, **options)
        return out

    return run


def torch(inp: Input, threads: int, pool: Executor | None) -> Fn:
    import torch
    from torch.utils.data import DataLoader

    from dicomframes.torch import FrameDataset

    workers = 0 if threads == 1 else threads
    # workers start once (persistent) and are warmed here, outside the timed call
    loader = DataLoader(FrameDataset(list(inp.paths)), batch_size=TORCH_BATCH,
                        num_workers=workers, persistent_workers=workers > 0)
    next(iter(loader))
    return lambda: torch.cat(list(loader)).numpy()


# ---------------------------------------------------------------------------------------
# pydicom (with each decoding plugin), python-gdcm, dicomsdl
# ---------------------------------------------------------------------------------------


def pydicom_open(path: str) -> Fn:
    import pydicom

    def run():
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        return ds.Rows, ds.Columns, ds.get("NumberOfFrames", 1)

    return run


def _plugin_options(inp: Input, plugin: str) -> dict[str, str]:
    """pixel_array's options for `plugin` on inp's syntax, or Skip."""
    from pydicom.pixels import get_decoder

    if inp.codec == "native":
        if plugin != "pydicom":
            raise Skip("native data: no plugin")
        return {}
    try:
        decoder = get_decoder(inp.syntax.uid)
    except NotImplementedError:
        raise Skip(f"no pydicom decoder for {inp.syntax.name}") from None
    if plugin not in decoder.available_plugins:
        raise Skip(f"plugin {plugin!r} not available for {inp.syntax.name}")
    if plugin in ("pillow", "gdcm") and jpeg12(inp):  # pydicom refuses them 12-bit JPEG
        raise Skip(f"pydicom's {plugin} plugin decodes 8-bit DCT JPEG only")
    return {"decoding_plugin": plugin}


def pydicom_frame(plugin: str) -> Callable[[Input, int], Fn]:
    def make(inp: Input, k: int) -> Fn:
        from pydicom.pixels import pixel_array

        options = _plugin_options(inp, plugin)
        path = inp.paths[0]
        pinned = one_cpu if plugin == "gdcm" else _unpinned

        def run():
            with pinned(-1):
                return pixel_array(path, index=k, **options)

        return run

    return make


def pydicom_all(plugin: str) -> Callable[[Input, int, Executor | None], Fn]:
    """Serial: ``pixel_array(path)`` (all frames). Pooled: one ``dcmread`` per run, then
    ``get_decoder(uid).as_array(ds, index=i)`` per frame; a series: ``pixel_array`` per
    file."""

    def make(inp: Input, threads: int, pool: Executor | None) -> Fn:
        from pydicom import dcmread
        from pydicom.pixels import get_decoder, pixel_array

        options = _plugin_options(inp, plugin)
        pinned = one_cpu if plugin == "gdcm" else _unpinned
        parts = threads * (1 if plugin == "gdcm" else 4)
        paths = inp.paths

        def files(slot: int, frames: range, out: np.ndarray) -> None:
            with pinned(slot):
                for i in frames:
                    out[i] = pixel_array(paths[i], **options)

        if inp.is_series:
            return _pooled(inp, pool, parts, files)
        if pool is None:
            def whole():
                with pinned():
                    return pixel_array(paths[0], **options)

            return whole
        decoder = get_decoder(inp.syntax.uid)
        chunks = _split(inp.n_frames, parts)

        def run():
            ds = dcmread(paths[0])
            for _ in ds:  # convert every element now, not racily from the pool's threads
                pass
            out = np.empty(inp.shape, inp.dtype)

            def frames(job):
                slot, rng = job
                with pinned(slot):
                    for i in rng:
                        out[i] = decoder.as_array(ds, index=i, **options)[0]

            list(pool.map(frames, enumerate(chunks)))
            return out

        return run

    return make


def gdcm_whole_file(inp: Input) -> str:
    """Why GDCM must read `inp` as a whole file ("": it need not): its region reader
    does not decode RLE, and aborts the process on 12-bit DCT JPEG."""
    if inp.codec == "rle":
        return "GDCM decodes RLE only as a whole file (no frame range)"
    if jpeg12(inp):
        return "GDCM decodes 12-bit JPEG only as a whole file (its region reader aborts)"
    return ""


def jpeg12(inp: Input) -> bool:
    """12-bit DCT JPEG (JPEG Extended, Bits Stored > 8)."""
    return inp.codec == "jpeg" and inp.syntax.lossy and inp.pixels.bits_stored > 8


def gdcm_read(path: str, inp: Input, first: int, stop: int) -> np.ndarray:
    """Frames [first, stop) of one file: ``ImageRegionReader`` + ``BoxRegion`` +
    ``ReadIntoBuffer``; RLE and 12-bit JPEG (see ``gdcm_whole_file``) through
    ``ImageReader`` + ``GetBuffer()`` (the whole file).  YBR_FULL(_422), which GDCM
    returns as full-size YCbCr, converted to RGB (pydicom's ``convert_color_space``)."""
    import gdcm

    if gdcm_whole_file(inp):
        r = gdcm.ImageReader()
        r.SetFileName(path)
        if not r.Read():
            raise RuntimeError(f"gdcm.ImageReader.Read failed on {path}")
        buf = r.GetImage().GetBuffer().encode("utf-8", "surrogateescape")
    else:
        r = gdcm.ImageRegionReader()
        r.SetFileName(path)
        if not r.ReadInformation():
            raise RuntimeError(f"gdcm.ImageRegionReader.ReadInformation failed on {path}")
        box = gdcm.BoxRegion()
        box.SetDomain(0, inp.pixels.columns - 1, 0, inp.pixels.rows - 1, first, stop - 1)
        r.SetRegion(box)
        buf = bytearray(r.ComputeBufferLength())
        if not r.ReadIntoBuffer(buf):
            raise RuntimeError(f"gdcm.ImageRegionReader.ReadIntoBuffer failed on {path}")
    a = np.frombuffer(buf, inp.dtype).reshape(stop - first, *inp.frame_shape)
    if inp.pixels.is_ybr_full:
        from pydicom.pixels import convert_color_space

        return convert_color_space(a, "YBR_FULL", "RGB")
    return a


def gdcm_all(inp: Input, threads: int, pool: Executor | None) -> Fn:
    """python-gdcm, each decoding thread pinned to one CPU (see ``one_cpu``)."""
    paths = inp.paths
    if inp.is_series:
        def files(slot: int, frames: range, out: np.ndarray) -> None:
            with one_cpu(slot):
                for i in frames:
                    out[i] = gdcm_read(paths[i], inp, 0, 1)[0]

        return _pooled(inp, pool, threads, files)
    if pool is None:
        def run():
            with one_cpu():
                return gdcm_read(paths[0], inp, 0, inp.n_frames)

        return run
    if gdcm_whole_file(inp):
        raise Skip(gdcm_whole_file(inp))

    def chunk(slot: int, frames: range, out: np.ndarray) -> None:
        with one_cpu(slot):
            out[frames.start:frames.stop] = gdcm_read(paths[0], inp, frames.start, frames.stop)

    return _pooled(inp, pool, threads, chunk)


def dicomsdl_open(path: str) -> Fn:
    import dicomsdl

    def run():
        df = dicomsdl.open(path)
        header = (df.Rows, df.Columns, df.NumberOfFrames)
        df.close()
        return header

    return run


def dicomsdl_frame(inp: Input, k: int) -> Fn:
    import dicomsdl

    def run():
        df = dicomsdl.open(inp.paths[0])
        a = df.pixelData(k, storedvalue=True)  # stored values, no float rescale
        df.close()
        return a

    return run


def dicomsdl_all(inp: Input, threads: int, pool: Executor | None) -> Fn:
    """``dicomsdl.open(path)`` + ``copyFrameData(i, out[i])``; pooled: each chunk of frames
    opens its own file object."""
    import dicomsdl

    paths = inp.paths

    def chunk(slot: int, frames: range, out: np.ndarray) -> None:
        if inp.is_series:
            for i in frames:
                df = dicomsdl.open(paths[i])
                df.copyFrameData(0, out[i])
                df.close()
            return
        df = dicomsdl.open(paths[0])
        for i in frames:
            df.copyFrameData(i, out[i])
        df.close()

    return _pooled(inp, pool, threads, chunk)


# ---------------------------------------------------------------------------------------
# imagecodecs: per-frame decoders on codestreams taken beforehand
# ---------------------------------------------------------------------------------------


def imagecodecs_decoder(inp: Input, engine: str = "") -> Callable[[bytes, np.ndarray], None]:
    """decode(codestream, out): one frame into `out` with imagecodecs; `engine` "openjpeg":
    HTJ2K through OpenJPEG's HT decoder (the engine dicomframes uses) instead of OpenJPH."""
    import imagecodecs as ic

    p = inp.pixels
    signed = p.pixel_representation == 1
    if inp.codec == "rle":
        dt = inp.dtype.newbyteorder("<")
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
    if inp.codec in ("jpegls", "jpeg"):
        # JPEG: libjpeg-turbo 3 (8-bit, 12-bit and lossless; YCbCr out as RGB); on
        # ct_jpegll 1.8x as fast as ljpeg_decode, so used for lossless too
        unpack = ic.jpegls_decode if inp.codec == "jpegls" else ic.jpeg8_decode

        def decode(data, out):
            # unsigned samples come out; the DICOM value is their two's complement
            unpack(data, out=out.view(out.dtype.str.replace("i", "u")))
            if signed:
                sign_extend(out, p.bits_stored)

        return decode
    if inp.codec == "j2k" or engine == "openjpeg":
        return lambda data, out: ic.jpeg2k_decode(data, numthreads=1, out=out)
    return lambda data, out: ic.htj2k_decode(data, out=out)  # OpenJPH, single-threaded


def _extract_frames(inp: Input) -> list[bytes]:
    """Every frame's codestream, with ``pydicom.dcmread`` + ``generate_frames``."""
    need("pydicom")
    from pydicom import dcmread
    from pydicom.encaps import generate_frames

    frames: list[bytes] = []
    for path in inp.paths:
        ds = dcmread(path)
        frames.extend(generate_frames(ds.PixelData,
                                      number_of_frames=int(ds.get("NumberOfFrames") or 1)))
    if len(frames) != inp.n_frames:
        raise RuntimeError(f"pydicom found {len(frames)} frames, expected {inp.n_frames}")
    return frames


def imagecodecs_all(engine: str = "") -> Callable[[Input, int, Executor | None], Fn]:
    """imagecodecs on each frame's codestream, extracted beforehand (not timed)."""

    def make(inp: Input, threads: int, pool: Executor | None) -> Fn:
        decode = imagecodecs_decoder(inp, engine)
        frames = _extract_frames(inp)

        def chunk(slot: int, rng: range, out: np.ndarray) -> None:
            for i in rng:
                decode(frames[i], out[i])

        return _pooled(inp, pool, threads * 4, chunk)

    return make


def imagecodecs_engine(engine: str = "") -> Callable[[Input, int], Fn]:
    """imagecodecs on frame k's bytes into a preallocated array."""

    def make(inp: Input, k: int) -> Fn:
        decode = imagecodecs_decoder(inp, engine)
        data = encoded_frame(inp, k)
        out = np.empty(inp.frame_shape, inp.dtype)

        def run():
            decode(data, out)
            return out

        return run

    return make


# ---------------------------------------------------------------------------------------
# floors: frame k of native data with no DICOM at all
# ---------------------------------------------------------------------------------------


def floor(how: str) -> Callable[[Input, int], Fn]:
    """"memmap" (``np.memmap(...)[k]``, a view), "frombuffer" (``os.open`` + ``mmap`` +
    ``np.frombuffer``, a view without np.memmap's overhead) or "readinto" (``open`` +
    ``seek`` + ``readinto`` a fresh array)."""

    def make(inp: Input, k: int) -> Fn:
        if inp.pixel_offset is None or inp.is_series:
            raise Skip("needs one native file")
        path, dt, offset = inp.paths[0], inp.dtype.newbyteorder("<"), inp.pixel_offset
        start = offset + k * inp.frame_bytes
        count = inp.frame_bytes // dt.itemsize

        def memmap():
            return np.memmap(path, dtype=dt, mode="r", offset=offset, shape=inp.shape)[k]

        def frombuffer():
            fd = os.open(path, os.O_RDONLY)
            try:
                mapping = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
            finally:
                os.close(fd)
            return np.frombuffer(mapping, dt, count, start).reshape(inp.frame_shape)

        def readinto():
            a = np.empty(inp.frame_shape, dt)
            with open(path, "rb", buffering=0) as fp:
                fp.seek(start)
                fp.readinto(a)
            return a

        return {"memmap": memmap, "frombuffer": frombuffer, "readinto": readinto}[how]

    return make
