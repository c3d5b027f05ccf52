"""The measured callables of the codec benchmarks, shared by test_bench_codecs.py and
codec_report.py.  Inputs come from make_codec_files.py (``CodecFile``).

Two groups:

* ``ALL_CASES``: open the file and decode every frame into one array of shape
  ``(frames, *frame_shape)`` (single thread).  Each factory takes a ``CodecFile`` and returns
  a zero-argument callable doing the whole job, path to array.
* ``ONE_CASES``: frame k (the middle one) from the path, cold open included, plus the
  "engine" baselines: the codec called as directly as possible on frame k's codestream
  (bytes taken once, beforehand, from ``f.encoded_frame(k)``) into a preallocated array.
  Each factory takes ``(CodecFile, k)``.

Library imports happen in the factories, never in the measured callables.  A factory raises
``ImportError`` when its library is missing and ``NotApplicable`` when the library does not
decode that transfer syntax.  Where a library has a thread knob it is set to one thread;
GDCM has none reachable from Python (its OpenJPEG codec uses one thread per CPU), so its
cases run with the process pinned to one CPU (``os.sched_setaffinity``) for the call.
Pieces shared with ``dicomframes bench`` (imagecodecs' per-frame decoders, the GDCM reader,
the pinning) come from ``dicomframes.bench``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from make_codec_files import CodecFile

from dicomframes import bench

Fn = Callable[[], np.ndarray]


class NotApplicable(Exception):
    """The library has no decoder for this transfer syntax (reported as '—')."""


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


def _pinned(fn: Fn) -> Fn:
    def run():
        with bench.one_cpu(-1):  # the last CPU
            return fn()

    return run


def _target(cf: CodecFile) -> bench.Target:
    """The ``dicomframes.bench`` view of the file (its syntax and pixel description)."""
    return bench.target([cf.path], label=cf.key)


def _pydicom_plugin(cf: CodecFile, plugin: str) -> None:
    """Raise NotApplicable unless pydicom has `plugin` installed for cf's syntax."""
    from pydicom.pixels.decoders.base import get_decoder

    try:
        decoder = get_decoder(cf.uid)
    except NotImplementedError:
        raise NotApplicable(f"pydicom has no decoder for {cf.ts_name}") from None
    if plugin not in decoder.available_plugins:
        raise NotApplicable(f"no pydicom plugin {plugin!r} for {cf.ts_name}")


def _encoded(cf: CodecFile, k: int) -> bytes:
    import dicomframes

    with dicomframes.open(str(cf.path)) as f:
        return bytes(f.encoded_frame(k))


def _imagecodecs_frame_decoder(cf: CodecFile, engine: str = "") -> Callable[[bytes,
                                                                               np.ndarray], None]:
    """decode(codestream, out): imagecodecs on one frame into `out` (frame_shape, dtype);
    ``dicomframes.bench.imagecodecs_decoder``, the per-frame decoders of ``dicomframes
    bench``."""
    import imagecodecs  # noqa: F401  (missing: ImportError, reported as not installed)

    try:
        return bench.imagecodecs_decoder(_target(cf), engine)
    except bench.Skip as exc:
        raise NotApplicable(str(exc)) from None


# ---------------------------------------------------------------------------------------
# all frames, path -> (frames, *frame_shape)
# ---------------------------------------------------------------------------------------


def all_dicomframes(cf: CodecFile) -> Fn:
    """``dicomframes.open(path)`` + ``f.frames()``."""
    import dicomframes

    p = str(cf.path)

    def run():
        with dicomframes.open(p) as f:
            return f.frames()

    return run


def _all_pydicom(cf: CodecFile, plugin: str) -> Fn:
    from pydicom.pixels import pixel_array

    p = str(cf.path)
    if cf.syntax == "raw":
        if plugin != "pydicom":
            raise NotApplicable("native data: no plugin")
        return lambda: pixel_array(p)
    _pydicom_plugin(cf, plugin)
    fn = lambda: pixel_array(p, decoding_plugin=plugin)  # noqa: E731
    return _pinned(fn) if plugin == "gdcm" else fn


def all_gdcm(cf: CodecFile) -> Fn:
    """python-gdcm: ``ImageRegionReader`` + ``BoxRegion`` over all frames +
    ``ReadIntoBuffer(bytearray)``; RLE through ``ImageReader`` + ``GetBuffer()`` (the region
    reader does not decode RLE): ``dicomframes.bench.gdcm_read``.  Pinned to one CPU."""
    import gdcm  # noqa: F401  (missing: ImportError, reported as not installed)

    p = str(cf.path)
    t = _target(cf)
    return _pinned(lambda: bench.gdcm_read(p, t, 0, t.n_frames))


def all_dicomsdl(cf: CodecFile) -> Fn:
    """dicomsdl: ``open(path)`` + ``copyFrameData(i, out[i])`` into a preallocated array."""
    import dicomsdl

    p = str(cf.path)
    shape = (cf.n_frames, *cf.frame_shape)

    def run():
        df = dicomsdl.open(p)
        out = np.empty(shape, cf.dtype)
        for i in range(shape[0]):
            df.copyFrameData(i, out[i])
        df.close()
        return out

    return run


