"""Typing: `mypy --strict` on a program over the public API (tests/typing/public_api.py),
`mypy` on the package with pyproject's [tool.mypy], and mypy.stubtest of the .pyi stubs
against the compiled modules. Skipped where mypy is not installed (it is in the `test`
extra)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy")

ROOT = Path(__file__).resolve().parent.parent
TYPING = Path(__file__).resolve().parent / "typing"
COMPILED = ["_core", "_scan", "_native", "_frames", "_codecs", "_rescale"]


def _mypy(*args: str, module: str = "mypy") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def test_public_api_program_passes_mypy_strict():
    run = _mypy("--strict", "--no-incremental", str(TYPING / "public_api.py"))
    assert run.returncode == 0, run.stdout + run.stderr


def test_strict_mypy_catches_misuse(tmp_path):
    # The check has teeth: the public API is typed, not Any.
    bad = tmp_path / "bad.py"
    bad.write_text("import dicomframes\n"
                   "f = dicomframes.open('x.dcm')\n"
                   "n: str = f.number_of_frames\n"
                   "dicomframes.tag_for(0x00100010)\n"
                   "dicomframes.show_config(as_dict=True).missing_method()\n")
    run = _mypy("--strict", "--no-incremental", str(bad))
    assert run.returncode == 1
    assert run.stdout.count("error:") == 3, run.stdout


def test_package_passes_mypy():
    run = _mypy()  # files and options from pyproject's [tool.mypy]
    assert run.returncode == 0, run.stdout + run.stderr


def test_stubs_match_compiled_modules():
    run = _mypy("--allowlist", str(TYPING / "stubtest_allowlist.txt"),
                *(f"dicomframes.{name}" for name in COMPILED), module="mypy.stubtest")
    assert run.returncode == 0, run.stdout + run.stderr


def test_public_api_program_runs(tmp_path):
    from dicom_bytes import EXPLICIT_LE, element, file_meta, pack, preamble, text

    path = tmp_path / "one.dcm"
    path.write_bytes(
        preamble() + file_meta(EXPLICIT_LE) + element(0x00100010, "PN", text("Doe^J"))
        + element(0x00280002, "US", pack("H", 1)) + element(0x00280004, "CS", text("MONOCHROME2"))
        + element(0x00280010, "US", pack("H", 2)) + element(0x00280011, "US", pack("H", 3))
        + element(0x00280100, "US", pack("H", 8)) + element(0x00280101, "US", pack("H", 8))
        + element(0x00280103, "US", pack("H", 0)) + element(0x7FE00010, "OB", bytes(range(6))))
    run = subprocess.run([sys.executable, str(TYPING / "public_api.py"), str(path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "(2, 3)" in run.stdout
    assert "dicomframes " in run.stdout and "openjpeg" in run.stdout
