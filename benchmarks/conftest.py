"""Fixtures for the pytest-benchmark suite (``make bench``).

* ``ct_small``: path of pydicom's bundled CT_small.dcm.
* ``big_file``: a 500-frame 512 x 512 16-bit native file (~262 MB), generated once (about
  2 s) and cached under benchmarks/data/ (git-ignored); see benchdata.py.

Benchmarks never assert on speed; a peer library that is not installed is skipped.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchdata  # noqa: E402


@pytest.fixture(scope="session")
def ct_small() -> Path:
    pytest.importorskip("pydicom")
    try:
        return benchdata.ct_small_path()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def big_file() -> benchdata.BigFile:
    pytest.importorskip("pydicom")  # writes the header
    return benchdata.big_file()


@pytest.fixture(scope="session")
def frame_index() -> int:
    return benchdata.FRAME_INDEX
