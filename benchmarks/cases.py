"""The measured callables, shared by the pytest-benchmark tests and report.py.

Every factory takes the input path (and frame index) and returns a zero-argument callable
doing exactly one measured operation.  Library imports happen in the factory, not in the
callable, so import time is never measured.  A factory raises ImportError when its library
is not installed (the tests turn that into a skip).
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

Fn = Callable[[], object]


# ---------------------------------------------------------------------------------------
# open + header scan: read rows, columns, number of frames, then close
# ---------------------------------------------------------------------------------------


def open_dicomframes(path: Path) -> Fn:
    import dicomframes

    p = str(path)

    def run():
        with dicomframes.open(p) as f:
            return f.rows, f.columns, f.number_of_frames

    return run


def open_pydicom(path: Path) -> Fn:
    import pydicom

    p = str(path)

    def run():
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        return ds.Rows, ds.Columns, ds.get("NumberOfFrames", 1)

    return run


def open_dicomsdl(path: Path) -> Fn:
    import dicomsdl

    p = str(path)

    def run():
        df = dicomsdl.open(p)
        r = (df.Rows, df.Columns, df.NumberOfFrames)
        df.close()
        return r

    return run


OPEN_CASES: dict[str, Callable[[Path], Fn]] = {
    "dicomframes": open_dicomframes,
    "pydicom": open_pydicom,
    "dicomsdl": open_dicomsdl,
}

# import name of the library each case needs (for pytest.importorskip)
OPEN_REQUIRES = {"dicomframes": "dicomframes", "pydicom": "pydicom", "dicomsdl": "dicomsdl"}


# ---------------------------------------------------------------------------------------
# open + frame k of a multi-frame file -> ndarray (rows, cols)
# ---------------------------------------------------------------------------------------


def frame_dicomframes(path: Path, k: int, **_) -> Fn:
    """open + f[k]: a read-only zero-copy view for native little-endian data."""
    import dicomframes

    p = str(path)

    def run():
        with dicomframes.open(p) as f:
            return f[k]

    return run


def frame_dicomframes_copy(path: Path, k: int, **_) -> Fn:
    """open + f.frame(k, copy=True): a private, writeable copy."""
    import dicomframes

    p = str(path)

    def run():
        with dicomframes.open(p) as f:
            return f.frame(k, copy=True)

    return run


def frame_dicomframes_out(path: Path, k: int, **_) -> Fn:
    """open + frame k decoded into a caller-provided buffer (frames(..., out=))."""
    import dicomframes

    p = str(path)
    with dicomframes.open(p) as f:
        buf = np.empty((1, *f.frame_shape), f.dtype)

    def run():
        with dicomframes.open(p) as f:
            return f.frames([k], out=buf)

    return run


def frame_dicomframes_raw(path: Path, k: int, **_) -> Fn:
    """open(correct_unused_bits=False) + f[k]: a view without the read that checks
    the bits above Bits Stored (pydicom's option of the same name)."""
    import dicomframes

    p = str(path)

    def run():
        with dicomframes.open(p, correct_unused_bits=False) as f:
            return f[k]

    return run


def frame_dicomframes_opened(path: Path, k: int, **_) -> Fn:
    """f[k] on a file opened once beforehand (a data loader's pattern): the
    frame is checked for canonical unused bits, then returned as a view."""
    import dicomframes

    f = dicomframes.open(str(path))

    def run():
        return f[k]

    return run


def frame_dicomframes_opened_cycle(path: Path, k: int, **_) -> Fn:
    """Like the above, but a different frame on every call (k, k+1, ... mod n), so
    that no call finds its frame in the CPU caches."""
    import dicomframes

    f = dicomframes.open(str(path))
    n = len(f)
    state = [k]

    def run():
        state[0] = (state[0] + 7) % n
        return f[state[0]]

    return run


def frame_pydicom(path: Path, k: int, **_) -> Fn:
    from pydicom.pixels import pixel_array

    p = str(path)

    def run():
        return pixel_array(p, index=k)

    return run


def frame_dicomsdl(path: Path, k: int, **_) -> Fn:
    import dicomsdl

    p = str(path)

    def run():
        df = dicomsdl.open(p)
        a = df.pixelData(k, storedvalue=True)  # stored values, no float rescale
        df.close()
        return a

    return run


def frame_np_memmap(path: Path, k: int, *, offset: int, shape: tuple, dtype: str = "<u2") -> Fn:
    """Floor (view): np.memmap the pixel data, index frame k."""
    p = str(path)

    def run():
        return np.memmap(p, dtype=dtype, mode="r", offset=offset, shape=shape)[k]

    return run


def frame_mmap_frombuffer(path: Path, k: int, *, offset: int, shape: tuple,
                          dtype: str = "<u2") -> Fn:
    """Floor (view): os.open + mmap.mmap + np.frombuffer of frame k (no np.memmap overhead)."""
    p = str(path)
    dt = np.dtype(dtype)
    n = shape[1] * shape[2]
    off = offset + k * n * dt.itemsize

    def run():
        fd = os.open(p, os.O_RDONLY)
        try:
            mm = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        finally:
            os.close(fd)
        return np.frombuffer(mm, dtype=dt, count=n, offset=off).reshape(shape[1:])

    return run


def frame_readinto(path: Path, k: int, *, offset: int, shape: tuple, dtype: str = "<u2") -> Fn:
    """Floor (copy): open + seek + readinto a fresh array."""
    p = str(path)
    dt = np.dtype(dtype)
    nbytes = shape[1] * shape[2] * dt.itemsize

    def run():
        a = np.empty(shape[1:], dt)
        with open(p, "rb", buffering=0) as fp:
            fp.seek(offset + k * nbytes)
            fp.readinto(a)
        return a

    return run


FRAME_CASES: dict[str, Callable[..., Fn]] = {
    "dicomframes": frame_dicomframes,
    "dicomframes-copy": frame_dicomframes_copy,
    "dicomframes-out": frame_dicomframes_out,
    "dicomframes-raw-bits": frame_dicomframes_raw,
    "dicomframes-opened": frame_dicomframes_opened,
    "dicomframes-opened-cycling": frame_dicomframes_opened_cycle,
    "pydicom": frame_pydicom,
    "dicomsdl": frame_dicomsdl,
    "numpy-memmap": frame_np_memmap,
    "mmap-frombuffer": frame_mmap_frombuffer,
    "readinto": frame_readinto,
}

FRAME_REQUIRES = {
    "dicomframes": "dicomframes",
    "dicomframes-copy": "dicomframes",
    "dicomframes-out": "dicomframes",
    "dicomframes-raw-bits": "dicomframes",
    "dicomframes-opened": "dicomframes",
    "dicomframes-opened-cycling": "dicomframes",
    "pydicom": "pydicom",
    "dicomsdl": "dicomsdl",
    "numpy-memmap": "numpy",
    "mmap-frombuffer": "numpy",
    "readinto": "numpy",
}

# the floors need the pixel data location, which they get as keyword arguments
FLOOR_CASES = {"numpy-memmap", "mmap-frombuffer", "readinto"}
