"""``rescale=True``: the Modality LUT's Rescale Slope / Intercept applied in C, as float32.

Reference: pydicom's ``apply_rescale`` (float64) on the same frame, cast to float32; the
values must be identical, not merely close. For enhanced multi-frame objects the slope and
intercept of frame k come from its Per-frame Functional Groups item, else the Shared one,
else the top level (the test reads them with pydicom and applies pydicom's function with
them). Checked over every decodable corpus file, on generated native / big-endian /
RLE / non-canonical files, through ``frame``, ``frames(threads=)`` and ``read_frames``.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

import dicomframes

pydicom = pytest.importorskip("pydicom")
from pydicom.dataset import Dataset  # noqa: E402
from pydicom.pixels import apply_rescale  # noqa: E402

from dicomframes.testing import make_dicom  # noqa: E402

RLE = "1.2.840.10008.1.2.5"
BIG_ENDIAN = "1.2.840.10008.1.2.2"


def pydicom_pair(ds) -> tuple | None:
    if "RescaleSlope" in ds and "RescaleIntercept" in ds:
        return ds.RescaleSlope, ds.RescaleIntercept
    return None


def group_pair(groups, index: int) -> tuple | None:
    if not groups or index >= len(groups):
        return None
    item = groups[index]
    if "PixelValueTransformationSequence" not in item:
        return None
    transformations = item.PixelValueTransformationSequence
    return pydicom_pair(transformations[0]) if len(transformations) else None


def expected_rescale(ds, frame: np.ndarray, k: int) -> np.ndarray:
    if ds.get("ModalityLUTSequence"):
        return np.asarray(apply_rescale(frame, ds)).astype(np.float32)
    pair = (group_pair(ds.get("PerFrameFunctionalGroupsSequence"), k)
            or group_pair(ds.get("SharedFunctionalGroupsSequence"), 0)
            or pydicom_pair(ds))
    proxy = Dataset()
    if pair is not None:
        proxy.RescaleSlope, proxy.RescaleIntercept = pair
    return np.asarray(apply_rescale(frame, proxy)).astype(np.float32)


def check_file(source, ds, *, threads=(1, 2)) -> None:
    with dicomframes.open(source) as f:
        plain = f.frames(threads=1)
        expected = np.stack([expected_rescale(ds, plain[k], k) for k in range(len(f))])
        for k in range(len(f)):
            got = f.frame(k, rescale=True)
            assert got.dtype == np.float32 and got.shape == f.frame_shape
            np.testing.assert_array_equal(got, expected[k], err_msg=f"frame {k}")
        for t in threads:
            np.testing.assert_array_equal(f.frames(rescale=True, threads=t), expected)


@pytest.mark.corpus("pixels", max_size=1 << 20)
def test_corpus_rescale_equals_pydicom(corpus_entry, corpus_dir):
    path = corpus_dir / corpus_entry["file"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        except Exception as exc:  # files pydicom cannot parse are covered elsewhere
            pytest.skip(f"pydicom cannot read the header: {exc}")
    check_file(path, ds)


def enhanced(shared: tuple | None, per_frame: list[tuple | None], top: tuple | None,
             *, dtype=np.int16, compress=None) -> tuple[bytes, Dataset]:
    frames = len(per_frame)
    rng = np.random.default_rng(frames)
    arr = rng.integers(-1000, 3000, (frames, 9, 11)).astype(dtype)

    def transform(pair):
        item = Dataset()
        if pair is not None:
            t = Dataset()
            t.RescaleSlope, t.RescaleIntercept = pair
            t.RescaleType = "HU"
            item.PixelValueTransformationSequence = [t]
        return item

    extra = {"PerFrameFunctionalGroupsSequence": [transform(p) for p in per_frame]}
    if shared is not None:
        extra["SharedFunctionalGroupsSequence"] = [transform(shared)]
    if top is not None:
        extra["RescaleSlope"], extra["RescaleIntercept"] = top
    data = make_dicom(arr, frames=frames, extra=extra, compress=compress)
    return data, pydicom.dcmread(io.BytesIO(data))


@pytest.mark.parametrize("case", [
    dict(shared=(2.5, -1024), per_frame=[None, None, None], top=None),
    dict(shared=None, per_frame=[(1, 0), (0.25, 7.125), (3, -2)], top=None),
    dict(shared=(2, 1), per_frame=[(0.5, 3), None, (1e-3, 1e6)], top=(9, 9)),
    dict(shared=None, per_frame=[None, None], top=(1.5, -0.5)),
    dict(shared=None, per_frame=[None, None], top=None),
], ids=["shared", "per-frame", "mixed", "top-level", "none"])
@pytest.mark.parametrize("compress", [None, RLE], ids=["native", "rle"])
def test_functional_groups(case, compress):
    data, ds = enhanced(**case, compress=compress)
    check_file(data, ds, threads=(1, 2, 8))


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int16, np.uint32,
                                   np.int32])
@pytest.mark.parametrize("syntax", [None, BIG_ENDIAN], ids=["le", "be"])
def test_every_integer_type(dtype, syntax):
    info = np.iinfo(dtype)
    arr = np.random.default_rng(3).integers(info.min, info.max, (3, 5, 7), dtype=dtype,
                                            endpoint=True)
    kwargs = {"syntax": syntax} if syntax else {}
    data = make_dicom(arr, frames=3, extra={"RescaleSlope": "0.3333", "RescaleIntercept":
                                            "-12.75"}, **kwargs)
    check_file(data, pydicom.dcmread(io.BytesIO(data)))


def test_unused_bits_are_corrected_before_rescaling():
    arr = np.full((2, 4, 4), 0xF00F, np.uint16)  # bits above Bits Stored (12) set
    data = make_dicom(arr, frames=2, bits_stored=12,
                      extra={"RescaleSlope": 2, "RescaleIntercept": 1})
    with dicomframes.open(data) as f:
        np.testing.assert_array_equal(f.frame(0, rescale=True), np.float32(0x00F * 2 + 1))
    with dicomframes.open(data, correct_unused_bits=False) as f:
        np.testing.assert_array_equal(f.frame(0, rescale=True), np.float32(0xF00F * 2 + 1))


def test_out_and_read_frames():
    data, ds = enhanced(shared=None, per_frame=[(2, 0), (3, 1)], top=None)
    with dicomframes.open(data) as f:
        out = np.empty((2, 9, 11), np.float32)
        assert f.frames(rescale=True, out=out) is out
        with pytest.raises(ValueError, match="dtype"):
            f.frame(0, rescale=True, out=np.empty((9, 11), np.int16))
        np.testing.assert_array_equal(dicomframes.read_frames([data, f], rescale=True),
                                      np.concatenate([out, out]))


def lut_file(*, ow: bool, first: int, syntax=None, depth: int = 16) -> tuple[bytes, Dataset]:
    rng = np.random.default_rng(first + 100)
    # A negative first mapped value goes with signed data (pydicom overflows otherwise).
    arr = rng.integers(-50 if first < 0 else 0, 600, (2, 8, 9)).astype(
        np.int16 if first < 0 else np.uint16)
    table = rng.integers(0, 1 << depth, 500).astype(np.uint16)
    lut = Dataset()
    lut.add_new(0x00283002, "SS" if first < 0 else "US", [len(table), first, depth])
    lut.ModalityLUTType = "HU"
    if ow:
        order = ">" if syntax == BIG_ENDIAN else "<"
        lut.add_new(0x00283006, "OW", table.astype(f"{order}u2").tobytes())
    else:
        lut.add_new(0x00283006, "US", table.tolist())
    kwargs = {"syntax": syntax} if syntax else {}
    data = make_dicom(arr, frames=2, extra={"ModalityLUTSequence": [lut]}, **kwargs)
    return data, pydicom.dcmread(io.BytesIO(data))


@pytest.mark.parametrize("ow", [False, True], ids=["US", "OW"])
@pytest.mark.parametrize("syntax", [None, BIG_ENDIAN], ids=["le", "be"])
@pytest.mark.parametrize("first", [0, 100, -20])
def test_modality_lut_sequence_equals_pydicom(ow, syntax, first):
    # Stored values run from 0 (-50) to 599 against a 500-entry table starting at `first`:
    # both ends are clipped as pydicom clips them.
    data, ds = lut_file(ow=ow, first=first, syntax=syntax)
    check_file(data, ds)


def test_bad_modality_lut_raises():
    lut = Dataset()
    lut.LUTDescriptor = [4, 0, 16]
    lut.add_new(0x00283006, "US", [0, 10])  # fewer entries than the descriptor says
    data = make_dicom(np.zeros((4, 4), np.uint16), extra={"ModalityLUTSequence": [lut]})
    with dicomframes.open(data) as f:
        with pytest.raises(dicomframes.MalformedError, match="LUT Data") as info:
            f.frame(0, rescale=True)
        assert info.value.tag == 0x00283006
        assert info.value.offset == f.value(0x00283000)[0].value_offset(0x00283006)
        assert f"at offset {info.value.offset}" in str(info.value)
        f.frame(0)  # without rescale it decodes


@pytest.mark.parametrize("descriptor, error", [
    ([4, 0, 12], dicomframes.UnsupportedError),   # 12-bit entries
    ([4, 0], dicomframes.MalformedError),         # two numbers
])
def test_unusable_lut_descriptor_raises(descriptor, error):
    lut = Dataset()
    lut.add_new(0x00283002, "US", descriptor)
    lut.add_new(0x00283006, "US", [0, 10, 20, 30])
    data = make_dicom(np.zeros((4, 4), np.uint16), extra={"ModalityLUTSequence": [lut]})
    with dicomframes.open(data) as f:
        with pytest.raises(error, match=r"\(0028,3002\)") as info:
            f.frame(0, rescale=True)
        assert info.value.tag == 0x00283002
        assert info.value.offset == f.value(0x00283000)[0].value_offset(0x00283002) is not None
