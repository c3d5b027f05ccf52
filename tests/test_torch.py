"""dicomframes.torch.FrameDataset: indexing over multi- and single-frame files, items equal
to DicomFile.frame and to pydicom's pixel_array, memory shared between tensor and decoded
array, DataLoader batches with 0 and 2 workers (fork and spawn), pickling, the per-process
reopening of files, transform and rescale, folder discovery and argument errors.

The files are written with pydicom into a tmp folder (native multi-frame, native single
frame, RLE multi-frame, plus non-DICOM and pixel-less files that discovery must skip);
the committed samples/ are used for the pydicom comparisons. Skips without torch.
"""

from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pydicom = pytest.importorskip("pydicom")
from pydicom.uid import RLELossless  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

import dicomframes  # noqa: E402
from dicomframes import DicomFile, DicomFramesError  # noqa: E402
from dicomframes.testing import dicom_bytes, make_dicom, new_dataset  # noqa: E402
from dicomframes.torch import FrameDataset, dicom_files  # noqa: E402

ROWS, COLS = 64, 72
SAMPLES = Path(__file__).resolve().parents[1] / "samples"


# --------------------------------------------------------------------------------------
# test files
# --------------------------------------------------------------------------------------


def write_dicom(path: Path, arr: np.ndarray | None, *, frames: bool = True,
                rle: bool = False, slope: float | None = None,
                intercept: float | None = None) -> np.ndarray | None:
    """Write `arr` ((n, rows, cols) with `frames`, else (rows, cols); u2 (12 bits stored)
    or i2) as a DICOM file with pydicom; `arr` None writes a file without Pixel Data."""
    if arr is None:
        ds = new_dataset(entropy=str(path))
        ds.PatientName = "Test^Torch"
        path.write_bytes(dicom_bytes(ds))
        return None
    extra = {} if slope is None else {"RescaleSlope": slope, "RescaleIntercept": intercept}
    path.write_bytes(make_dicom(arr, frames=arr.shape[0] if frames else None,
                                bits_stored=12 if arr.dtype == np.uint16 else None,
                                extra=extra, compress=RLELossless if rle else None))
    return arr


def noise(shape, seed, dtype=np.uint16, high=4095) -> np.ndarray:
    rng = np.random.default_rng(seed)
    low = -1024 if dtype == np.int16 else 0
    return rng.integers(low, high, size=shape, endpoint=True, dtype=dtype)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> tuple[Path, dict[str, np.ndarray]]:
    """A folder of three DICOM files of 64 x 72 uint16 frames (10 native frames, memory
    mapped; 1 native frame; 3 RLE frames), a file without Pixel Data, a DICOM file without
    preamble, a text file and a subfolder. Returns (folder, {name: frames stacked})."""
    root = tmp_path_factory.mktemp("dicom_folder")
    arrays = {
        "a_multi.dcm": write_dicom(root / "a_multi.dcm", noise((10, ROWS, COLS), 1),
                                   slope=0.5, intercept=-100.0),
        "b_single.dcm": write_dicom(root / "b_single.dcm", noise((ROWS, COLS), 2),
                                    frames=False)[None],
        "c_rle.dcm": write_dicom(root / "c_rle.dcm", noise((3, ROWS, COLS), 3), rle=True),
    }
    assert (root / "a_multi.dcm").stat().st_size > 64 * 1024  # mapped, not read
    write_dicom(root / "d_no_pixels.dcm", None)
    write_dicom(root / "e_tmp.dcm", noise((2, ROWS, COLS), 4))
    headless = (root / "e_tmp.dcm").read_bytes()[132:]  # no preamble, no "DICM"
    (root / "e_tmp.dcm").unlink()
    (root / "e_no_preamble.dcm").write_bytes(headless)
    (root / "notes.txt").write_text("not DICOM\n" * 20)
    (root / "sub").mkdir()
    write_dicom(root / "sub" / "nested.dcm", noise((2, ROWS, COLS), 5))
    return root, arrays


