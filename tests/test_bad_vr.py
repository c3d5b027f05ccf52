"""Attributes the library interprets, present with the wrong VR or a value of the wrong kind
(issue 11: atheris found a Modality LUT Sequence stored as a number escaping as TypeError /
AttributeError from modality.py on ``rescale=True``).

Every attribute read to rescale (Rescale Slope / Intercept, Modality LUT Sequence, LUT
Descriptor / Data, the functional group sequences and their Pixel Value Transformation
Sequence), to sort a series (Instance Number, Image Position / Orientation (Patient)) or to
describe the pixels is written here with other VRs: opening, describing, decoding with and
without rescale, and sorting must either work or raise a DicomFramesError; where the value
cannot be used, a MalformedError naming the tag.
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom on odd values
pydicom = pytest.importorskip("pydicom")
from pydicom.dataset import Dataset  # noqa: E402
from pydicom.sequence import Sequence  # noqa: E402

import dicomframes  # noqa: E402
from dicomframes import DicomFramesError, MalformedError, read_frames  # noqa: E402
from dicomframes.errors import format_tag  # noqa: E402
from dicomframes.testing import dicom_bytes, make_dataset  # noqa: E402

MODALITY_LUT_SEQUENCE = 0x00283000
LUT_DESCRIPTOR = 0x00283002
LUT_DATA = 0x00283006
RESCALE_INTERCEPT = 0x00281052
RESCALE_SLOPE = 0x00281053
PIXEL_VALUE_TRANSFORMATION = 0x00289145
SHARED_GROUPS = 0x52009229
PER_FRAME_GROUPS = 0x52009230
INSTANCE_NUMBER = 0x00200013
IMAGE_POSITION = 0x00200032
IMAGE_ORIENTATION = 0x00200037

# (VR, value) of the wrong kind for most attributes.
WRONG = [
    ("DS", "1.5"),
    ("LO", "abc"),
    ("LO", "a\\b\\c"),
    ("US", 7),
    ("US", [1, 2, 3]),
    ("FD", 2.5),
    ("OB", b"\x01\x02\x03\x04"),
    ("UT", "text"),
    ("SQ", "item"),  # a sequence of one empty item
]


def _value(vr: str, value):
    if vr == "SQ":
        item = Dataset()
        item.PatientID = "x"
        return Sequence([item])
    return value


def _file(extra: dict[int, tuple[str, object]] | None = None, *, frames: int = 2,
          items: dict[int, Dataset] | None = None) -> bytes:
    """A small native file (u2, 12 bits, `frames` frames) with elements added by tag."""
    arr = np.arange(frames * 4 * 5, dtype=np.uint16).reshape(frames, 4, 5)
    ds = make_dataset(arr, frames=frames, bits_stored=12)
    for tag, (vr, value) in (extra or {}).items():
        ds.add_new(tag, vr, _value(vr, value))
    for tag, item in (items or {}).items():
        ds.add_new(tag, "SQ", Sequence([item]))
    return dicom_bytes(ds)


def _all_uses(data: bytes) -> None:
    """Everything that interprets attributes: raises only DicomFramesError."""
    with dicomframes.open(data) as f:
        f.describe()
        f.frames()
        f.frames(rescale=True)
        f.frame(0, rescale=True)
    for sort in ("instance", "position"):
        read_frames([data, data], sort=sort, threads=1)


def _only_dicomframes_errors(data: bytes) -> DicomFramesError | None:
    try:
        _all_uses(data)
    except DicomFramesError as exc:
        return exc
    return None


def _raises_naming(data: bytes, tag: int, call) -> MalformedError:
    with pytest.raises(MalformedError) as info:
        call(data)
    assert info.value.tag == tag
    assert format_tag(tag) in str(info.value)
    return info.value


def _rescale(data: bytes):
    with dicomframes.open(data) as f:
        return f.frames(rescale=True)


# ---- the fuzz finding: Modality LUT Sequence with another VR ----------------------------


@pytest.mark.parametrize("vr, value", WRONG, ids=[f"{vr}-{v!r}" for vr, v in WRONG])
def test_modality_lut_sequence_with_another_vr(vr, value):
    data = _file({MODALITY_LUT_SEQUENCE: (vr, value), RESCALE_SLOPE: ("DS", "2"),
                  RESCALE_INTERCEPT: ("DS", "1")})
    if vr == "SQ":  # a real sequence whose item has no LUT Descriptor
        _raises_naming(data, LUT_DESCRIPTOR, _rescale)
    else:
        _raises_naming(data, MODALITY_LUT_SEQUENCE, _rescale)
    with dicomframes.open(data) as f:  # without rescale nothing reads it
        assert f.frames().shape == (2, 4, 5)


@pytest.mark.parametrize("tag", [RESCALE_SLOPE, RESCALE_INTERCEPT])
@pytest.mark.parametrize("vr, value", [w for w in WRONG if w[0] not in ("DS", "US", "FD")],
                         ids=lambda v: repr(v))
def test_rescale_slope_intercept_not_numbers(tag, vr, value):
    other = RESCALE_INTERCEPT if tag == RESCALE_SLOPE else RESCALE_SLOPE
    data = _file({tag: (vr, value), other: ("DS", "1")})
    _raises_naming(data, tag, _rescale)


@pytest.mark.parametrize("vr, value", [("US", 3), ("FD", 2.0), ("DS", "2\\5")])
def test_rescale_numbers_of_other_vrs_still_work(vr, value):
    data = _file({RESCALE_SLOPE: (vr, value), RESCALE_INTERCEPT: ("DS", "1")})
    slope = float(value.split("\\")[0]) if isinstance(value, str) else float(value)
    out = _rescale(data)
    assert np.array_equal(out, np.arange(40, dtype=np.float32).reshape(2, 4, 5) * slope + 1)


def _lut_item(descriptor=("US", [4, 0, 16]), data=("US", [10, 20, 30, 40])) -> Dataset:
    item = Dataset()
    if descriptor is not None:
        item.add_new(LUT_DESCRIPTOR, descriptor[0], _value(*descriptor))
    if data is not None:
        item.add_new(LUT_DATA, data[0], _value(*data))
    return item


def test_modality_lut_sequence_valid():
    data = _file(items={MODALITY_LUT_SEQUENCE: _lut_item()})
    out = _rescale(data)
    expected = np.array([10, 20, 30, 40], np.float32)[np.clip(np.arange(40), 0, 3)]
    assert np.array_equal(out.reshape(-1), expected)


@pytest.mark.parametrize("descriptor", [("LO", "a\\b\\c"), ("DS", "4\\0\\16"), ("OB", b"abcdef"),
                                        ("US", [4, 0]), ("SQ", "item"), ("LO", "4")],
                         ids=repr)
def test_lut_descriptor_of_the_wrong_kind(descriptor):
    data = _file(items={MODALITY_LUT_SEQUENCE: _lut_item(descriptor=descriptor)})
    _raises_naming(data, LUT_DESCRIPTOR, _rescale)


def test_lut_descriptor_negative_entries():
    # pydicom writes the first value as US whatever the VR: written as US, then made SS.
    data = _file(items={MODALITY_LUT_SEQUENCE: _lut_item(descriptor=("US", [0xFFFC, 0, 16]))})
    at = data.index(b"\x28\x00\x02\x30US")
    data = data[:at + 4] + b"SS" + data[at + 6:]
    _raises_naming(data, LUT_DESCRIPTOR, _rescale)


@pytest.mark.parametrize("lut_data", [("LO", "abc"), ("LO", "1\\2\\3\\4"), ("DS", "1"),
                                      ("FD", [1.0, 2.0, 3.0, 4.0]), ("SQ", "item")], ids=repr)
def test_lut_data_of_the_wrong_kind(lut_data):
    data = _file(items={MODALITY_LUT_SEQUENCE: _lut_item(data=lut_data)})
    _raises_naming(data, LUT_DATA, _rescale)


def test_lut_data_odd_byte_count():
    # 4 entries as OW, plus a stray byte (written as OB so pydicom keeps it odd-padded).
    raw = np.array([10, 20, 30, 40], "<u2").tobytes() + b"\x07"
    data = _file(items={MODALITY_LUT_SEQUENCE: _lut_item(data=("OB", raw))})
    try:
        out = _rescale(data)
    except DicomFramesError:
        return
    assert out.max() == 40


# ---- functional groups ------------------------------------------------------------------


@pytest.mark.parametrize("tag", [SHARED_GROUPS, PER_FRAME_GROUPS])
@pytest.mark.parametrize("vr, value", [w for w in WRONG if w[0] != "SQ"], ids=repr)
def test_functional_groups_with_another_vr(tag, vr, value):
    data = _file({tag: (vr, value)})
    _raises_naming(data, tag, _rescale)


@pytest.mark.parametrize("tag", [SHARED_GROUPS, PER_FRAME_GROUPS])
@pytest.mark.parametrize("vr, value", [w for w in WRONG if w[0] != "SQ"], ids=repr)
def test_pixel_value_transformation_with_another_vr(tag, vr, value):
    group = Dataset()
    group.add_new(PIXEL_VALUE_TRANSFORMATION, vr, value)
    data = _file(items={tag: group})
    _raises_naming(data, PIXEL_VALUE_TRANSFORMATION, _rescale)


def test_pixel_value_transformation_slope_text():
    transformation = Dataset()
    transformation.add_new(RESCALE_SLOPE, "LO", "two")
    transformation.add_new(RESCALE_INTERCEPT, "DS", "0")
    group = Dataset()
    group.add_new(PIXEL_VALUE_TRANSFORMATION, "SQ", Sequence([transformation]))
    data = _file(items={SHARED_GROUPS: group})
    _raises_naming(data, RESCALE_SLOPE, _rescale)


# ---- sorting a series -------------------------------------------------------------------


def _sort(sort):
    return lambda data: read_frames([data, data], sort=sort, threads=1)


@pytest.mark.parametrize("vr, value", [("LO", "abc"), ("OB", b"\x01\x02"), ("SQ", "item"),
                                       ("LO", "1\\x")], ids=repr)
def test_instance_number_of_the_wrong_kind(vr, value):
    data = _file({INSTANCE_NUMBER: (vr, value)})
    exc = _raises_naming(data, INSTANCE_NUMBER, _sort("instance"))
    assert "source 0 (bytes)" in str(exc)


def test_instance_number_overflowing_is():
    data = _file({INSTANCE_NUMBER: ("LO", "1e999")})
    # The same bytes as IS: "1e999" is no integer, and int(float(...)) overflows.
    at = data.index(b"\x20\x00\x13\x00LO")
    data = data[:at + 4] + b"IS" + data[at + 6:]
    exc = _raises_naming(data, INSTANCE_NUMBER, _sort("instance"))
    assert "source 0 (bytes)" in str(exc)


@pytest.mark.parametrize("tag", [IMAGE_POSITION, IMAGE_ORIENTATION])
@pytest.mark.parametrize("vr, value", [("LO", "a\\b\\c"), ("LO", "a\\b\\c\\d\\e\\f"),
                                       ("OB", b"\x01\x02"), ("SQ", "item"), ("DS", "1\\\\2")],
                         ids=repr)
def test_image_position_orientation_of_the_wrong_kind(tag, vr, value):
    extra = {IMAGE_POSITION: ("DS", "0\\0\\1"), IMAGE_ORIENTATION: ("DS", "1\\0\\0\\0\\1\\0")}
    extra[tag] = (vr, value)
    data = _file(extra)
    exc = _raises_naming(data, tag, _sort("position"))
    assert "source 0 (bytes)" in str(exc)


def test_read_frames_names_the_file(tmp_path):
    good = _file({INSTANCE_NUMBER: ("IS", "1")})
    bad = _file({INSTANCE_NUMBER: ("IS", "2"), MODALITY_LUT_SEQUENCE: ("DS", "1")})
    (tmp_path / "good.dcm").write_bytes(good)
    (tmp_path / "bad.dcm").write_bytes(bad)
    paths = [str(tmp_path / "good.dcm"), str(tmp_path / "bad.dcm")]
    with pytest.raises(MalformedError) as info:
        read_frames(paths, rescale=True, threads=2)
    assert str(tmp_path / "bad.dcm") in str(info.value)
    assert format_tag(MODALITY_LUT_SEQUENCE) in str(info.value)


# ---- the sweep: every interpreted attribute x every wrong kind --------------------------

INTERPRETED = [MODALITY_LUT_SEQUENCE, RESCALE_SLOPE, RESCALE_INTERCEPT, SHARED_GROUPS,
               PER_FRAME_GROUPS, INSTANCE_NUMBER, IMAGE_POSITION, IMAGE_ORIENTATION,
               0x00280002, 0x00280004, 0x00280006, 0x00280008, 0x00280010, 0x00280011,
               0x00280100, 0x00280101, 0x00280102, 0x00280103, 0x00080005]


@pytest.mark.parametrize("tag", INTERPRETED, ids=format_tag)
def test_sweep_only_dicomframes_errors(tag):
    base = {INSTANCE_NUMBER: ("IS", "1"), IMAGE_POSITION: ("DS", "0\\0\\1"),
            IMAGE_ORIENTATION: ("DS", "1\\0\\0\\0\\1\\0")}
    for vr, value in WRONG + [("IS", "1e999"), ("DS", "nan"), ("SS", -1), ("US", 0)]:
        extra = dict(base)
        extra[tag] = (vr, value)
        try:
            # Replace the element in a dataset copy: pydicom writes what it is given.
            arr = np.arange(40, dtype=np.uint16).reshape(2, 4, 5)
            ds = make_dataset(arr, frames=2, bits_stored=12)
            for t, (v, val) in extra.items():
                if t in ds:
                    del ds[t]
                ds.add_new(t, v, _value(v, val))
            data = dicom_bytes(ds)
        except Exception:  # pydicom refuses to write this one: nothing to test
            continue
        exc = _only_dicomframes_errors(data)
        if isinstance(exc, MalformedError) and exc.tag == tag:
            assert format_tag(tag) in str(exc)


# ---- the command line names the file in every error ---------------------------------


def test_cli_errors_name_the_file(tmp_path, capsys):
    from dicomframes.cli import main

    data = _file()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(data[:300])
    short = tmp_path / "short_pixels.dcm"
    short.write_bytes(data[:-10])
    assert main(["info", str(cut)]) == 1
    assert f"{cut}: error:" in capsys.readouterr().out
    assert main(["frames", str(short), "--out", str(tmp_path / "x.npy")]) == 1
    assert f"{short}: error:" in capsys.readouterr().err


# ---- the Image Pixel attributes: read leniently, but not out of text or sequences --------


@pytest.mark.parametrize("tag, vr, value", [
    (0x00280010, "LO", "4"), (0x00280011, "DS", "5"), (0x00280100, "SQ", "item"),
    (0x00280101, "IS", "12"), (0x00280103, "FD", 0.0), (0x00280002, "CS", "1"),
    (0x00280008, "US", 2), (0x00280008, "SQ", "item"), (0x00280004, "FD", 1.0),
], ids=repr)
def test_image_pixel_attribute_with_a_vr_of_the_wrong_kind(tag, vr, value):
    arr = np.arange(40, dtype=np.uint16).reshape(2, 4, 5)
    ds = make_dataset(arr, frames=2, bits_stored=12)
    if tag in ds:
        del ds[tag]
    ds.add_new(tag, vr, _value(vr, value))
    data = dicom_bytes(ds)
    with dicomframes.open(data) as f:
        with pytest.raises(MalformedError) as info:
            f.frames()
        assert info.value.tag == tag and format_tag(tag) in str(info.value)
        assert "not decodable" in f.describe()["pixels"]
