"""``dicomframes bench``: runs on tiny files and prints the comparison; a peer that is not
installed is skipped with a note, never an error.  Timings and ratios are not asserted.

The files are written by ``dicomframes.bench.default_files`` (``dicomframes.testing`` with
whichever encoders are installed) at 4 frames of 32 x 32, and every command runs once
(``--runs 1``).
"""

from __future__ import annotations

import importlib.util
import io
import sys

import numpy as np
import pytest

import dicomframes
from dicomframes import bench, cli

pytest.importorskip("pydicom")


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory) -> list[str]:
    paths, _ = bench.default_files(tmp_path_factory.mktemp("bench"), frames=4, size=32)
    return paths


def run_cli(capsys, *args: str) -> tuple[int, str]:
    status = cli.main(["bench", "--runs", "1", "--threads", "2", "--no-progress", *args])
    return status, capsys.readouterr().out


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def test_default_files_decode_to_the_phantom(tiny_files):
    """The generated set is lossless: every file decodes to the native one's frames."""
    with dicomframes.open(tiny_files[0]) as f:
        expected = f.frames(threads=1)
    assert expected.shape == (4, 32, 32) and expected.dtype == np.int16
    for path in tiny_files[1:]:
        with dicomframes.open(path) as f:
            assert np.array_equal(f.frames(threads=1), expected), path


def test_bench_lists_dicomframes_and_the_installed_peers(capsys, tiny_files):
    status, out = run_cli(capsys, *tiny_files)
    assert status == 0
    assert "| target | decoder | 1 thread | 2 threads |" in out
    for path in tiny_files:
        name = path.rsplit("/", 1)[-1]
        assert f"| {name} | dicomframes | " in out
        row = next(line for line in out.splitlines() if line.startswith(f"| {name} | dicomframes"))
        assert "ERR" not in row and "✗" not in row
    rle = "ct_rle.dcm"  # files are named by codec key (uids.CODECS)
    assert f"| {rle} | pydicom | " in out  # pydicom's own RLE decoder is always there
    for peer, module in (("pydicom+pylibjpeg", "rle"), ("dicomsdl", "dicomsdl"),
                         ("imagecodecs", "imagecodecs")):
        if installed(module):
            assert f"| {rle} | {peer} | " in out
    assert "machine:" in out and "dicomframes " + dicomframes.__version__ in out


def test_a_missing_peer_is_skipped_not_an_error(capsys, monkeypatch, tiny_files):
    monkeypatch.setitem(sys.modules, "dicomsdl", None)  # import dicomsdl now fails
    monkeypatch.setitem(sys.modules, "imagecodecs", None)
    status, out = run_cli(capsys, "--peers", "dicomsdl,imagecodecs", *tiny_files[:2])
    assert status == 0
    assert "dicomsdl skipped (not installed)" in out
    assert "imagecodecs skipped (not installed)" in out
    assert "| dicomsdl |" not in out and "failed:" not in out


def test_single_frame_files_are_benchmarked_as_one_series(capsys, tmp_path, tiny_files):
    with dicomframes.open(tiny_files[0]) as f:
        frames = f.frames(threads=1)
    import pydicom

    for k in range(3):
        ds = pydicom.dcmread(tiny_files[0])
        ds.NumberOfFrames = 1
        ds.InstanceNumber = k + 1
        ds.PixelData = frames[k].astype("<i2").tobytes()
        ds.save_as(tmp_path / f"slice{k}.dcm", enforce_file_format=True)
    paths = sorted(str(p) for p in tmp_path.glob("slice*.dcm"))
    status, out = run_cli(capsys, "--peers", "pydicom", *paths)
    assert status == 0
    label = f"3 files in {tmp_path}"
    assert f"| {label} | dicomframes | " in out and f"| {label} | pydicom | " in out


def test_a_file_that_cannot_be_read_is_reported(capsys, tmp_path, tiny_files):
    bad = tmp_path / "not_dicom.dcm"
    bad.write_bytes(b"not a DICOM file at all")
    status, out = run_cli(capsys, "--peers", "pydicom", str(bad), tiny_files[0])
    assert status == 0
    assert "not_dicom.dcm" in out and "(not benchmarked)" in out


def test_no_files_runs_on_the_default_set(capsys):
    status, out = run_cli(capsys, "--peers", "pydicom")
    assert status == 0
    assert "No FILES given" in out and "| ct_native.dcm | dicomframes | " in out


def test_progress_bar_draws_and_clears():
    stream = io.StringIO()
    bar = bench.Progress(4, stream=stream, enabled=True, after=0.0)
    for _ in range(4):
        bar.step("case")
    bar.close()
    text = stream.getvalue()
    assert "[" + "#" * 30 + "] 4/4" in text and text.endswith("\r")
    quiet = io.StringIO()
    bar = bench.Progress(4, stream=quiet)  # not a terminal: nothing drawn
    bar.step("case")
    bar.close()
    assert quiet.getvalue() == ""