def expected_items(root: Path, arrays: dict[str, np.ndarray]) -> list[tuple[str, int]]:
    return [(str(root / name), k) for name in sorted(arrays) for k in range(len(arrays[name]))]


# --------------------------------------------------------------------------------------
# discovery, length, indexing
# --------------------------------------------------------------------------------------


def test_folder_discovery_by_magic(folder):
    root, arrays = folder
    found = dicom_files(root)
    names = [os.path.basename(p) for p in found]
    # by name; no text file, no preamble-less file, no subfolder; pixel-less file found
    assert names == ["a_multi.dcm", "b_single.dcm", "c_rle.dcm", "d_no_pixels.dcm"]


def test_length_and_frame_index_over_a_folder(folder):
    root, arrays = folder
    ds = FrameDataset(root)
    expected = expected_items(root, arrays)
    assert len(ds) == 14 == len(expected)
    assert [ds.frame_index(i) for i in range(len(ds))] == expected
    assert ds.frame_index(-1) == expected[-1]
    assert ds.frame_index(-14) == expected[0]
    assert ds.paths == [str(root / n) for n in sorted(arrays)]  # the pixel-less file adds none
    for bad in (14, -15):
        with pytest.raises(IndexError):
            ds.frame_index(bad)
        with pytest.raises(IndexError):
            ds[bad]
    assert repr(ds) == ("<dicomframes.torch.FrameDataset: 14 frames from 3 files, "
                        "frames='all', rescale=False>")


def test_items_equal_the_written_frames_and_dicomframes(folder):
    root, arrays = folder
    ds = FrameDataset(root)
    for i in range(len(ds)):
        path, k = ds.frame_index(i)
        item = ds[i]
        assert isinstance(item, torch.Tensor)
        assert item.dtype == torch.uint16 and tuple(item.shape) == (ROWS, COLS)
        np.testing.assert_array_equal(item.numpy(), arrays[os.path.basename(path)][k])
        with dicomframes.open(path) as f:
            np.testing.assert_array_equal(item.numpy(), f.frame(k))
    assert ds[-1].numpy().tolist() == ds[len(ds) - 1].numpy().tolist()
    assert ds[np.int64(3)].equal(ds[3])


def test_paths_sequence_and_single_file(folder):
    root, arrays = folder
    paths = [root / "c_rle.dcm", str(root / "a_multi.dcm"), root / "e_no_preamble.dcm"]
    ds = FrameDataset(paths)  # order kept; a preamble-less file is fine by path
    assert len(ds) == 3 + 10 + 2
    assert ds.frame_index(0) == (str(root / "c_rle.dcm"), 0)
    assert ds.frame_index(3) == (str(root / "a_multi.dcm"), 0)
    assert ds.frame_index(14) == (str(root / "e_no_preamble.dcm"), 1)
    np.testing.assert_array_equal(ds[14].numpy(), noise((2, ROWS, COLS), 4)[1])
    one = FrameDataset(root / "a_multi.dcm")
    assert len(one) == 10 and one.paths == [str(root / "a_multi.dcm")]
    assert len(FrameDataset([])) == 0


def test_frame_selectors(folder):
    root, arrays = folder
    names = sorted(arrays)
    first = FrameDataset(root, frames=0)
    assert [first.frame_index(i) for i in range(len(first))] == [
        (str(root / n), 0) for n in names]
    last = FrameDataset(root, frames=-1)
    assert [last.frame_index(i) for i in range(len(last))] == [
        (str(root / n), len(arrays[n]) - 1) for n in names]
    np.testing.assert_array_equal(last[0].numpy(), arrays["a_multi.dcm"][9])

    calls = []

    def every_other(path, n):
        calls.append((os.path.basename(path), n))
        return np.arange(0, n, 2)[::-1]  # any order, numpy ints

    picked = FrameDataset(root, frames=every_other)
    # called once per file with pixels (never for the pixel-less one)
    assert calls == [("a_multi.dcm", 10), ("b_single.dcm", 1), ("c_rle.dcm", 3)]
    assert [picked.frame_index(i)[1] for i in range(len(picked))] == [8, 6, 4, 2, 0, 0, 2, 0]
    assert "frames=every_other" in repr(picked)
    none_from_single = FrameDataset(root, frames=lambda p, n: [] if n == 1 else [-1])
    assert none_from_single.paths == [str(root / "a_multi.dcm"), str(root / "c_rle.dcm")]


