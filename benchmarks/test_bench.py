"""pytest-benchmark over peers x inputs: the cases of ``dicomframes.bench.PEERS`` on the
inputs of benchmarks/inputs.py.  Compare the ``min`` column (this VM stalls short calls at
random, which inflates means and medians but not minimums); for one table with ratios and
goals run ``python -m benchmarks.report open|codecs|parallel``.

Only correctness is asserted, never speed: dicomframes' output must equal the ground truth
(read by pydicom); a peer whose output differs, or that raises, is xfail (a peer's bug or
gap, which the reports list as ✗ or ERR); a case that cannot run here is skipped with the
reason.  Whole-input runs take seconds: they run ``DCF_BENCH_ROUNDS`` rounds (default 1).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from dicomframes.bench import PEERS, Skip, case, compare

from . import inputs as data

ROUNDS = int(os.environ.get("DCF_BENCH_ROUNDS", "1"))
CODEC_FILES = [f"{kind}_{c}" for kind in ("ct", "us") for c in data.LOSSLESS] + data.JPEG_LABELS
ALL_PEERS = [n for n, p in PEERS.items() if p.all is not None]
# a few thread-pool cases (all of them: python -m benchmarks.report parallel)
PARALLEL = [("ct_rle", "dicomframes"), ("ct_rle", "pydicom+pylibjpeg"),
            ("ct_rle", "imagecodecs"), ("ct_jpegls", "dicomframes"),
            ("ct_jpegls", "pydicom+pyjpegls"), ("series_htj2k", "dicomframes"),
            ("series_htj2k", "dicomframes sort=instance"), ("series_htj2k", "imagecodecs"),
            ("series_htj2k", "torch DataLoader")]


def ours(name: str) -> bool:
    return name.startswith(("dicomframes", "engine: dicomframes", "numpy", "mmap", "readinto"))


def run_case(benchmark, name: str, make, expected, rounds: int | None = None) -> None:
    """Make the case (Skip: skipped), benchmark it, check its output; a peer's failure or
    wrong output is xfail, ours fails."""
    try:
        fn = make()
    except Skip as exc:
        pytest.skip(f"{name}: {exc}")
    try:
        if rounds is None:  # short calls: check the first (benchmark returns an extra one)
            out = fn()
            benchmark(fn)
        else:
            out = benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=0)
    except Exception as exc:  # a peer's failure is a result
        if ours(name):
            raise
        pytest.xfail(f"{name} failed: {type(exc).__name__}: {str(exc).strip()[:200]}")
    mismatch = expected(out)
    if ours(name):
        assert mismatch is None, f"{name}: {mismatch}"
    elif mismatch:
        pytest.xfail(f"{name}: output differs from the ground truth ({mismatch})")


@pytest.mark.parametrize("label", ["CT_small", "ct_500"])
@pytest.mark.parametrize("name", data.OPEN_PEERS)
def test_open(benchmark, bench_input, label, name):
    """open + header scan: rows, columns, number of frames."""
    inp = bench_input(label)
    benchmark.group = f"open {label}"
    want = (inp.pixels.rows, inp.pixels.columns, inp.n_frames)
    run_case(benchmark, name, lambda: case(name, "open", inp),
             lambda out: None if tuple(int(x or 1) for x in out) == want else f"{out}")


@pytest.mark.parametrize("label,name",
                         [("ct_500", n) for n in data.NATIVE_FRAME_PEERS]
                         + [(f, n) for f in CODEC_FILES if not f.endswith("native")
                            for n in data.CODEC_FRAME_PEERS])
def test_frame(benchmark, bench_input, ground_truth, label, name):
    """open + frame k (250 of ct_500, the middle one of a codec file), cold open included;
    or the engine alone on that frame's codestream."""
    inp = bench_input(label)
    k = data.FRAME_INDEX if label == "ct_500" else inp.n_frames // 2
    if label == "ct_500":
        from pydicom.pixels import pixel_array

        truth = pixel_array(inp.paths[0], index=k)
    else:
        truth = ground_truth(inp)[k]
    benchmark.group = f"frame {k} of {label}"
    run_case(benchmark, name, lambda: case(name, "frame", inp, k=k),
             lambda out: compare(out, truth, inp.tolerance))


@pytest.mark.parametrize("label,name,threads",
                         [(f, n, 1) for f in CODEC_FILES for n in ALL_PEERS]
                         + [(f, n, 2) for f, n in PARALLEL])
def test_all_frames(benchmark, bench_input, ground_truth, label, name, threads):
    """Every frame into one array, at 1 thread or from a 2-thread pool (dicomframes: its
    own pool)."""
    inp = bench_input(label)
    truth = ground_truth(inp)
    benchmark.group = f"all frames of {label} ({inp.decoded_bytes / 1e6:.0f} MB), {threads}T"
    benchmark.extra_info["nbytes"] = inp.decoded_bytes
    with ThreadPoolExecutor(threads) as pool:  # made outside the timed call
        run_case(benchmark, name,
                 lambda: case(name, "all", inp, threads=threads,
                              pool=pool if threads > 1 else None),
                 lambda out: compare(out, truth, inp.tolerance), rounds=ROUNDS)


def test_every_peer_has_a_job_and_its_codecs_are_keys():
    """The registry stays consistent: each peer does some job, on codec keys of uids."""
    from dicomframes.uids import CODECS

    for peer in PEERS.values():
        assert peer.open or peer.frame or peer.all, peer.name
        assert peer.codecs <= set(CODECS), peer.name
    assert np.all([n in PEERS for n in data.OPEN_PEERS + data.NATIVE_FRAME_PEERS
                   + data.CODEC_FRAME_PEERS])
