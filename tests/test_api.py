"""The public API of dicomframes: frame access, views and copies, ``out=``, indexing,
lifetime, sources, values, the element index, unsupported syntaxes, the CLI, laziness.

Most tests build their own small DICOM files with pydicom, so they need neither the
conformance corpus nor the generated samples; value() is checked on pydicom's bundled
CT_small.dcm.
"""

from __future__ import annotations

import json
import mmap
import os
import signal
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import dicomframes
from dicomframes import DicomFile, DicomFramesError, Item, UnsupportedTransferSyntaxError

pydicom = pytest.importorskip("pydicom")
from dicomframes.testing import make_dicom  # noqa: E402
from pydicom.data import get_testdata_file  # noqa: E402
from pydicom.uid import (  # noqa: E402
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

# The folder of the files bundled in the pydicom wheel (CT_small.dcm is one of them).
PYDICOM_FILES = Path(get_testdata_file("CT_small.dcm")).parent
REPO = Path(__file__).resolve().parents[1]
NATIVE_UIDS = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99",
               "1.2.840.10008.1.2.2"}


# --------------------------------------------------------------------------------------
# building test files
# --------------------------------------------------------------------------------------


def stack_of(n=5, rows=6, cols=7, dtype=np.uint16, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=(n, rows, cols), endpoint=True,
                        dtype=dtype)


@pytest.fixture(scope="module")
def multi():
    """(bytes, array): 5 frames of 6 x 7 uint16, explicit VR little endian."""
    arr = stack_of()
    return make_dicom(arr, frames=len(arr)), arr


@pytest.fixture()
def big_file(tmp_path):
    """A native multi-frame file above the read-instead-of-map threshold (memory mapped)."""
    arr = stack_of(n=4, rows=128, cols=128, dtype=np.int16, seed=1)
    path = tmp_path / "big.dcm"
    path.write_bytes(make_dicom(arr, frames=len(arr)))
    assert path.stat().st_size > 64 * 1024
    return path, arr


def _ct_small() -> Path:
    path = PYDICOM_FILES / "CT_small.dcm"
    if not path.is_file():
        pytest.skip("pydicom's CT_small.dcm is not available")
    return path


def _base_object(array: np.ndarray):
    base = array
    while isinstance(base, np.ndarray):
        base = base.base
    return base


# --------------------------------------------------------------------------------------
# views and copies
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian],
                         ids=["explicit", "implicit"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int16])
def test_frame_is_readonly_zero_copy_view(dtype, syntax):
    arr = stack_of(n=3, dtype=dtype, seed=2)
    data = make_dicom(arr, frames=3, syntax=syntax)
    with dicomframes.open(data) as f:
        for k in range(3):
            view = f[k]
            np.testing.assert_array_equal(view, arr[k])
            assert view.dtype == np.dtype(dtype)
            assert not view.flags.owndata
            assert not view.flags.writeable
            # The view points into the very bytes that were opened.
            assert np.shares_memory(view, np.frombuffer(data, np.uint8))
            with pytest.raises(ValueError):
                view[0, 0] = 1
        assert f.frame(1) is not f.frame(1)  # a fresh view each time, same memory
        assert np.shares_memory(f.frame(1), f.frame(1))


def test_frame_view_of_mapped_file(big_file):
    path, arr = big_file
    with dicomframes.open(path) as f:
        view = f[2]
        assert not view.flags.owndata and not view.flags.writeable
        assert isinstance(_base_object(view), (memoryview, mmap.mmap))
        np.testing.assert_array_equal(view, arr[2])


def test_copy_gives_writeable_copy(multi):
    data, arr = multi
    with dicomframes.open(data) as f:
        copy = f.frame(1, copy=True)
        assert copy.flags.writeable and copy.flags.c_contiguous
        assert not np.shares_memory(copy, np.frombuffer(data, np.uint8))
        np.testing.assert_array_equal(copy, arr[1])
        copy[...] = 0
        np.testing.assert_array_equal(f[1], arr[1])  # the file is untouched


