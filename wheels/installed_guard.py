"""pytest plugin for `make wheel-test` (loaded with ``-p installed_guard``): the session stops
before collecting anything unless dicomframes comes from the virtual environment the wheel was
installed into (not from src/), and its codec extension loads; the header says which codec
libraries the process then has mapped."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest


def _mapped_codecs() -> list[str]:
    maps = Path("/proc/self/maps")
    if not maps.exists():
        return []
    return sorted({line.split()[-1] for line in maps.read_text().splitlines()
                   if "libopenjp2" in line or "libjpeg" in line})


def pytest_configure(config: pytest.Config) -> None:
    import dicomframes
    import dicomframes._codecs  # noqa: F401  (links OpenJPEG and libjpeg: fails if they are missing)

    where = os.path.realpath(dicomframes.__file__)
    if not where.startswith(os.path.realpath(sys.prefix) + os.sep):
        raise pytest.UsageError(f"dicomframes imported from {where}, not from the installed "
                                f"wheel in {sys.prefix}")


def pytest_report_header(config: pytest.Config) -> list[str]:
    import dicomframes

    lines = [f"dicomframes {dicomframes.__version__} installed at "
             f"{os.path.dirname(os.path.realpath(dicomframes.__file__))}"]
    lines += [f"codec library mapped: {lib}" for lib in _mapped_codecs()]
    return lines
