"""Parallel-throughput benchmarks, a few cases (``make bench``); the full comparison with
ratios and goals is ``python benchmarks/parallel_report.py``.

Every frame of a multi-frame codec file or of a 300-file series (generated on first use and
cached under benchmarks/data/, see make_codec_files.py and make_series.py), by dicomframes
with its own pool at 1 and 2 threads, and by peers from a 2-thread ThreadPoolExecutor
created outside the timed call (cases in parallel_cases.py / ``dicomframes.bench``).
Whole-input runs take seconds, so ``benchmark.pedantic`` runs ``DCF_PARALLEL_ROUNDS`` rounds
(default 1).  Only correctness is asserted: dicomframes must equal the ground truth (the
native data read by pydicom); a peer that differs or raises is xfail.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from parallel_cases import CASES, SORTED, TORCH, inputs, truth

from dicomframes import bench

ROUNDS = int(os.environ.get("DCF_PARALLEL_ROUNDS", "1"))

PARAMS = [
    ("ct_rle", "dicomframes", 1),
    ("ct_rle", "dicomframes", 2),
    ("ct_rle", "pydicom+pylibjpeg", 2),
    ("ct_rle", "imagecodecs", 2),
    ("ct_jls", "dicomframes", 2),
    ("ct_jls", "pydicom+pyjpegls", 2),
    ("series_htj2k", "dicomframes", 1),
    ("series_htj2k", "dicomframes", 2),
    ("series_htj2k", SORTED, 2),
    ("series_htj2k", "imagecodecs", 2),
    ("series_htj2k", TORCH, 2),
]


@pytest.fixture(scope="session")
def parallel_inputs() -> dict:
    pytest.importorskip("pydicom")  # writes the files
    return inputs(sorted({key for key, _, _ in PARAMS}))


@pytest.fixture(scope="session")
def truths() -> dict:
    return {}


def _truth(truths: dict, key: str) -> np.ndarray:
    if key not in truths:
        truths.clear()  # one at a time: they are 100-160 MB each
        truths[key] = truth(key)
    return truths[key]


@pytest.mark.parametrize("key,case,threads",
                         [pytest.param(*p, id=f"{p[0]}-{p[1]}-{p[2]}T") for p in PARAMS])
def test_all_frames_threads(benchmark, parallel_inputs, truths, key, case, threads):
    if key not in parallel_inputs:
        pytest.skip(f"{key} not generated (HTJ2K needs imagecodecs' OpenJPH encoder)")
    inp = parallel_inputs[key]
    ours = case.startswith("dicomframes")
    with ThreadPoolExecutor(threads) as pool:  # outside the timed call
        try:
            fn = CASES[case](inp.target, threads, pool if threads > 1 else None)
        except bench.Skip as exc:
            pytest.skip(f"{case}: {exc}")
        benchmark.group = (f"all frames, parallel: {key} "
                           f"({inp.target.decoded_bytes / 1e6:.0f} MB decoded)")
        benchmark.extra_info["nbytes"] = inp.target.decoded_bytes
        try:
            out = benchmark.pedantic(fn, rounds=ROUNDS, iterations=1, warmup_rounds=0)
        except Exception as exc:  # noqa: BLE001 - a peer's failure is xfail, ours fails
            if ours:
                raise
            pytest.xfail(f"{case} failed: {type(exc).__name__}: {str(exc).strip()[:200]}")
    mismatch = bench.compare(out, _truth(truths, inp.truth_key))
    if ours:
        assert mismatch is None, f"{case}: {mismatch}"
    elif mismatch:
        pytest.xfail(f"{case}: output differs from the ground truth ({mismatch})")
