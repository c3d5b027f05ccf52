"""``dicomframes.read_frames``: a series of files stacked into one array.

A generated 50-file series of single-frame files with shuffled names: read in the given
order, by Instance Number and by position along the slice normal (an oblique orientation,
with instance numbers deliberately not in spatial order), with 1, 2 and 8 threads, into
``out=``, from paths, bytes and open DicomFiles; every frame equals pydicom's pixel_array of
its file. Mismatched shapes or dtypes raise MismatchError naming the first file that
differs; a corrupt file's error names the file.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

import dicomframes
from dicomframes import DicomFramesError, MismatchError, read_frames

pydicom = pytest.importorskip("pydicom")
from dicomframes.testing import make_dicom  # noqa: E402

COUNT = 50
ROW = np.array([1.0, 0.0, 0.0])
COLUMN = np.array([0.0, np.cos(0.3), -np.sin(0.3)])  # oblique: tilted about x
NORMAL = np.cross(ROW, COLUMN)


def slice_file(slot: int, instance: int, *, shape=(12, 10), dtype=np.int16,
               slope: float = 1.0, intercept: float = 0.0) -> bytes:
    rng = np.random.default_rng(slot)
    arr = rng.integers(-2000, 2000, shape).astype(dtype)
    origin = np.array([-50.0, 20.0, 7.5])
    position = origin + 2.5 * slot * NORMAL
    return make_dicom(arr, extra={
        "InstanceNumber": instance,
        "ImagePositionPatient": [f"{v:.6f}" for v in position],
        "ImageOrientationPatient": [f"{v:.6f}" for v in (*ROW, *COLUMN)],
        "RescaleSlope": slope, "RescaleIntercept": intercept})


@pytest.fixture(scope="module")
def series(tmp_path_factory) -> dict:
    """50 files; slot s is at distance 2.5*s along the normal; instance numbers are a
    permutation of the slots; file names are random and the listing is shuffled."""
    folder = tmp_path_factory.mktemp("series")
    rng = random.Random(7)
    instances = list(range(1, COUNT + 1))
    rng.shuffle(instances)
    paths, slot_of = [], {}
    for slot in range(COUNT):
        path = folder / f"{rng.getrandbits(64):016x}.dcm"
        path.write_bytes(slice_file(slot, instances[slot], slope=0.5 + slot, intercept=-1024))
        paths.append(path)
        slot_of[path] = slot
    rng.shuffle(paths)
    pixels = {p: pydicom.dcmread(p).pixel_array for p in paths}
    instance_of = {p: instances[slot_of[p]] for p in paths}
    return {"paths": paths, "slot": slot_of, "instance": instance_of, "pixels": pixels}


@pytest.mark.parametrize("threads", [1, 2, 8])
@pytest.mark.parametrize("sort", [None, "instance", "position"])
def test_series_order_and_values(series, sort, threads):
    paths = series["paths"]
    if sort == "instance":
        order = sorted(paths, key=series["instance"].__getitem__)
    elif sort == "position":
        order = sorted(paths, key=series["slot"].__getitem__)
    else:
        order = paths
    expected = np.stack([series["pixels"][p] for p in order])
    got = read_frames(paths, sort=sort, threads=threads)
    np.testing.assert_array_equal(got, expected)
    out = np.empty_like(expected)
    assert read_frames([str(p) for p in paths], sort=sort, threads=threads, out=out) is out
    np.testing.assert_array_equal(out, expected)


def test_position_order_is_not_instance_order(series):
    # Otherwise the sort test could not tell the keys apart.
    by_instance = sorted(series["paths"], key=series["instance"].__getitem__)
    by_position = sorted(series["paths"], key=series["slot"].__getitem__)
    assert by_instance != by_position


def test_sources_of_every_kind(series):
    paths = series["paths"][:6]
    opened = [dicomframes.open(p) for p in paths[:2]]
    sources = [*opened, paths[2].read_bytes(), str(paths[3]), *paths[4:]]
    got = read_frames(sources, threads=2)
    np.testing.assert_array_equal(got, np.stack([series["pixels"][p] for p in paths]))
    assert not any(f.closed for f in opened), "caller's files must stay open"
    for f in opened:
        f.close()


def test_rescale_per_file(series):
    from pydicom.pixels import apply_rescale

    paths = series["paths"][:8]
    got = read_frames(paths, rescale=True, threads=2)
    assert got.dtype == np.float32
    for position, path in enumerate(paths):
        ds = pydicom.dcmread(path)
        expected = apply_rescale(ds.pixel_array, ds).astype(np.float32)
        np.testing.assert_array_equal(got[position], expected)


def test_multi_frame_files_contribute_every_frame(tmp_path):
    a = np.arange(3 * 4 * 5, dtype=np.uint16).reshape(3, 4, 5)
    b = a[:2] + 1000
    (tmp_path / "a.dcm").write_bytes(make_dicom(a, frames=3))
    (tmp_path / "b.dcm").write_bytes(make_dicom(b, frames=2))
    got = read_frames([tmp_path / "b.dcm", tmp_path / "a.dcm"], threads=2)
    np.testing.assert_array_equal(got, np.concatenate([b, a]))


CHANGES = {"shape": {"shape": (12, 11)}, "dtype": {"dtype": np.uint8},
           "samples": {"shape": (12, 10, 3), "dtype": np.uint8}}


@pytest.mark.parametrize("change", list(CHANGES))
def test_mismatch_names_the_first_differing_file(tmp_path, change):
    paths = []
    for i in range(4):
        path = tmp_path / f"{i}.dcm"
        path.write_bytes(slice_file(i, i + 1, **(CHANGES[change] if i >= 2 else {})))
        paths.append(path)
    with pytest.raises(MismatchError) as info:
        read_frames(paths)
    assert str(paths[2]) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_corrupt_file_is_named(tmp_path, series):
    bad = tmp_path / "bad.dcm"
    data = series["paths"][0].read_bytes()
    bad.write_bytes(data[: len(data) - 40])  # the last frame is cut short
    with pytest.raises(DicomFramesError) as info:
        read_frames([*series["paths"][:3], bad], threads=2)
    assert str(bad) in str(info.value)


def test_sort_needs_its_attributes(tmp_path):
    path = tmp_path / "plain.dcm"
    path.write_bytes(make_dicom(np.zeros((4, 4), np.uint16)))
    for sort in ("instance", "position"):
        with pytest.raises(DicomFramesError, match=str(path).replace("\\", "\\\\")):
            read_frames([path, path], sort=sort)
    bad = tmp_path / "two_numbers.dcm"
    bad.write_bytes(make_dicom(np.zeros((4, 4), np.uint16), extra={
        "ImagePositionPatient": ["1", "2"],
        "ImageOrientationPatient": ["1", "0", "0", "0", "1", "0"]}))
    with pytest.raises(DicomFramesError, match=r"\(0020,0032\)") as info:
        read_frames([bad, path], sort="position")
    with dicomframes.open(bad) as f:
        assert info.value.offset == f.dataset.value_offset(0x00200032) is not None
    with pytest.raises(ValueError, match="sort"):
        read_frames([path], sort="name")
    with pytest.raises(ValueError):
        read_frames([])


def test_out_is_validated(series):
    paths = series["paths"][:3]
    with pytest.raises(ValueError, match="shape"):
        read_frames(paths, out=np.empty((2, 12, 10), np.int16))
    with pytest.raises(ValueError, match="dtype"):
        read_frames(paths, out=np.empty((3, 12, 10), np.uint16))


def test_files_opened_here_are_closed(series, monkeypatch):
    seen: list[dicomframes.DicomFile] = []
    real_open = dicomframes.series.open

    def spy(source):
        f = real_open(source)
        seen.append(f)
        return f

    monkeypatch.setattr(dicomframes.series, "open", spy)
    read_frames(series["paths"][:5], threads=2)
    assert len(seen) == 5 and all(f.closed for f in seen)