def test_the_timer_interleaves_checks_the_first_output_and_keeps_failures():
    calls: list[str] = []

    def counting(name, value):
        def run():
            calls.append(name)
            return np.full(2, value if len(calls) <= 2 else -1)  # later outputs differ
        return run

    def failing():
        raise ValueError("broken peer")

    def skipped():
        raise bench.Skip("not installed")

    fns, timings = bench.timing.prepare({
        "a": lambda: counting("a", 1), "b": lambda: counting("b", 2),
        "bad": lambda: failing, "gone": skipped})
    assert set(fns) == {"a", "b", "bad"} and timings["gone"].skipped == "not installed"
    bench.interleaved(fns, timings, runs=3,
                      check=lambda key, out: bench.compare(out, np.full(2, 1)))
    assert calls == ["a", "b"] * 3  # round after round, each case in turn
    assert len(timings["a"].wall) == len(timings["a"].cpu) == 3
    assert timings["a"].mismatch is None and timings["b"].mismatch == "2 values differ"
    assert timings["b"].best is None  # a wrong output has no time worth comparing
    assert timings["bad"].error == "ValueError: broken peer" and not timings["bad"].wall


def test_every_bench_peer_decodes_the_default_files(tiny_files):
    """Each installed peer's one-thread all-frames case equals dicomframes' frames."""
    with dicomframes.open(tiny_files[0]) as f:
        expected = f.frames(threads=1)
    for path in tiny_files:
        inp = bench.make_input([path])
        for name in bench.peers.BENCH_PEERS:
            try:
                fn = bench.case(name, "all", inp)
            except bench.Skip:
                continue
            if name == "dicomsdl" and inp.codec == "htj2k":
                continue  # dicomsdl has no HTJ2K codec
            assert bench.compare(fn(), expected) is None, (name, path)


def test_compare_accepts_lossy_differences_within_the_tolerance():
    truth = np.array([10, 20, 30], np.uint8)
    assert bench.compare(np.array([11, 18, 30], np.uint8), truth, 2) is None
    assert bench.compare(np.array([11, 17, 30], np.uint8), truth, 2) == "1 values differ by > 2"
    assert bench.compare(np.array([11, 20, 30], np.uint8), truth) == "1 values differ"


@pytest.mark.parametrize("syntax,dtype,photometric,bits", [
    ("1.2.840.10008.1.2.4.70", np.int16, None, None),  # lossless, signed 16-bit
    ("1.2.840.10008.1.2.4.51", np.uint16, None, 12),  # 12-bit extended
    ("1.2.840.10008.1.2.4.50", np.uint8, "YBR_FULL_422", None),  # baseline, colour 4:2:2
])
def test_jpeg_files_every_case_matches_or_skips(tmp_path, syntax, dtype, photometric, bits):
    """testing.encode_jpeg's frames decode (imagecodecs) to the source (lossless) or near it;
    each all-frames case, dicomframes included, matches that decode within the input's
    tolerance, or skips (dicomframes: until its JPEG decoders are built in)."""
    from dicomframes import testing

    ic = pytest.importorskip("imagecodecs")
    rng = np.random.default_rng(5)
    shape = (3, 32, 48, 3) if photometric else (3, 32, 48)
    if dtype == np.uint8:  # smooth colour: little JPEG error
        arr = (np.linspace(0, 200, shape[2])[None, None, :, None] + rng.integers(
            0, 40, shape[:1] + (1, 1, 3))).astype(np.uint8).repeat(shape[1], axis=1)
    else:
        arr = rng.integers(-2048 if dtype == np.int16 else 0, 4096, shape).astype(dtype)
    try:
        encoded = [testing.encode_jpeg(f, syntax, bits_stored=bits, photometric=photometric)
                   for f in arr]
    except NotImplementedError as exc:
        pytest.skip(str(exc))
    reference = np.stack([ic.jpeg8_decode(e) for e in encoded]).view(arr.dtype)
    lossless = syntax.endswith(".70")
    assert np.array_equal(reference, arr) if lossless else \
        np.abs(reference.astype(int) - arr).max() < (64 if bits else 16)
    ds = testing.make_dataset(arr, frames=3, syntax=syntax, encoded=encoded,
                              photometric=photometric, bits_stored=bits)
    inp = bench.make_input([testing.write(ds, tmp_path / "f.dcm")])
    assert inp.tolerance == (0 if lossless else 2)
    ran = []
    for name in bench.peers.BENCH_PEERS:
        try:
            fn = bench.case(name, "all", inp)
        except bench.Skip as exc:
            assert name != "dicomframes" or "no decoder" in str(exc)
            continue
        assert bench.compare(fn(), reference, inp.tolerance) is None, name
        ran.append(name)
    assert "imagecodecs" in ran, ran


def test_peers_stderr_noise_stays_out_of_the_table():
    """What peers write to file descriptor 2 (C libraries, Python warnings) is captured while
    they run and summarised afterwards; the real stderr is back once the block ends."""
    import os
    import sys

    from dicomframes.bench.cli import stderr_captured

    with stderr_captured() as (terminal, noise):
        os.write(2, b"gdcm: some warning\n")
        print("a python warning", file=sys.stderr)
        terminal.write("")  # the progress bar's stream still works
        assert noise == []
    assert noise == ["gdcm: some warning", "a python warning"]
    os.fstat(2)  # restored and open
