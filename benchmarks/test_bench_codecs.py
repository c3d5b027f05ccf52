"""Codec benchmarks: RLE, JPEG-LS, JPEG 2000 and HTJ2K (and native for scale), single thread.

Inputs from make_codec_files.py (generated on first use, about a minute on 2 cores, then
cached under benchmarks/data/): a 200-frame 512 x 512 signed 16-bit CT and a 60-frame
480 x 640 RGB cine, each in five transfer syntaxes.

* ``test_all_frames``: path -> every frame in one array (``open`` + ``f.frames()`` for
  dicomframes; pydicom with each plugin, python-gdcm, dicomsdl and imagecodecs for the peers,
  see codec_cases.py).  Whole-file runs take seconds, so they use ``benchmark.pedantic`` with
  ``DCF_CODEC_ROUNDS`` rounds (default 1; set it to 3 or more for numbers worth comparing).
* ``test_one_frame``: path -> the middle frame, cold open included, and the engine baselines
  (the codec alone on that frame's codestream, into a preallocated array).

Only correctness is asserted, never speed: dicomframes' output must equal the ground truth
(the native file of the same content, read by pydicom); a peer whose output differs is
marked xfail, and so is one that raises (a peer's bug or gap, listed by codec_report.py as ✗
or ERR).  For one comparable table with
ratios and goals run ``python benchmarks/codec_report.py``.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import make_codec_files
from codec_cases import (
    ALL_CASES,
    ALL_REQUIRES,
    ALL_SYNTAXES,
    ONE_CASES,
    ONE_REQUIRES,
    ONE_SYNTAXES,
    NotApplicable,
    make_all,
    make_one,
)

ROUNDS = int(os.environ.get("DCF_CODEC_ROUNDS", "1"))
FILE_KEYS = [f"{kind}_{syntax}" for kind in make_codec_files.KINDS
             for syntax in make_codec_files.SYNTAXES]


@pytest.fixture(scope="session")
def codec_files() -> dict:
    pytest.importorskip("pydicom")  # writes the files
    return make_codec_files.codec_files()


@pytest.fixture(scope="session")
def truths(codec_files) -> dict:
    from pydicom.pixels import pixel_array

    return {kind: pixel_array(str(make_codec_files.file_path(kind, "raw")))
            for kind in make_codec_files.KINDS}


def _file(codec_files, key):
    if key not in codec_files:
        pytest.skip(f"{key} not generated (HTJ2K needs imagecodecs' OpenJPH encoder)")
    return codec_files[key]


def _ours(lib: str) -> bool:
    return lib.startswith("dicomframes") or lib.startswith("engine: dicomframes")


def _run(lib: str, measure):
    """measure() with a peer's failure turned into xfail (ours must not fail)."""
    if _ours(lib):
        return measure()
    try:
        return measure()
    except Exception as exc:  # noqa: BLE001 - any peer failure
        pytest.xfail(f"{lib} failed: {type(exc).__name__}: {str(exc).strip()[:200]}")


def _check(lib: str, out, expected: np.ndarray) -> None:
    out = np.asarray(out)
    ok = out.dtype == expected.dtype and out.size == expected.size and \
        np.array_equal(out.reshape(expected.shape), expected)
    if _ours(lib):
        assert ok, f"{lib}: output differs from the ground truth"
    elif not ok:
        pytest.xfail(f"{lib}: output differs from the ground truth (peer bug)")


def _params(syntaxes: dict) -> list:
    return [pytest.param(key, lib, id=f"{key}-{lib}") for key in FILE_KEYS for lib in syntaxes
            if key.split("_", 1)[1] in syntaxes[lib]]


@pytest.mark.parametrize("key,lib", _params(ALL_SYNTAXES))
def test_all_frames(benchmark, codec_files, truths, key, lib):
    pytest.importorskip(ALL_REQUIRES[lib])
    cf = _file(codec_files, key)
    try:
        fn = make_all(lib, cf)
    except NotApplicable as exc:
        pytest.skip(str(exc))
    benchmark.group = f"all frames: {key} ({cf.decoded_bytes / 1e6:.0f} MB decoded)"
    benchmark.extra_info["nbytes"] = cf.decoded_bytes
    out = _run(lib, lambda: benchmark.pedantic(fn, rounds=ROUNDS, iterations=1,
                                               warmup_rounds=0))
    _check(lib, out, truths[cf.kind.name])


@pytest.mark.parametrize("key,lib", _params(ONE_SYNTAXES))
def test_one_frame(benchmark, codec_files, truths, key, lib):
    pytest.importorskip(ONE_REQUIRES[lib])
    cf = _file(codec_files, key)
    k = cf.n_frames // 2
    try:
        fn = make_one(lib, cf, k)
    except NotApplicable as exc:
        pytest.skip(str(exc))
    benchmark.group = f"one frame (k={k}, open included): {key}"
    benchmark.extra_info["nbytes"] = cf.kind.frame_bytes
    out = _run(lib, lambda: benchmark(fn))
    _check(lib, out, truths[cf.kind.name][k])


def test_cases_cover_the_registry():
    """Every case has its requirement and syntax entries (keeps the tables in step)."""
    assert set(ALL_CASES) == set(ALL_REQUIRES) == set(ALL_SYNTAXES)
    assert set(ONE_CASES) == set(ONE_REQUIRES) == set(ONE_SYNTAXES)