def _all_imagecodecs(cf: CodecFile, engine: str = "") -> Fn:
    """``pydicom.dcmread(path)`` + ``pydicom.encaps.generate_frames`` + imagecodecs on each
    frame into a preallocated array."""
    if cf.syntax == "raw":
        raise NotApplicable("native data")
    if engine == "openjpeg" and cf.syntax != "htj2k":
        raise NotApplicable("only for HTJ2K")
    import pydicom
    from pydicom.encaps import generate_frames

    decode = _imagecodecs_frame_decoder(cf, engine)
    p = str(cf.path)
    n = cf.n_frames
    shape = (n, *cf.frame_shape)

    def run():
        ds = pydicom.dcmread(p)
        out = np.empty(shape, cf.dtype)
        for i, data in enumerate(generate_frames(ds.PixelData, number_of_frames=n)):
            decode(data, out[i])
        return out

    return run


ALL_CASES: dict[str, Callable[[CodecFile], Fn]] = {
    "dicomframes": all_dicomframes,
    "pydicom": lambda cf: _all_pydicom(cf, "pydicom"),
    "pydicom+pylibjpeg": lambda cf: _all_pydicom(cf, "pylibjpeg"),
    "pydicom+pyjpegls": lambda cf: _all_pydicom(cf, "pyjpegls"),
    "pydicom+gdcm": lambda cf: _all_pydicom(cf, "gdcm"),
    "gdcm": all_gdcm,
    "dicomsdl": all_dicomsdl,
    "imagecodecs": _all_imagecodecs,
    "imagecodecs(openjpeg-ht)": lambda cf: _all_imagecodecs(cf, "openjpeg"),
}

# import name of what each case needs (pytest.importorskip); pydicom plugins are checked
# by the factory itself
ALL_REQUIRES = {
    "dicomframes": "dicomframes",
    "pydicom": "pydicom",
    "pydicom+pylibjpeg": "pylibjpeg",
    "pydicom+pyjpegls": "jpeg_ls",
    "pydicom+gdcm": "gdcm",
    "gdcm": "gdcm",
    "dicomsdl": "dicomsdl",
    "imagecodecs": "imagecodecs",
    "imagecodecs(openjpeg-ht)": "imagecodecs",
}

# which syntaxes each case can decode (the factory still checks installed plugins)
ALL_SYNTAXES = {
    "dicomframes": {"raw", "rle", "jls", "j2k", "htj2k"},
    "pydicom": {"raw", "rle"},
    "pydicom+pylibjpeg": {"rle", "jls", "j2k", "htj2k"},
    "pydicom+pyjpegls": {"jls"},
    "pydicom+gdcm": {"jls", "j2k"},
    "gdcm": {"raw", "rle", "jls", "j2k", "htj2k"},
    "dicomsdl": {"raw", "rle", "jls", "j2k", "htj2k"},
    "imagecodecs": {"rle", "jls", "j2k", "htj2k"},
    "imagecodecs(openjpeg-ht)": {"htj2k"},
}

PEER_NOTES = {
    "dicomframes": "`dicomframes.open(path)` + `f.frames()`",
    "pydicom": "`pydicom.pixels.pixel_array(path)`: numpy for native data, "
               "`decoding_plugin=\"pydicom\"` (pure Python) for RLE",
    "pydicom+pylibjpeg": "`pixel_array(path, decoding_plugin=\"pylibjpeg\")`: pylibjpeg-rle, "
                         "pylibjpeg-libjpeg (JPEG-LS), pylibjpeg-openjpeg (J2K, HTJ2K)",
    "pydicom+pyjpegls": "`pixel_array(path, decoding_plugin=\"pyjpegls\")` (CharLS)",
    "pydicom+gdcm": "`pixel_array(path, decoding_plugin=\"gdcm\")`, pinned to one CPU",
    "gdcm": "python-gdcm `ImageRegionReader` + `BoxRegion` (all frames) + "
            "`ReadIntoBuffer(bytearray)`; RLE via `ImageReader` + `GetBuffer()`; pinned to one "
            "CPU (GDCM's OpenJPEG uses a thread per CPU, no knob)",
    "dicomsdl": "`dicomsdl.open(path)` + `copyFrameData(i, out[i])`",
    "imagecodecs": "`pydicom.dcmread(path)` + `generate_frames` + imagecodecs `dicomrle_decode` "
                   "/ `jpegls_decode` (CharLS) / `jpeg2k_decode(numthreads=1)` (OpenJPEG) / "
                   "`htj2k_decode` (OpenJPH) into a preallocated array",
    "imagecodecs(openjpeg-ht)": "as imagecodecs, HTJ2K through `jpeg2k_decode(numthreads=1)` "
                                "(OpenJPEG's HT decoder, the engine dicomframes uses)",
}


def make_all(name: str, cf: CodecFile) -> Fn:
    if cf.syntax not in ALL_SYNTAXES[name]:
        raise NotApplicable(f"{name} does not decode {cf.ts_name}")
    return ALL_CASES[name](cf)


