"""The installed ``dicomframes`` command, run as a subprocess (``python -m dicomframes`` with
this interpreter, which runs the installed package): --version, frames, convert, check,
info, demo. ``display`` is checked against pydicom's LUT functions on synthetic files and on
the conformance corpus (skipped when ../shared is absent)."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import dicomframes
from dicomframes import uids
from dicomframes.display import display_values

from conftest import CORPUS
from dicom_bytes import element

pydicom = pytest.importorskip("pydicom")
from dicomframes.testing import encode_frame, make_dataset, make_dicom, write  # noqa: E402
from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi_lut  # noqa: E402


def run(*args: str, cwd: Path | None = None, env: dict | None = None,
        prelude: str = "") -> subprocess.CompletedProcess:
    """`dicomframes ARGS` in a new process (the installed package, not the source tree)."""
    code = f"{prelude}import sys; from dicomframes.cli import main; sys.exit(main())"
    command = [sys.executable, "-c", code, *args] if prelude else \
        [sys.executable, "-m", "dicomframes", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=300)


@pytest.fixture(scope="module")
def ct_file(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    arr = rng.integers(-1024, 2000, (3, 16, 20), dtype=np.int16)
    ds = make_dataset(arr, frames=3, bits_stored=12 + 4, extra={
        "RescaleSlope": "2", "RescaleIntercept": "-1024", "WindowCenter": "40",
        "WindowWidth": "400"})
    return write(ds, tmp_path_factory.mktemp("cli") / "ct.dcm")


# ---- --version, frames ----------------------------------------------------------------------

def test_version():
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"dicomframes {dicomframes.__version__}"


def test_frames_out_is_written_exactly(tmp_path, ct_file):
    out = tmp_path / "x.npy"
    result = run("frames", str(ct_file), "--index", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stdout
    with dicomframes.open(ct_file) as f:
        assert np.array_equal(np.load(out), f[1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.npy"]


def test_frames_png_one_frame(tmp_path):
    pytest.importorskip("PIL")
    from PIL import Image

    arr = np.arange(2 * 8 * 8, dtype=np.uint16).reshape(2, 8, 8) * 100
    path = write(make_dicom(arr, frames=2), tmp_path / "u16.dcm")
    out = tmp_path / "f.png"
    result = run("frames", str(path), "--index", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert np.array_equal(np.asarray(Image.open(out)), arr[1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png", "u16.dcm"]


@pytest.mark.parametrize("args, message", [
    (["--index", "0", "--out", "x.tif"], "the extension says the format"),
    (["--out", "x.png"], "a .png holds one frame"),
    (["--index", "0", "1", "--out", "x.png"], "a .png holds one frame"),
])
def test_frames_bad_out(tmp_path, ct_file, args, message):
    result = run("frames", str(ct_file), *args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []


# ---- convert / display ----------------------------------------------------------------------

def pydicom_values(path: Path, k: int = 0) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path)
        try:
            arr = ds.pixel_array
        except RuntimeError:
            # pydicom has no decoder here (JPEG Lossless needs gdcm or pylibjpeg-libjpeg):
            # our frame, which the corpus tests check against the manifest, is the input
            # of pydicom's display functions then
            with dicomframes.open(path) as f:
                arr = f.frames() if int(ds.get("NumberOfFrames", 1) or 1) > 1 else f.frame(0)
        if int(ds.get("NumberOfFrames", 1) or 1) > 1:
            arr = arr[k]
        if ds.PhotometricInterpretation == "PALETTE COLOR":
            return apply_color_lut(arr, ds)
        return apply_voi_lut(apply_modality_lut(arr, ds), ds)


def lut_item(descriptor, data):
    item = pydicom.Dataset()
    item.add_new(0x00283002, "US", descriptor)  # LUT Descriptor
    item.add_new(0x00283006, "US", data)  # LUT Data, US (the other tests cover OW)
    return item


SYNTHETIC = {
    "window-linear": ("i2", 12, {"RescaleSlope": "1.5", "RescaleIntercept": "-100",
                                 "WindowCenter": "100", "WindowWidth": "600"}),
    "window-linear-exact": ("u2", 12, {"WindowCenter": "2000", "WindowWidth": "1000",
                                       "VOILUTFunction": "LINEAR_EXACT"}),
    "window-sigmoid": ("u2", 12, {"WindowCenter": "2000", "WindowWidth": "1000",
                                  "VOILUTFunction": "SIGMOID"}),
    "monochrome1": ("u1", 8, {"PhotometricInterpretation": "MONOCHROME1",
                              "WindowCenter": "128", "WindowWidth": "128"}),
    "modality-lut-seq": ("u2", 12, {"ModalityLUTSequence": lambda ds: [lut_item(
        [4096, 0, 16], [int(v) for v in np.arange(4096) * 7 % 65536])]}),
    "voi-lut-seq": ("u2", 12, {"VOILUTSequence": lambda ds: [lut_item(
        [2048, 1000, 16], [int(v) for v in (np.arange(2048) ** 2) % 65536])],
        "WindowCenter": "5", "WindowWidth": "10"}),
    "no-voi": ("u2", 12, {}),
    "palette": ("u1", 8, {"PhotometricInterpretation": "PALETTE COLOR",
                          "RedPaletteColorLookupTableDescriptor": [256, 0, 16],
                          "GreenPaletteColorLookupTableDescriptor": [256, 0, 16],
                          "BluePaletteColorLookupTableDescriptor": [256, 0, 16],
                          "RedPaletteColorLookupTableData":
                              (np.arange(256, dtype="<u2") * 256).tobytes(),
                          "GreenPaletteColorLookupTableData":
                              (65535 - np.arange(256, dtype="<u2") * 256).tobytes(),
                          "BluePaletteColorLookupTableData":
                              np.full(256, 1000, "<u2").tobytes()}),
}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("display")
    rng = np.random.default_rng(1)
    paths = {}
    for name, (dtype, bits, extra) in SYNTHETIC.items():
        info = np.iinfo(dtype)
        low = max(info.min, -(1 << (bits - 1))) if info.min < 0 else 0
        high = min(info.max, (1 << (bits - 1)) - 1 if info.min < 0 else (1 << bits) - 1)
        arr = rng.integers(low, high + 1, (2, 12, 10)).astype(dtype)
        ds = make_dataset(arr, frames=2, bits_stored=bits, extra=extra)
        paths[name] = write(ds, folder / f"{name}.dcm")
    return paths


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_display_values_equal_pydicom_synthetic(synthetic, name):
    path = synthetic[name]
    with dicomframes.open(path) as f:
        for k in (0, 1):
            got = display_values(f, k)
            expected = pydicom_values(path, k)
            assert got.values.dtype == expected.dtype
            np.testing.assert_array_equal(got.values, expected)
            image = f.display(k)
            assert image.dtype == np.uint8 and image.shape[:2] == (12, 10)


CORPUS_DISPLAY = ["966_fixed.dcm", "RG3_J2KR.dcm", "MR_small.dcm", "CT_small.dcm",
                  "JPGLosslessP14SV1_1s_1f_8b.dcm", "OBXXXX1A.dcm", "OBXXXX1A_rle_2frame.dcm",
                  "gdcm-US-ALOKA-16.dcm", "examples_overlay.dcm"]


@pytest.mark.parametrize("name", CORPUS_DISPLAY)
def test_display_values_equal_pydicom_corpus(name):
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"no {path}")
    with dicomframes.open(path) as f:
        got = display_values(f, 0)
    np.testing.assert_array_equal(got.values, pydicom_values(path))


def test_big_endian_palette_matches_its_little_endian_twin():
    """pydicom's apply_color_lut reads OW palette data as little endian whatever the file
    says; the big endian copy of OBXXXX1A must show the same colours as the original."""
    if not (CORPUS / "OBXXXX1A_expb.dcm").exists():
        pytest.skip("no corpus")
    with dicomframes.open(CORPUS / "OBXXXX1A_expb.dcm") as f:
        got = display_values(f, 0)
    np.testing.assert_array_equal(got.values, pydicom_values(CORPUS / "OBXXXX1A.dcm"))


def test_display_scaling_and_inversion(synthetic):
    with dicomframes.open(synthetic["monochrome1"]) as f:
        shown = display_values(f, 0)
        image = f.display(0)
        image16 = f.display(0, bits=16)
    assert shown.inverted
    expected = np.rint(255 - np.clip((shown.values - shown.low) * 255 / (shown.high - shown.low),
                                     0, 255)).astype(np.uint8)
    np.testing.assert_array_equal(image, expected)
    assert image16.dtype == np.uint16 and image16.max() > 255


def test_convert_png(tmp_path, ct_file):
    pytest.importorskip("PIL")
    from PIL import Image

    out = tmp_path / "ct.png"
    result = run("convert", str(ct_file), str(out), "--index", "2", "--window", "0,2000")
    assert result.returncode == 0, result.stderr
    with dicomframes.open(ct_file) as f:
        expected = f.display(2, window=(0, 2000))
    np.testing.assert_array_equal(np.asarray(Image.open(out)), expected)
    result = run("convert", str(ct_file), str(tmp_path / "s.png"), "--index", "all",
                 "--bits", "16")
    assert result.returncode == 0, result.stderr
    for k in range(3):
        assert f"s_{k:04d}.png" in result.stdout
        image = np.asarray(Image.open(tmp_path / f"s_{k:04d}.png"))
        assert image.dtype == np.uint16 and image.shape == (16, 20)


def test_convert_palette_to_rgb(tmp_path, synthetic):
    pytest.importorskip("PIL")
    from PIL import Image

    out = tmp_path / "p.png"
    result = run("convert", str(synthetic["palette"]), str(out))
    assert result.returncode == 0, result.stderr
    image = Image.open(out)
    assert image.mode == "RGB"


def test_convert_without_pillow_says_so(tmp_path, ct_file):
    result = run("convert", str(ct_file), str(tmp_path / "x.png"),
                 prelude="import sys; sys.modules['PIL'] = None; ")
    assert result.returncode == 2
    assert "needs Pillow" in result.stderr and "dicomframes[image]" in result.stderr


def test_convert_bad_window(tmp_path, ct_file):
    result = run("convert", str(ct_file), str(tmp_path / "x.png"), "--window", "40")
    assert result.returncode == 2 and "CENTER,WIDTH" in result.stderr


# ---- check ------------------------------------------------------------------------------------

def rle_file(folder: Path, name: str = "clean.dcm") -> tuple[Path, bytes]:
    arr = (np.arange(2 * 8 * 8, dtype=np.uint16).reshape(2, 8, 8) * 37) % 4096
    encoded = [encode_frame(frame, uids.RLE_LOSSLESS) for frame in arr]
    data = make_dicom(arr, frames=2, syntax=uids.RLE_LOSSLESS, encoded=encoded)
    return write(data, folder / name), data


def test_check_clean_file(tmp_path):
    path, _ = rle_file(tmp_path)
    result = run("check", str(path))
    assert result.returncode == 0, result.stdout
    assert f"{path}: ok" in result.stdout


def test_check_wrong_offset_table(tmp_path):
    _, data = rle_file(tmp_path)
    pixel = data.rindex(b"\xe0\x7f\x10\x00OB")
    bot = pixel + 12 + 8  # after the element header and the table's item header
    assert struct.unpack_from("<II", data, bot)[0] == 0
    second = struct.unpack_from("<I", data, bot + 4)[0]
    bad = data[:bot + 4] + struct.pack("<I", second + 2) + data[bot + 8:]
    path = write(bad, tmp_path / "bad_bot.dcm")
    result = run("check", str(path))
    assert result.returncode == 1
    assert "the Basic Offset Table is wrong" in result.stdout
    assert "entry 1" in result.stdout


def test_check_frame_count_larger_than_data(tmp_path):
    arr = np.zeros((2, 8, 8), np.uint16)
    path = write(make_dicom(arr, frames=2, extra={"NumberOfFrames": 3}), tmp_path / "n.dcm")
    result = run("check", str(path))
    assert result.returncode == 1
    assert "frame count: Number of Frames says 3" in result.stdout


def test_check_jpeg_ls_header_size_mismatch(tmp_path):
    frame = np.arange(16 * 16, dtype=np.uint8).reshape(16, 16)
    try:
        codestream = encode_frame(frame, uids.JPEG_LS_LOSSLESS)
    except NotImplementedError as exc:
        pytest.skip(str(exc))
    declared = np.zeros((16, 20), np.uint8)  # the data set says 16 x 20
    path = write(make_dicom(declared, syntax=uids.JPEG_LS_LOSSLESS, encoded=[codestream]),
                 tmp_path / "jls.dcm")
    result = run("check", str(path))
    assert result.returncode == 1
    assert "frame 0: SOF55 says columns 16, the data set 20" in result.stdout


def test_check_odd_length_and_json(tmp_path):
    _, data = rle_file(tmp_path)
    odd = data + element(0xFFFCFFFC, "OB", b"abc")  # Data Set Trailing Padding, 3 bytes
    path = write(odd, tmp_path / "odd.dcm")
    clean, _ = rle_file(tmp_path, "clean2.dcm")
    result = run("check", "--json", str(path), str(clean))
    assert result.returncode == 1
    reports = json.loads(result.stdout)
    assert [r["ok"] for r in reports] == [False, True]
    assert any("odd length" in p and "(FFFC,FFFC)" in p for p in reports[0]["problems"])


def test_check_native_data_after_frames(tmp_path):
    arr = np.zeros((3, 8, 8), np.uint16)
    path = write(make_dicom(arr, frames=3, extra={"NumberOfFrames": 2}), tmp_path / "x.dcm")
    result = run("check", str(path))
    assert result.returncode == 1 and "data after the frames" in result.stdout


# ---- info, demo, bench ------------------------------------------------------------------------

def test_info_names_a_syntax_without_decoder(tmp_path):
    path = write(make_dicom(np.zeros((8, 8), np.uint8), syntax="1.2.840.10008.1.2.4.100",
                            encoded=[b"\x00\x00\x01\xb3abcd"]), tmp_path / "mpeg.dcm")
    result = run("info", str(path))
    assert result.returncode == 0
    assert "no decoder for MPEG2 Main Profile @ Main Level" in result.stdout
    assert "frame location: basic offset table" in result.stdout
    assert "not found" not in result.stdout


def test_demo_from_any_directory_makes_samples_per_codec(tmp_path):
    result = run("demo", "--rounds", "1", cwd=tmp_path,
                 env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stdout + result.stderr
    folder = tmp_path / "cache" / "dicomframes" / "samples"
    assert f"samples in {folder}" in result.stdout
    made = {p.name for p in folder.glob("*.dcm")}
    assert {"native_u16.dcm", "rle.dcm", "deflate_frames.dcm", "deflated_dataset.dcm"} <= made
    for name in ("jpegls", "j2k", "htj2k", "jpeg_baseline", "jpeg_extended", "jpeg_lossless"):
        assert f"{name}.dcm" in made or f"{name}.dcm not made" in result.stdout
    table = result.stdout.split("open + all frames (us)")[1]
    assert max(len(line) for line in table.splitlines()) < 120


def test_demo_long_errors_do_not_stretch_the_table(tmp_path):
    (tmp_path / "bad.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00" * 40)
    arr = np.zeros((2, 4, 4), np.uint8)
    write(make_dicom(arr, frames=2, extra={"NumberOfFrames": 9}), tmp_path / "short.dcm")
    result = run("demo", str(tmp_path), "--rounds", "1")
    assert result.returncode == 1
    table = result.stdout.split("open + all frames (us)")[1].split("\n\n")[0]
    assert max(len(line) for line in table.splitlines()) < 120  # error cells cut to 60
    assert "[1] error: " in result.stdout  # the full text below the table


def test_bench_rejects_unknown_peers():
    result = run("bench", "--peers", "dicomsdl,nosuchpeer")
    assert result.returncode == 2
    assert "unknown nosuchpeer" in result.stderr and "dicomframes" in result.stderr