def test_big_endian_frames_are_native_copies():
    arr = stack_of(n=2, dtype=np.int16, seed=3)
    with dicomframes.open(make_dicom(arr, frames=2, syntax=ExplicitVRBigEndian)) as f:
        frame = f[1]
        assert frame.dtype == np.dtype(np.int16) and frame.dtype.isnative
        np.testing.assert_array_equal(frame, arr[1])
        np.testing.assert_array_equal(f.frames(), arr)


def test_bits_stored_masking_and_sign():
    """12-bit values in 16-bit words: unused high bits are cleared (unsigned) or filled
    with the sign bit (signed), as pydicom does."""
    raw = np.array([[0xF123, 0x0FFF], [0x1800, 0x07FF]], dtype=np.uint16)
    with dicomframes.open(make_dicom(raw, bits_stored=12)) as f:
        np.testing.assert_array_equal(f[0], raw & 0x0FFF)
    signed = raw.view(np.int16)
    with dicomframes.open(make_dicom(signed, bits_stored=12)) as f:
        expected = np.array([[0x123, -1], [-2048, 2047]], dtype=np.int16)
        np.testing.assert_array_equal(f[0], expected)


# --------------------------------------------------------------------------------------
# out=
# --------------------------------------------------------------------------------------


def test_frame_out_is_filled_and_returned(multi):
    data, arr = multi
    with dicomframes.open(data) as f:
        out = np.full(f.frame_shape, 7, f.dtype)
        result = f.frame(3, out=out)
        assert result is out
        np.testing.assert_array_equal(out, arr[3])


def test_frames_out_is_filled_and_returned(multi):
    data, arr = multi
    with dicomframes.open(data) as f:
        out = np.zeros((2, *f.frame_shape), f.dtype)
        assert f.frames([4, 0], out=out) is out
        np.testing.assert_array_equal(out, arr[[4, 0]])
        everything = np.zeros((len(f), *f.frame_shape), f.dtype)
        assert f.frames(out=everything) is everything
        np.testing.assert_array_equal(everything, arr)


def _bad_outs(shape, dtype):
    wide = np.zeros((*shape[:-1], shape[-1] * 2), dtype)
    readonly = np.zeros(shape, dtype)
    readonly.flags.writeable = False
    return {
        "dtype": np.zeros(shape, np.float32),
        "byte-order": np.zeros(shape, np.dtype(dtype).newbyteorder()),
        "shape": np.zeros((shape[0] + 1, *shape[1:]), dtype),
        "ndim": np.zeros((1, *shape), dtype),
        "non-contiguous": wide[..., ::2],
        "fortran": np.zeros(shape, dtype, order="F"),
        "read-only": readonly,
    }


@pytest.mark.parametrize("problem", ["dtype", "byte-order", "shape", "ndim", "non-contiguous",
                                     "fortran", "read-only"])
def test_frame_out_is_validated(multi, problem):
    data, arr = multi
    with dicomframes.open(data) as f:
        out = _bad_outs(f.frame_shape, f.dtype)[problem]
        before = out.copy()
        with pytest.raises(ValueError):
            f.frame(0, out=out)
        np.testing.assert_array_equal(out, before)


@pytest.mark.parametrize("problem", ["dtype", "byte-order", "shape", "non-contiguous",
                                     "fortran", "read-only"])
def test_frames_out_is_validated(multi, problem):
    data, arr = multi
    with dicomframes.open(data) as f:
        out = _bad_outs((3, *f.frame_shape), f.dtype)[problem]
        with pytest.raises(ValueError):
            f.frames([0, 1, 2], out=out)


@pytest.mark.parametrize("bad", [[[0] * 7] * 6, b"\0" * 84, bytearray(84), 0, "out"])
def test_out_must_be_an_array(multi, bad):
    data, _ = multi
    with dicomframes.open(data) as f:
        with pytest.raises(TypeError):
            f.frame(0, out=bad)
        with pytest.raises(TypeError):
            f.frames([0], out=bad)


# --------------------------------------------------------------------------------------
# indexing, iteration, len
# --------------------------------------------------------------------------------------


def test_len_and_iteration(multi):
    data, arr = multi
    with dicomframes.open(data) as f:
        assert len(f) == 5 == f.number_of_frames
        frames = list(f)
        assert len(frames) == 5
        for got, want in zip(frames, arr):
            np.testing.assert_array_equal(got, want)
        # iterating twice works the same
        assert sum(1 for _ in f) == 5