def test_bad_arguments(folder, tmp_path):
    root, _ = folder
    with pytest.raises(IndexError, match="b_single.dcm"):
        FrameDataset(root, frames=1)  # b_single has one frame
    with pytest.raises(IndexError):
        FrameDataset(root, frames=lambda p, n: [n])
    with pytest.raises(TypeError):
        FrameDataset(root, frames=lambda p, n: [0.5])
    with pytest.raises(ValueError):
        FrameDataset(root, frames="first")
    with pytest.raises(TypeError):
        FrameDataset(root, frames=1.0)
    with pytest.raises(TypeError):
        FrameDataset(root, frames=True)
    with pytest.raises(ValueError):
        FrameDataset(root, max_open_files=0)
    with pytest.raises(FileNotFoundError):
        FrameDataset(tmp_path / "missing")
    with pytest.raises(DicomFramesError):
        FrameDataset([root / "notes.txt"])  # given by path: must be DICOM


# --------------------------------------------------------------------------------------
# against pydicom
# --------------------------------------------------------------------------------------


SAMPLE_FILES = ["mf_gray8.dcm", "implicit_uint16.dcm", "be_uint16.dcm", "rgb_planar.dcm",
                "seg_bits1.dcm", "deflated_gray8.dcm", "ct_int16.dcm"]


def test_items_equal_pydicom_pixel_array(folder):
    root, arrays = folder
    paths = [SAMPLES / name for name in SAMPLE_FILES if (SAMPLES / name).is_file()]
    paths += [root / name for name in sorted(arrays)]
    ds = FrameDataset(paths)
    references = {}
    for i in range(len(ds)):
        path, k = ds.frame_index(i)
        if path not in references:
            ref = pydicom.dcmread(path).pixel_array
            with dicomframes.open(path) as f:
                references[path] = ref if f.number_of_frames > 1 else ref[None]
        item = ds[i].numpy()
        ref = references[path][k]
        assert item.shape == ref.shape and item.dtype == ref.dtype.newbyteorder("=")
        np.testing.assert_array_equal(item, ref)
    assert len(references) == len(paths)


def test_rescale_equals_pydicom_apply_rescale(folder):
    root, arrays = folder
    from pydicom.pixels import apply_rescale

    paths = [root / "a_multi.dcm", root / "b_single.dcm"]
    if (SAMPLES / "ct_int16.dcm").is_file():
        paths.append(SAMPLES / "ct_int16.dcm")
    ds = FrameDataset(paths, rescale=True)
    assert "rescale=True" in repr(ds)
    for i in range(len(ds)):
        path, k = ds.frame_index(i)
        source = pydicom.dcmread(path)
        pixels = source.pixel_array
        frame = pixels[k] if getattr(source, "NumberOfFrames", 1) > 1 else pixels
        expected = apply_rescale(frame, source)
        item = ds[i]
        assert item.dtype == torch.float32
        np.testing.assert_allclose(item.numpy(), expected, rtol=1e-6)
    # a_multi.dcm has slope 0.5, intercept -100: not the stored values
    np.testing.assert_array_equal(ds[0].numpy(),
                                  arrays["a_multi.dcm"][0].astype(np.float32) * 0.5 - 100)


# --------------------------------------------------------------------------------------
# tensors and memory
# --------------------------------------------------------------------------------------


