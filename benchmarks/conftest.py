"""Fixtures of the pytest-benchmark suite (``make bench``): the inputs of
benchmarks/inputs.py (generated on first use, then cached under benchmarks/data/) and
their ground truths.  Benchmarks never assert on speed."""

from __future__ import annotations

import numpy as np
import pytest

from . import inputs as data


@pytest.fixture(scope="session")
def bench_input():
    """input(label) -> dicomframes.bench.Input, generated when missing; skips a label that
    cannot be made here (HTJ2K without imagecodecs' encoder)."""
    pytest.importorskip("pydicom")  # dicomframes.testing writes the inputs
    cache: dict = {}

    def get(label: str):
        if label not in cache:
            cache.update(data.inputs([label]))
        if label not in cache:
            pytest.skip(f"{label} not generated (HTJ2K needs imagecodecs' OpenJPH encoder)")
        return cache[label]

    return get


@pytest.fixture(scope="session")
def ground_truth():
    """truth(input) -> every frame, read by pydicom from its native twin; one kept at a
    time (they are 100-160 MB each)."""
    held: dict[str, np.ndarray] = {}

    def get(inp) -> np.ndarray:
        key = inp.truth or inp.label  # a lossy input: its own reference decode
        if key not in held:
            held.clear()
            held[key] = data.truth(inp)
        return held[key]

    return get
