"""``dicomframes.dask``: lazy Dask arrays of a series and of one multi-frame file.

A shuffled 50-file series (random names, instance numbers a permutation of the slots,
an oblique orientation) read by ``read_series`` equals ``read_frames`` in the given
order and with both sort keys, computed by the threaded scheduler and by a 2-process
``LocalCluster``; ``read_frames_array`` equals ``frames()``; damaged files are named in
the error (at header time and at compute time); the tasks carry paths and options only
and pickle small.
"""

from __future__ import annotations

import os
import pickle
import random

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
pytest.importorskip("pydicom")

import dicomframes  # noqa: E402
from dicomframes import DicomFramesError, MismatchError, read_frames  # noqa: E402
from dicomframes.dask import read_frames_array, read_series  # noqa: E402
from dicomframes.testing import make_dicom  # noqa: E402

COUNT = 50
ROW = np.array([1.0, 0.0, 0.0])
COLUMN = np.array([0.0, np.cos(0.3), -np.sin(0.3)])
NORMAL = np.cross(ROW, COLUMN)
RLE_LOSSLESS = "1.2.840.10008.1.2.5"


def slice_file(slot: int, instance: int, *, shape=(12, 10), dtype=np.int16) -> bytes:
    arr = np.random.default_rng(slot).integers(-2000, 2000, shape).astype(dtype)
    position = np.array([-50.0, 20.0, 7.5]) + 2.5 * slot * NORMAL
    return make_dicom(arr, extra={
        "InstanceNumber": instance,
        "ImagePositionPatient": [f"{v:.6f}" for v in position],
        "ImageOrientationPatient": [f"{v:.6f}" for v in (*ROW, *COLUMN)],
        "RescaleSlope": 0.5 + slot, "RescaleIntercept": -1024})


@pytest.fixture(scope="module")
def series(tmp_path_factory) -> list:
    folder = tmp_path_factory.mktemp("dask-series")
    rng = random.Random(11)
    instances = list(range(1, COUNT + 1))
    rng.shuffle(instances)
    paths = []
    for slot in range(COUNT):
        path = folder / f"{rng.getrandbits(64):016x}.dcm"
        path.write_bytes(slice_file(slot, instances[slot]))
        paths.append(path)
    rng.shuffle(paths)
    return paths


@pytest.fixture(scope="module")
def multiframe(tmp_path_factory):
    path = tmp_path_factory.mktemp("dask-multi") / "multi.dcm"
    arr = np.random.default_rng(3).integers(0, 4000, (37, 16, 20)).astype(np.uint16)
    path.write_bytes(make_dicom(arr, frames=37, compress=RLE_LOSSLESS))
    return path


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                           dashboard_address=None, silence_logs=40)
    try:
        with Client(cluster, timeout="30s") as c:
            yield c
    finally:
        cluster.close(timeout=20)


@pytest.mark.parametrize("sort", [None, "instance", "position"])
@pytest.mark.parametrize("chunks", [1, 7, "auto"])
def test_series_threaded_equals_read_frames(series, sort, chunks):
    expected = read_frames(series, sort=sort)
    array = read_series(series, sort=sort, chunks=chunks)
    assert array.shape == expected.shape and array.dtype == expected.dtype
    if chunks == 7:
        assert array.chunks[0] == (7,) * 7 + (1,)
    np.testing.assert_array_equal(array.compute(scheduler="threads"), expected)


@pytest.mark.parametrize("sort", ["instance", "position"])
def test_series_distributed_equals_read_frames(series, client, sort):
    pids = set(client.run(os.getpid).values())  # two worker processes, not this one
    assert len(pids) == 2 and os.getpid() not in pids
    for rescale in (False, True):
        expected = read_frames(series, sort=sort, rescale=rescale)
        array = read_series([str(p) for p in series], sort=sort, rescale=rescale, chunks=6)
        got = client.compute(array).result(timeout=60)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


def test_series_sources_of_other_kinds(series):
    expected = read_frames(series[:5], sort="instance")
    with dicomframes.open(series[0]) as first:
        sources = [first, series[1].read_bytes(), *map(str, series[2:5])]
        array = read_series(sources, sort="instance", chunks=2)
    # The open file was turned into its path: the graph holds no open file.
    np.testing.assert_array_equal(array.compute(scheduler="threads"), expected)


def test_series_rescale_and_slicing(series):
    expected = read_frames(series, sort="position", rescale=True)
    array = read_series(series, sort="position", rescale=True, chunks=4)
    assert array.dtype == np.float32
    np.testing.assert_array_equal(array[10:20, 3].compute(scheduler="threads"),
                                  expected[10:20, 3])


def test_frames_array_equals_frames(multiframe, client):
    with dicomframes.open(multiframe) as f:
        expected = f.frames()
        rescaled = f.frames(rescale=True)
    array = read_frames_array(multiframe, chunks=5)
    assert array.chunks[0] == (5,) * 7 + (2,)
    np.testing.assert_array_equal(array.compute(scheduler="threads"), expected)
    np.testing.assert_array_equal(client.compute(array).result(timeout=60), expected)
    np.testing.assert_array_equal(
        read_frames_array(str(multiframe), rescale=True).compute(scheduler="threads"), rescaled)


def test_multi_frame_files_in_a_series(multiframe, tmp_path):
    other = tmp_path / "other.dcm"
    arr = np.arange(3 * 16 * 20, dtype=np.uint16).reshape(3, 16, 20)
    other.write_bytes(make_dicom(arr, frames=3))
    expected = read_frames([multiframe, other, multiframe])
    # Chunks of 6 cut across file boundaries (37 + 3 + 37 frames).
    array = read_series([multiframe, other, multiframe], chunks=6)
    np.testing.assert_array_equal(array.compute(scheduler="threads"), expected)


def test_graph_carries_paths_and_pickles_small(series, multiframe):
    for array in (read_series(series, sort="position", chunks=10),
                  read_frames_array(multiframe, chunks=4)):
        graph = dict(array.__dask_graph__())
        assert len(graph) == len(array.chunks[0])
        for task in graph.values():
            size = len(pickle.dumps(task))
            assert size < 4096, size
            assert "DicomFile" not in repr(task)


def test_damaged_file_named_when_reading_headers(tmp_path, series):
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\xff\xff")
    with pytest.raises(DicomFramesError) as info:
        read_series([*series[:3], bad])
    assert str(bad) in str(info.value)


def test_damaged_file_named_when_computing(tmp_path, series, client):
    bad = tmp_path / "later.dcm"
    data = series[0].read_bytes()
    bad.write_bytes(data)
    array = read_series([*series[1:4], bad], chunks=2)
    bad.write_bytes(data[: len(data) - 40])  # cut short after the graph was made
    with pytest.raises(DicomFramesError) as info:
        array.compute(scheduler="threads")
    assert str(bad) in str(info.value)
    with pytest.raises(DicomFramesError) as info:
        client.compute(array).result(timeout=60)
    assert str(bad) in str(info.value)


def test_mismatch_and_arguments(tmp_path, series):
    odd = tmp_path / "odd.dcm"
    odd.write_bytes(slice_file(0, 1, shape=(8, 10)))
    with pytest.raises(MismatchError) as info:
        read_series([*series[:2], odd])
    assert str(odd) in str(info.value)
    with pytest.raises(ValueError):
        read_series(series, sort="name")
    with pytest.raises(ValueError):
        read_series([])
    with pytest.raises(ValueError):
        read_series(series, chunks=0)
    with pytest.raises(ValueError):
        read_series(series, chunks=(10, 10))
    assert read_series(series, chunks=(20, 30)).chunks[0] == (20, 30)