def test_tensor_shares_the_decoded_array_and_is_safely_writable(folder, monkeypatch):
    root, arrays = folder
    ds = FrameDataset(root)
    decoded = []
    original = DicomFile.frame

    def recording_frame(self, *args, **kwargs):
        array = original(self, *args, **kwargs)
        decoded.append(array)
        return array

    monkeypatch.setattr(DicomFile, "frame", recording_frame)
    for i in (0, 9, 10, 12):  # mapped native, read native, RLE
        decoded.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # e.g. torch's "non-writable array" warning
            item = ds[i]
        (array,) = decoded
        # zero copy after decoding: the tensor's storage is the decoder's array
        assert item.data_ptr() == array.ctypes.data
        assert np.shares_memory(item.numpy(), array)
        # ... and that array is the dataset's own, not a view of the file's mapping
        assert array.flags.writeable and array.flags.owndata
        before = item.clone()
        item.fill_(7)  # in-place transforms must be safe (uint16 has no add_ in torch)
        assert ds[i].equal(before)


def test_transform(folder):
    root, arrays = folder
    ds = FrameDataset(root, transform=scale_to_unit)
    plain = FrameDataset(root)
    for i in (0, 10, 13):
        item = ds[i]
        assert item.dtype == torch.float32 and item.shape == (1, ROWS, COLS)
        assert item.equal(plain[i].float()[None] / 4095)


def scale_to_unit(t):
    """Module level, so that spawned workers can unpickle it."""
    return t.float()[None] / 4095


# --------------------------------------------------------------------------------------
# processes: pickling, reopening, DataLoader workers
# --------------------------------------------------------------------------------------


def test_pickle_drops_open_files(folder):
    root, arrays = folder
    ds = FrameDataset(root, frames=lambda p, n: range(n))  # the selector is not kept
    items = [ds[i] for i in range(len(ds))]  # opens every file (one memory-mapped)
    assert len(ds._open_files) == 3
    clone = pickle.loads(pickle.dumps(ds))
    assert len(clone._open_files) == 0
    assert len(clone) == len(ds) and repr(clone) == repr(ds)
    for i, item in enumerate(items):
        assert clone[i].equal(item)
    assert len(ds._open_files) == 3  # pickling left the original as it was


def test_files_reopened_in_a_new_process_and_bounded(folder, monkeypatch):
    root, _ = folder
    ds = FrameDataset(root, max_open_files=2)
    path = ds.frame_index(0)[0]
    ds[0]
    mine = ds._file(path)
    assert ds._file(path) is mine  # kept open in this process
    monkeypatch.setattr(os, "getpid", lambda: -12345)  # as seen by a forked child
    theirs = ds._file(path)
    assert theirs is not mine and not mine.closed
    assert list(ds._open_files) == [path]
    for i in range(len(ds)):
        ds[i]
    assert len(ds._open_files) == 2  # least recently used dropped
    ds.close()
    assert len(ds._open_files) == 0
    assert ds[0].equal(torch.from_numpy(mine.frame(0, copy=True)))


def batches(loader) -> list[torch.Tensor]:
    return [batch.clone() for batch in loader]


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_dataloader_workers_give_the_serial_batches(folder, context):
    root, arrays = folder
    ds = FrameDataset(root, transform=scale_to_unit)
    serial = batches(DataLoader(ds, batch_size=4))  # also leaves files open in this process
    assert [tuple(b.shape) for b in serial] == [(4, 1, ROWS, COLS)] * 3 + [(2, 1, ROWS, COLS)]
    expected = np.concatenate([arrays[n] for n in sorted(arrays)]).astype(np.float32) / 4095
    np.testing.assert_array_equal(torch.cat(serial).numpy()[:, 0], expected)
    parallel = batches(DataLoader(ds, batch_size=4, num_workers=2,
                                  multiprocessing_context=context))
    assert len(parallel) == len(serial)
    for a, b in zip(serial, parallel):
        assert a.equal(b)


# --------------------------------------------------------------------------------------
# damaged and undecodable files: found by the constructor, named in every error
# --------------------------------------------------------------------------------------

# MPEG2 Main Profile: a transfer syntax with encapsulated Pixel Data and no decoder here.
MPEG2 = "1.2.840.10008.1.2.4.100"