# ---------------------------------------------------------------------------------------
# one frame: path -> frame k, cold open included; and the engine baselines
# ---------------------------------------------------------------------------------------


def one_dicomframes(cf: CodecFile, k: int) -> Fn:
    """``dicomframes.open(path)`` + ``f[k]``."""
    import dicomframes

    p = str(cf.path)

    def run():
        with dicomframes.open(p) as f:
            return f[k]

    return run


def one_dicomframes_opened(cf: CodecFile, k: int) -> Fn:
    """``f[k]`` on a file opened once beforehand: the decode path without the cold open."""
    import dicomframes

    f = dicomframes.open(str(cf.path))

    def run():
        return f[k]

    return run


def one_engine(cf: CodecFile, k: int) -> Fn:
    """Our C decode on frame k's bytes into a preallocated array:
    ``dicomframes._codecs.decode_rle/decode_jls/decode_j2k`` (GIL released, no file)."""
    from dicomframes import _codecs

    if cf.syntax == "raw":
        raise NotApplicable("native data")
    decode = {"rle": _codecs.decode_rle, "jls": _codecs.decode_jls,
              "j2k": _codecs.decode_j2k, "htj2k": _codecs.decode_j2k}[cf.syntax]
    kind = cf.kind
    data = _encoded(cf, k)
    out = np.empty(cf.frame_shape, cf.dtype)
    args = (kind.rows, kind.columns, kind.samples, kind.bits_allocated, kind.bits_stored,
            kind.pixel_representation, cf.photometric)

    def run():
        decode(data, out, *args)
        return out

    return run


def one_imagecodecs_engine(cf: CodecFile, k: int, engine: str = "") -> Fn:
    """imagecodecs on frame k's bytes into a preallocated array (its own CharLS/OpenJPEG/
    OpenJPH builds)."""
    if cf.syntax == "raw":
        raise NotApplicable("native data")
    if engine == "openjpeg" and cf.syntax != "htj2k":
        raise NotApplicable("only for HTJ2K")
    decode = _imagecodecs_frame_decoder(cf, engine)
    data = _encoded(cf, k)
    out = np.empty(cf.frame_shape, cf.dtype)

    def run():
        decode(data, out)
        return out

    return run


def _one_pydicom(cf: CodecFile, k: int, plugin: str) -> Fn:
    from pydicom.pixels import pixel_array

    if cf.syntax == "raw":
        raise NotApplicable("native data")
    _pydicom_plugin(cf, plugin)
    p = str(cf.path)
    fn = lambda: pixel_array(p, index=k, decoding_plugin=plugin)  # noqa: E731
    return _pinned(fn) if plugin == "gdcm" else fn


ONE_CASES: dict[str, Callable[[CodecFile, int], Fn]] = {
    "dicomframes": one_dicomframes,
    "dicomframes (already open)": one_dicomframes_opened,
    "engine: dicomframes._codecs": one_engine,
    "engine: imagecodecs": one_imagecodecs_engine,
    "engine: imagecodecs(openjpeg-ht)": lambda cf, k: one_imagecodecs_engine(cf, k, "openjpeg"),
    "pydicom": lambda cf, k: _one_pydicom(cf, k, "pydicom"),
    "pydicom+pylibjpeg": lambda cf, k: _one_pydicom(cf, k, "pylibjpeg"),
    "pydicom+pyjpegls": lambda cf, k: _one_pydicom(cf, k, "pyjpegls"),
    "pydicom+gdcm": lambda cf, k: _one_pydicom(cf, k, "gdcm"),
}

ONE_REQUIRES = {
    "dicomframes": "dicomframes",
    "dicomframes (already open)": "dicomframes",
    "engine: dicomframes._codecs": "dicomframes",
    "engine: imagecodecs": "imagecodecs",
    "engine: imagecodecs(openjpeg-ht)": "imagecodecs",
    "pydicom": "pydicom",
    "pydicom+pylibjpeg": "pylibjpeg",
    "pydicom+pyjpegls": "jpeg_ls",
    "pydicom+gdcm": "gdcm",
}

ONE_SYNTAXES = {
    "dicomframes": {"rle", "jls", "j2k", "htj2k"},
    "dicomframes (already open)": {"rle", "jls", "j2k", "htj2k"},
    "engine: dicomframes._codecs": {"rle", "jls", "j2k", "htj2k"},
    "engine: imagecodecs": {"rle", "jls", "j2k", "htj2k"},
    "engine: imagecodecs(openjpeg-ht)": {"htj2k"},
    "pydicom": {"rle"},
    "pydicom+pylibjpeg": {"rle", "jls", "j2k", "htj2k"},
    "pydicom+pyjpegls": {"jls"},
    "pydicom+gdcm": {"jls", "j2k"},
}


def make_one(name: str, cf: CodecFile, k: int) -> Fn:
    if cf.syntax not in ONE_SYNTAXES[name]:
        raise NotApplicable(f"{name} does not decode {cf.ts_name}")
    return ONE_CASES[name](cf, k)