@pytest.mark.parametrize("k", [0, 1, 4, -1, -2, -5])
def test_int_and_negative_indices(multi, k):
    data, arr = multi
    with dicomframes.open(data) as f:
        np.testing.assert_array_equal(f[k], arr[k])
        np.testing.assert_array_equal(f.frame(k), arr[k])
        np.testing.assert_array_equal(f[np.int64(k)], arr[k])


@pytest.mark.parametrize("k", [5, 6, -6, 10**9, -(10**9)])
def test_index_out_of_range(multi, k):
    data, _ = multi
    with dicomframes.open(data) as f:
        with pytest.raises(IndexError):
            f[k]
        with pytest.raises(IndexError):
            f.frame(k, copy=True)
        with pytest.raises(IndexError):
            f.frames([0, k])
        with pytest.raises(IndexError):
            f[[k]]


@pytest.mark.parametrize("key", [
    slice(None), slice(1, 3), slice(None, None, 2), slice(1, None, 3), slice(None, None, -1),
    slice(4, 0, -2), slice(-2, None), slice(3, 1), slice(10, 20), slice(-100, 100),
    slice(None, None, -3),
], ids=str)
def test_slices(multi, key):
    data, arr = multi
    with dicomframes.open(data) as f:
        got = f[key]
        want = arr[key]
        assert got.shape == want.shape
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("key", [[0], [3, 1], [1, 1, 1], [4, -1, 0, -5], [], (2, 0)], ids=str)
def test_list_indices(multi, key):
    data, arr = multi
    with dicomframes.open(data) as f:
        got = f[list(key)]
        want = arr[list(key)] if key else arr[:0]
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(f[np.asarray(key, dtype=np.intp)], want)
        np.testing.assert_array_equal(f.frames(list(key)), want)


def test_single_frame_file():
    arr = stack_of(n=1, seed=5)[0]
    with dicomframes.open(make_dicom(arr)) as f:
        assert len(f) == 1
        assert f.frame_shape == arr.shape
        np.testing.assert_array_equal(f[0], arr)
        np.testing.assert_array_equal(f[-1], arr)
        assert f.frames().shape == (1, *arr.shape)
        with pytest.raises(IndexError):
            f[1]


def test_rgb_frames():
    arr = np.random.default_rng(6).integers(0, 256, size=(2, 4, 5, 3), dtype=np.uint8)
    with dicomframes.open(make_dicom(arr, frames=2)) as f:
        assert f.frame_shape == (4, 5, 3)
        assert f.samples_per_pixel == 3
        np.testing.assert_array_equal(f.frames(), arr)
        np.testing.assert_array_equal(f[::-1], arr[::-1])


def test_properties(multi):
    data, arr = multi
    with dicomframes.open(data) as f:
        assert (f.rows, f.columns) == arr.shape[1:]
        assert f.samples_per_pixel == 1
        assert f.bits_allocated == 16 and f.bits_stored == 16
        assert f.pixel_representation == 0
        assert f.photometric_interpretation == "MONOCHROME2"
        assert f.dtype == np.dtype(np.uint16)
        assert f.frame_shape == arr.shape[1:]
        assert f.has_pixel_data
        assert f.has_preamble and f.has_file_meta
        assert f.transfer_syntax_uid == ExplicitVRLittleEndian
        assert f.path is None
        pixels = f.pixels
        assert (pixels.rows, pixels.columns, pixels.number_of_frames) == (6, 7, 5)
        assert isinstance(f.describe(), dict)
        assert "<bytes>" in repr(f)


# --------------------------------------------------------------------------------------
# lifetime
# --------------------------------------------------------------------------------------


def test_context_manager_closes(multi):
    data, _ = multi
    with dicomframes.open(data) as f:
        assert isinstance(f, DicomFile)
        assert not f.closed
    assert f.closed
    with pytest.raises(ValueError):
        f[0]
    with pytest.raises(ValueError):
        f.frames()
    f.close()  # closing twice is fine
    assert "closed" in repr(f)