@pytest.fixture()
def mixed_folder(tmp_path) -> Path:
    """Two good files, a damaged one (its header cut short), one in a syntax we cannot
    decode, and one with a Modality LUT Sequence stored as a number (bad only with
    rescale)."""
    write_dicom(tmp_path / "a_good.dcm", noise((2, ROWS, COLS), 11))
    whole = make_dicom(noise((ROWS, COLS), 12))
    (tmp_path / "b_damaged.dcm").write_bytes(whole[:400])  # inside the data set
    arr = noise((ROWS, COLS), 13)
    (tmp_path / "c_mpeg2.dcm").write_bytes(make_dicom(arr, syntax=MPEG2, encoded=[b"\0" * 64]))
    ds = pydicom.dcmread(__import__("io").BytesIO(make_dicom(noise((ROWS, COLS), 14))))
    ds.add_new(0x00283000, "DS", "1.5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.save_as(tmp_path / "d_bad_lut.dcm", enforce_file_format=True)
    write_dicom(tmp_path / "e_good.dcm", noise((ROWS, COLS), 15), frames=False)
    return tmp_path


def test_damaged_file_raises_in_the_constructor_naming_it(mixed_folder):
    (mixed_folder / "c_mpeg2.dcm").unlink()
    with pytest.raises(DicomFramesError) as info:
        FrameDataset(mixed_folder)
    assert str(mixed_folder / "b_damaged.dcm") in str(info.value)


def test_undecodable_syntax_raises_in_the_constructor_naming_it(mixed_folder):
    (mixed_folder / "b_damaged.dcm").unlink()
    with pytest.raises(dicomframes.UnsupportedTransferSyntaxError) as info:
        FrameDataset(mixed_folder)
    assert str(mixed_folder / "c_mpeg2.dcm") in str(info.value)
    assert "no decoder" in str(info.value)


def test_on_error_skip_lists_the_files_left_out(mixed_folder):
    ds = FrameDataset(mixed_folder, on_error="skip", threads=2)
    assert [os.path.basename(p) for p in ds.paths] == ["a_good.dcm", "d_bad_lut.dcm",
                                                       "e_good.dcm"]
    assert len(ds) == 4
    skipped = dict(ds.skipped)
    assert sorted(os.path.basename(p) for p in skipped) == ["b_damaged.dcm", "c_mpeg2.dcm"]
    assert "no decoder" in skipped[str(mixed_folder / "c_mpeg2.dcm")]
    assert all(isinstance(reason, str) and reason for reason in skipped.values())
    assert repr(ds).endswith("2 files skipped>")
    for i in range(len(ds)):
        assert ds[i].shape == (ROWS, COLS)


def test_rescale_checks_the_modality_lut_in_the_constructor(mixed_folder):
    with pytest.raises(dicomframes.MalformedError) as info:
        FrameDataset([mixed_folder / "a_good.dcm", mixed_folder / "d_bad_lut.dcm"],
                     rescale=True)
    assert str(mixed_folder / "d_bad_lut.dcm") in str(info.value)
    assert "(0028,3000)" in str(info.value)
    ds = FrameDataset(mixed_folder, rescale=True, on_error="skip")
    assert sorted(os.path.basename(p) for p, _ in ds.skipped) == [
        "b_damaged.dcm", "c_mpeg2.dcm", "d_bad_lut.dcm"]
    assert ds[0].dtype == torch.float32


def test_missing_file_raises_naming_it(tmp_path):
    with pytest.raises(OSError) as info:
        FrameDataset([tmp_path / "absent.dcm"])
    assert "absent.dcm" in str(info.value)
    ds = FrameDataset([tmp_path / "absent.dcm"], on_error="skip")
    assert len(ds) == 0 and ds.skipped[0][0] == str(tmp_path / "absent.dcm")


def test_item_errors_name_the_file(tmp_path):
    path = tmp_path / "later_cut.dcm"
    write_dicom(path, noise((3, ROWS, COLS), 16))
    ds = FrameDataset(path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) - ROWS * COLS])  # the last frame now ends early
    ds.close()  # reopened from disk on the next item
    with pytest.raises(DicomFramesError) as info:
        ds[2]
    assert str(path) in str(info.value)


def test_on_error_argument_checked(folder):
    root, _ = folder
    with pytest.raises(ValueError, match="on_error"):
        FrameDataset(root, on_error="ignore")
