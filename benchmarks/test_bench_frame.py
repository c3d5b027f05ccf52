"""open + frame k (k = 250) of the 500-frame 512 x 512 file, returned as an ndarray.

* dicomframes: ``open(path)`` + ``f[k]`` (read-only zero-copy view of the mapping)
* dicomframes-copy / -out: the same frame as a private copy / into a preallocated buffer
* pydicom: ``pydicom.pixels.pixel_array(path, index=k)``
* dicomsdl: ``dicomsdl.open(path).pixelData(k, storedvalue=True)``
* floors: ``np.memmap(...)[k]``, ``mmap`` + ``np.frombuffer`` (views), ``readinto`` (copy)

Compare the ``min`` column.  Only correctness is asserted, never speed.
"""

from __future__ import annotations

import numpy as np
import pytest

from cases import FLOOR_CASES, FRAME_CASES, FRAME_REQUIRES


@pytest.fixture(scope="module")
def expected(big_file, frame_index):
    return np.array(big_file.memmap()[frame_index])


@pytest.mark.benchmark(group="open + frame 250 of 500 (512x512 u16)")
@pytest.mark.parametrize("lib", list(FRAME_CASES))
def test_frame(benchmark, lib, big_file, frame_index, expected):
    pytest.importorskip(FRAME_REQUIRES[lib])
    kw = {}
    if lib in FLOOR_CASES:
        kw = dict(offset=big_file.pixel_offset,
                  shape=(big_file.n_frames, big_file.rows, big_file.cols))
    fn = FRAME_CASES[lib](big_file.path, frame_index, **kw)
    out = np.asarray(benchmark(fn))
    assert np.array_equal(out.reshape(expected.shape), expected)