@pytest.mark.parametrize("source", ["bytes", "path"])
def test_close_while_a_view_exists(multi, big_file, source):
    if source == "bytes":
        data, arr = multi
        f = dicomframes.open(data)
    else:
        path, arr = big_file
        f = dicomframes.open(path)
    view = f[1]
    rows = [f[k] for k in range(len(f))]
    f.close()
    assert f.closed
    # The views still read the right values after close, and after the file is gone.
    np.testing.assert_array_equal(view, arr[1])
    del f
    import gc

    gc.collect()
    np.testing.assert_array_equal(view, arr[1])
    for k, row in enumerate(rows):
        np.testing.assert_array_equal(row, arr[k])
    assert int(view.astype(np.int64).sum()) == int(arr[1].astype(np.int64).sum())


def test_mapped_file_can_be_replaced_after_close(big_file):
    """After close (no views left) the file is no longer held: it can be overwritten."""
    path, arr = big_file
    f = dicomframes.open(path)
    f.frames()
    f.close()
    path.write_bytes(b"x" * 10)
    os.remove(path)


def _mapped(path: Path) -> int:
    """How many mappings of `path` this process holds."""
    with open("/proc/self/maps") as maps:
        return sum(1 for line in maps if line.rstrip().endswith(str(path)))


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc/self/maps")
def test_close_unmaps_after_frames_were_read(big_file):
    """Frames decoded (not views) leave nothing holding the mapping: close() unmaps it
    at once, not when the DicomFile object goes."""
    path, arr = big_file
    f = dicomframes.open(path)
    copy = f.frame(1, copy=True)
    f.frames(threads=2, rescale=True)
    assert _mapped(path) == 1, "the file is mapped once"
    f.close()
    assert _mapped(path) == 0, "close() left the mapping in place"
    np.testing.assert_array_equal(copy, arr[1])


def test_facts_stay_readable_after_close(multi, big_file):
    path, _ = big_file
    for source in (multi[0], path):
        f = dicomframes.open(source)
        uid, rows = f.transfer_syntax_uid, f.rows
        f.close()
        assert f.transfer_syntax_uid == uid and f.transfer_syntax.uid == uid
        assert f.rows == rows and f.path == (str(path) if source is path else None)


# --------------------------------------------------------------------------------------
# sources
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["bytes", "bytearray", "memoryview", "memoryview-slice",
                                  "numpy", "str", "pathlib", "mmap-size"])
def test_open_sources(tmp_path, multi, kind):
    data, arr = multi
    path = tmp_path / "x.dcm"
    path.write_bytes(data)
    source = {
        "bytes": lambda: data,
        "bytearray": lambda: bytearray(data),
        "memoryview": lambda: memoryview(data),
        "memoryview-slice": lambda: memoryview(b"JUNK" + data + b"MORE")[4:-4],
        "numpy": lambda: np.frombuffer(data, np.uint8),
        "str": lambda: str(path),
        "pathlib": lambda: path,
        "mmap-size": lambda: path,  # same file, padded below to be mapped
    }[kind]()
    if kind == "mmap-size":
        big = make_dicom(stack_of(n=40, rows=64, cols=64, seed=9), frames=40)
        path.write_bytes(big)
        arr = stack_of(n=40, rows=64, cols=64, seed=9)
    with dicomframes.open(source) as f:
        np.testing.assert_array_equal(f.frames(), arr)
        if kind in ("str", "pathlib", "mmap-size"):
            assert f.path == str(path)


def test_open_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError):
        dicomframes.open(tmp_path / "nope.dcm")


@pytest.mark.parametrize("junk", [b"", b"\0" * 10, b"not a dicom file at all" * 10,
                                  b"\0" * 128 + b"DICM"])
def test_open_garbage_raises(junk):
    with pytest.raises(DicomFramesError):
        with dicomframes.open(junk) as f:
            f.frames()


# --------------------------------------------------------------------------------------
# values and the element index
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ct_small():
    path = _ct_small()
    ds = pydicom.dcmread(path)
    with dicomframes.open(path) as f:
        yield f, ds


def test_values_against_pydicom(ct_small):
    f, ds = ct_small
    assert f.value(0x00280010) == ds.Rows == 128
    assert f.value((0x0028, 0x0011)) == ds.Columns
    name = f.value(0x00100010)
    assert isinstance(name, str) and name == str(ds.PatientName)
    position = f.value(0x00200032)
    assert isinstance(position, list) and all(isinstance(v, float) for v in position)
    assert position == pytest.approx([float(v) for v in ds.ImagePositionPatient])
    thickness = f.value(0x00180050)
    assert isinstance(thickness, float) and thickness == float(ds.SliceThickness)
    number = f.value(0x00200013)
    assert isinstance(number, int) and not isinstance(number, bool)
    assert number == int(ds.InstanceNumber)
    assert f.value(0x00080060) == ds.Modality
    assert f.value(0x00020010) == ds.file_meta.TransferSyntaxUID
    assert f.value(0x00080016) == ds.SOPClassUID
    assert f.value(0x00280030) == pytest.approx([float(v) for v in ds.PixelSpacing])
    assert f.value(0x00280100) == ds.BitsAllocated


def test_sequence_values(ct_small):
    f, ds = ct_small
    sequences = [el for el in ds if el.VR == "SQ"]
    assert sequences, "CT_small.dcm has a sequence"
    for element in sequences:
        items = f.value(int(element.tag))
        assert isinstance(items, list) and len(items) == len(element.value)
        for item, reference in zip(items, element.value):
            assert isinstance(item, Item)
            assert item.tags() == [int(e.tag) for e in reference]
            for sub in reference:
                if sub.VR in ("SQ", "OB", "OW", "UN"):
                    continue
                assert int(sub.tag) in item
                want = sub.value
                got = item.value(int(sub.tag))
                assert str(got) == str(want), sub


def test_value_missing_and_default(ct_small):
    f, _ = ct_small
    with pytest.raises(KeyError):
        f.value(0x00091234)
    assert f.value(0x00091234, None) is None
    assert f.value(0x00091234, default=17) == 17
    assert 0x00280010 in f
    assert (0x0028, 0x0010) in f
    assert 0x00091234 not in f
    assert f.dataset.value(0x00280010) == 128


def test_value_of_malformed_number_raises_dicomframes_error():
    """BUG-5 (fixed in 93087c4): value() of a malformed IS/DS (badVR.dcm: Number of Frames
    '1A') raised a bare ValueError from float(), not the DicomFramesError that errors.py
    promises for every error about the data."""
    path = PYDICOM_FILES / "badVR.dcm"
    if not path.is_file():
        pytest.skip("pydicom's badVR.dcm is not available")
    with dicomframes.open(path) as f:
        try:
            f.value(0x00280008)
        except DicomFramesError:
            pass  # rejecting it is fine; so would be returning the text as it is


def test_elements_index(ct_small):
    f, ds = ct_small
    elements = f.elements
    assert set(elements.dtype.names) >= {"tag", "vr", "flags", "parent", "depth", "offset",
                                         "length"}
    assert not elements.flags.writeable
    top = elements[elements["depth"] == 0]
    tags = set(int(t) for t in top["tag"])
    assert {int(e.tag) for e in ds} <= tags
    assert {int(e.tag) for e in ds.file_meta} <= tags
    # The row of Rows points at its two little-endian bytes.
    row = top[top["tag"] == 0x00280010][0]
    assert row["vr"] == b"US" and row["length"] == 2
    raw = _ct_small().read_bytes()[int(row["offset"]):int(row["offset"]) + 2]
    assert int.from_bytes(raw, "little") == 128
    # Offsets increase in file order; children point at their parent.
    assert np.all(np.diff(top["offset"].astype(np.int64)) > 0)
    nested = elements[elements["depth"] > 0]
    assert len(nested) > 0
    assert np.all(nested["parent"] >= 0)
    index = f.dataset.element_index(0x00280010)
    assert elements[index]["tag"] == 0x00280010


# --------------------------------------------------------------------------------------
# transfer syntaxes without a decoder (video)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("uid", ["1.2.840.10008.1.2.4.100",   # MPEG2 Main Profile
                                 "1.2.840.10008.1.2.4.102"])  # MPEG-4 AVC/H.264
def test_unsupported_syntax_raises(uid):
    arr = np.zeros((2, 8, 8), np.uint8)
    data = make_dicom(arr, frames=2, syntax=uid, encoded=[b"\x00\x00\x01\xb3" * 4] * 2)
    with dicomframes.open(data) as f:
        assert f.transfer_syntax_uid == uid
        assert len(f) == 2  # the description works without a codec
        with pytest.raises(UnsupportedTransferSyntaxError) as info:
            f.frames()
        assert isinstance(info.value, NotImplementedError)
        assert isinstance(info.value, DicomFramesError)
        assert uid in str(info.value)


# --------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dicomframes", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def test_cli_info(tmp_path, multi):
    data, _ = multi
    path = tmp_path / "multi.dcm"
    path.write_bytes(data)
    done = _cli("info", str(path), str(_ct_small()))
    assert done.returncode == 0, done.stdout + done.stderr
    assert str(path) in done.stdout
    assert "1.2.840.10008.1.2.1" in done.stdout
    assert "frames: 5" in done.stdout
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"garbage" * 20)
    done = _cli("info", str(bad))
    assert done.returncode == 1
    assert "error" in done.stdout


def test_cli_frames(tmp_path, multi):
    data, arr = multi
    path = tmp_path / "multi.dcm"
    path.write_bytes(data)
    out = tmp_path / "x.npy"
    done = _cli("frames", str(path), "--index", "0", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    with dicomframes.open(path) as f:
        np.testing.assert_array_equal(np.load(out), f[0])
    out_some = tmp_path / "some.npy"
    done = _cli("frames", str(path), "--index", "3", "1", "--out", str(out_some))
    assert done.returncode == 0, done.stdout + done.stderr
    np.testing.assert_array_equal(np.load(out_some), arr[[3, 1]])
    out_all = tmp_path / "all.npy"
    done = _cli("frames", str(path), "--out", str(out_all))
    assert done.returncode == 0, done.stdout + done.stderr
    np.testing.assert_array_equal(np.load(out_all), arr)
    done = _cli("frames", str(path), "--index", "9", "--out", str(tmp_path / "no.npy"))
    assert done.returncode == 1
    assert not (tmp_path / "no.npy").exists()


def test_cli_demo(samples_dir):
    done = _cli("demo", str(samples_dir), "--rounds", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    for path in samples_dir.glob("*.dcm"):
        assert path.name in done.stdout
    assert "open (us)" in done.stdout


# --------------------------------------------------------------------------------------
# laziness: opening reads the header only
# --------------------------------------------------------------------------------------

_RSS_SCRIPT = textwrap.dedent("""
    import json, resource, sys
    import numpy as np
    import dicomframes

    def peak():
        # The peak resident set size. ru_maxrss survives fork + exec (a child started by
        # a big pytest process reports the parent's peak), so where /proc has it use
        # VmHWM, the same high-water mark for this program only.
        try:
            with open("/proc/self/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return usage * (1024 if sys.platform.startswith("linux") else 1)

    # warm up the code paths on a tiny file so that imports/caches are not measured
    with dicomframes.open(sys.argv[2]) as f:
        f[0].sum()
    before = peak()
    f = dicomframes.open(sys.argv[1])
    total = int(f[len(f) // 2].astype(np.int64).sum())
    after_one = peak()
    everything = f.frames()
    after_all = peak()
    print(json.dumps({"one": after_one - before, "all": after_all - before,
                      "frames": len(f), "sum": total}))
""")


@pytest.fixture(scope="module")
def large_and_tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lazy")
    frames = 40
    rng = np.random.default_rng(11)
    # 40 x 512 x 512 uint16 = 20 MiB of Pixel Data
    arr = rng.integers(0, 4096, size=(frames, 512, 512), dtype=np.uint16)
    large = folder / "large.dcm"
    large.write_bytes(make_dicom(arr, frames=frames))
    tiny = folder / "tiny.dcm"
    tiny.write_bytes(make_dicom(np.arange(64, dtype=np.uint16).reshape(8, 8)))
    return large, tiny, arr


def test_open_does_not_read_pixel_data_memory(large_and_tiny):
    large, tiny, arr = large_and_tiny
    done = subprocess.run([sys.executable, "-c", _RSS_SCRIPT, str(large), str(tiny)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["frames"] == 40
    assert result["sum"] == int(arr[20].astype(np.int64).sum())
    # Opening + one 512 KiB frame: far below the 20 MiB of Pixel Data.
    assert result["one"] < 8 * 2**20, result
    # Sanity check of the measurement: decoding everything does grow it.
    assert result["all"] > 15 * 2**20, result


_UNREADABLE_PIXELS_SCRIPT = textwrap.dedent("""
    import ctypes, mmap, sys
    import dicomframes

    data = open(sys.argv[1], "rb").read()
    start = int(sys.argv[2])  # where the Pixel Data value begins
    buffer = mmap.mmap(-1, len(data))
    buffer[:] = data
    address = ctypes.addressof(ctypes.c_char.from_buffer(buffer))
    first = -(-(address + start) // mmap.PAGESIZE) * mmap.PAGESIZE  # first whole page
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    if libc.mprotect(first, address + len(data) - first, 0):  # PROT_NONE
        raise OSError(ctypes.get_errno(), "mprotect failed")
    f = dicomframes.open(buffer)  # bytes-like sources are indexed in place, not copied
    print(len(f), f.rows, f.columns, f.value(0x00280010), flush=True)
    exec(sys.argv[3])
""")


def _with_unreadable_pixels(path: Path, start: int, then: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _UNREADABLE_PIXELS_SCRIPT, str(path),
                           str(start), then], capture_output=True, text=True, timeout=120)


def test_open_does_not_touch_pixel_data(large_and_tiny):
    """open() reads the header only: with the pages of the Pixel Data value unreadable
    (PROT_NONE), opening and reading the header's values work; reading a frame is the
    control (it faults)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("mprotect through ctypes: Linux only")
    large, _, arr = large_and_tiny
    start = large.stat().st_size - arr.nbytes  # native Pixel Data, the last element
    done = _with_unreadable_pixels(large, start, "pass")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(len(arr)), "512", "512", "512"]
    control = _with_unreadable_pixels(large, start, "f[len(f) - 1].sum()")
    # Under AddressSanitizer (make asan) the fault is reported and the child aborts.
    faulted = control.returncode == -signal.SIGSEGV or (
        control.returncode == -signal.SIGABRT and "AddressSanitizer" in control.stderr)
    assert faulted, (control.returncode, control.stderr)


# --------------------------------------------------------------------------------------
# pickling (data-loader workers get files by path)
# --------------------------------------------------------------------------------------


def test_pickle_reopens_by_path(big_file):
    import pickle

    path, arr = big_file
    f = dicomframes.open(path, correct_unused_bits=False, max_frame_bytes=1 << 20)
    blob = pickle.dumps(f)
    assert len(blob) < 1024, "a path-opened file must not pickle its data"
    g = pickle.loads(blob)
    assert g is not f and g.path == str(path) and not g.closed
    np.testing.assert_array_equal(g.frames(threads=1), arr)
    assert g._options == f._options
    f.close()
    h = pickle.loads(pickle.dumps(f))  # closed: still reopens by path
    np.testing.assert_array_equal(h[1], arr[1])
    g.close()
    h.close()


def test_pickle_of_bytes_opened_file(multi):
    import pickle

    data, arr = multi
    f = dicomframes.open(data)
    g = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(g.frames(), arr)
    f.close()
    with pytest.raises(ValueError, match="closed"):
        pickle.dumps(f)


def test_unclosed_file_is_freed_without_the_garbage_collector(tmp_path):
    """No reference cycle through the file: dropping the last reference to a file
    that was never closed frees it (and unmaps it) at once, even with the collector off."""
    import gc
    import weakref

    from dicomframes.testing import make_dicom

    path = tmp_path / "f.dcm"
    path.write_bytes(make_dicom(np.arange(3 * 64 * 64, dtype=np.uint16).reshape(3, 64, 64)
                                + 1, frames=3, extra={"RescaleSlope": 2, "RescaleIntercept": 1}))
    enabled = gc.isenabled()
    gc.disable()
    try:
        f = dicomframes.open(path)
        f.value("Rows"), f.dataset, f.describe(), f.frames(), f.frame(1, rescale=True)
        ref = weakref.ref(f)
        del f
        assert ref() is None
    finally:
        if enabled:
            gc.enable()
