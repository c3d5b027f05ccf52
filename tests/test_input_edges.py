"""Issue 11, "Input that is not what it seems": files that are not DICOM, damaged tails,
the first failing frame, invalid Image Pixel attributes, unsupported versus damaged."""

from __future__ import annotations

import struct
import subprocess
import sys
import warnings

import numpy as np
import pytest

import dicomframes
from dicomframes import (
    DicomFramesError,
    DicomFramesWarning,
    MalformedError,
    NotDicomError,
    TruncatedError,
    UnsupportedError,
    uids,
)

pytest.importorskip("pydicom")
from dicomframes.testing import make_dataset, make_dicom  # noqa: E402

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18"
       b"\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
TEXT = b"hello world\nthis is a text file, not an image\n"


def _arr(frames=3, rows=8, columns=10):
    return (np.arange(frames * rows * columns, dtype=np.uint16) * 7).reshape(
        frames, rows, columns)


def _padding(length: int) -> bytes:
    """(FFFC,FFFC) Data Set Trailing Padding, explicit VR LE."""
    return struct.pack("<HH2sHI", 0xFFFC, 0xFFFC, b"OB", 0, length) + b"\0" * length


# ---- 1. not DICOM ------------------------------------------------------------------


@pytest.mark.parametrize("data, why", [(b"", "empty"), (PNG, "(5089,474E)"),
                                       (TEXT, "runs past the end"), (b"abc", "too few")],
                         ids=["empty", "png", "text", "tiny"])
def test_not_dicom(data, why, tmp_path):
    with pytest.raises(NotDicomError, match="not a DICOM file") as info:
        dicomframes.open(data)
    assert why in str(info.value)
    assert isinstance(info.value, DicomFramesError) and isinstance(info.value, ValueError)
    path = tmp_path / "x.dcm"
    path.write_bytes(data)
    with pytest.raises(NotDicomError, match="not a DICOM file"):
        dicomframes.open(path)


@pytest.mark.parametrize("size", [0, 3, 64 * 1024, 64 * 1024 + 1], ids=lambda n: f"{n}B")
def test_path_sizes_either_side_of_reading(size, tmp_path):
    """A path is read (up to 64 KiB) or mapped, its size found by lseek: the bytes are the
    file's either way (here: not DICOM, and said so from its whole content)."""
    path = tmp_path / "x.bin"
    path.write_bytes(b"\x01" * size)
    from dicomframes.source import Source

    source = Source.open(path)
    try:
        assert bytes(source.buffer) == b"\x01" * size
        assert (source._mapping is None) == (size <= 64 * 1024)
    finally:
        source.close()


def test_directory_and_pipe_paths_fail_as_before(tmp_path):
    """What lseek or mmap refuses goes the fstat way: a directory raises the OS's
    IsADirectoryError, an empty pipe reads as an empty file."""
    import os
    import threading

    with pytest.raises(IsADirectoryError):
        dicomframes.open(tmp_path)
    if not hasattr(os, "mkfifo"):
        return
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def writer() -> None:
        with open(fifo, "wb"):
            pass

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        with pytest.raises(NotDicomError, match="the file is empty"):
            dicomframes.open(fifo)
    finally:
        thread.join()


def test_not_dicom_says_no_dicm_prefix():
    with pytest.raises(NotDicomError, match='no "DICM" prefix at offset 128'):
        dicomframes.open(PNG)


def test_preambleless_dicom_still_opens():
    data = make_dicom(_arr(), frames=3)
    body = data[128:]  # "DICM" + meta + data set
    with dicomframes.open(body) as f:
        np.testing.assert_array_equal(f.frames(), _arr())
    # without the "DICM" prefix either: starts with group 0002
    with dicomframes.open(data[132:]) as f:
        np.testing.assert_array_equal(f.frames(), _arr())


def test_cli_info_on_not_dicom(tmp_path):
    path = tmp_path / "picture.png"
    path.write_bytes(PNG)
    run = subprocess.run([sys.executable, "-m", "dicomframes", "info", str(path)],
                         capture_output=True, text=True)
    assert run.returncode != 0
    assert "not a DICOM file" in run.stdout + run.stderr


# ---- 2. a damaged tail ---------------------------------------------------------------


def _open_warned(data):
    with pytest.warns(DicomFramesWarning) as record:
        f = dicomframes.open(data)
        f.elements  # a lazy index meets the damage here
    return f, record


@pytest.mark.parametrize("cut", [1, 5, 11], ids=["one-byte", "in-padding-value",
                                                  "in-padding-header"])
def test_cut_in_trailing_padding(cut):
    data = make_dicom(_arr(), frames=3) + _padding(16)
    pixel_end = len(data) - 12 - 16
    damaged = data[:-cut] if cut != 11 else data[:pixel_end + 11]
    f, record = _open_warned(damaged)
    with f:
        np.testing.assert_array_equal(f.frames(), _arr())
        assert "(FFFC,FFFC)" in str(record[0].message)
        assert record[0].message.tag == 0xFFFCFFFC
        assert record[0].message.offset == pixel_end
        damage = f.describe()["damage"]
        assert "(FFFC,FFFC)" in damage and str(pixel_end) in damage
        assert 0xFFFCFFFC not in f


@pytest.mark.parametrize("junk", [b"\x01", b"garbage!", b"\x08\x00\x20\x00ZZ\x02\x00ab"],
                         ids=["one-byte", "garbage", "bad-vr"])
def test_garbage_after_pixel_data(junk):
    data = make_dicom(_arr(), frames=3)
    f, record = _open_warned(data + junk)
    with f:
        np.testing.assert_array_equal(f.frames(), _arr())
        assert str(len(data)) in str(record[0].message)
        assert f.damage is not None and f.damage.offset == len(data)
        assert "damage" in f.describe()


def test_encapsulated_cut_by_one_byte():
    """The sequence delimiter cut: every fragment is whole (no offset table: the eager
    scan meets it at open)."""
    arr = _arr()
    data = make_dicom(arr, frames=3, compress=uids.RLE_LOSSLESS)
    with pytest.warns(DicomFramesWarning, match="sequence delimiter"):
        f = dicomframes.open(data[:-1])
        f.elements
    with f:
        np.testing.assert_array_equal(f.frames(), arr)
        assert "sequence delimiter" in f.describe()["damage"]


def test_lazy_index_damage_is_a_warning_not_an_error():
    """With a Basic Offset Table the scan stops early; completing it later (elements,
    describe, a tag after the Pixel Data) meets the garbage: a warning, once."""
    arr = _arr()
    frames = [dicomframes.testing.encode_frame(a, uids.RLE_LOSSLESS) for a in arr]
    data = dicomframes.testing.dicom_bytes(make_dataset(arr, frames=3, encoded=frames,
                                                        syntax=uids.RLE_LOSSLESS))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = dicomframes.open(data + b"garbage!")
        np.testing.assert_array_equal(f.frames(), arr)
    with pytest.warns(DicomFramesWarning, match="garbage|offset"):
        f.elements
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once only
        assert f.describe()["damage"]
        assert f.value(0xFFFCFFFC, None) is None


def test_damage_before_pixel_data_still_raises():
    data = make_dicom(_arr(), frames=3)
    at = data.index(b"\x10\x00\x10\x00PN")  # Patient's Name, before the Pixel Data
    bad = data[:at + 4] + b"ZZ" + data[at + 6:]
    with pytest.raises(MalformedError, match="invalid VR"):
        dicomframes.open(bad)


def test_cut_inside_pixel_data_still_names_the_frame():
    data = make_dicom(_arr(), frames=3)
    f = dicomframes.open(data[:-1])
    np.testing.assert_array_equal(f.frames([0, 1]), _arr()[:2])
    with pytest.raises(DicomFramesError) as info:
        f.frame(2)
    assert info.value.frame == 2


# ---- 3. the first failing frame ----------------------------------------------------------


@pytest.mark.parametrize("threads", [1, 4])
def test_first_failing_frame_is_raised(threads):
    """Three RLE fragments too short for their 64 x 64 frames: the size check made
    before the output is allocated fails for each; frame 0's error is raised."""
    arr = np.zeros((3, 64, 64), np.uint8)
    short = [struct.pack("<II", 1, 64) + bytes([k]) * 2 for k in range(3)]
    data = dicomframes.testing.dicom_bytes(make_dataset(arr, frames=3, encoded=short,
                                                        syntax=uids.RLE_LOSSLESS))
    with dicomframes.open(data) as f:
        with pytest.raises(TruncatedError) as info:
            f.frames(threads=threads)
        assert info.value.frame == 0
        with pytest.raises(TruncatedError) as info:
            f.frames([2, 1], threads=threads)
        assert info.value.frame == 2


def test_first_missing_native_frame_is_raised():
    data = make_dicom(_arr(), frames=3)
    with dicomframes.open(data[:-200]) as f:  # frames 1 and 2 cut
        with pytest.raises(DicomFramesError) as info:
            f.frames()
        assert info.value.frame == 1


# ---- 4. invalid Image Pixel attributes -------------------------------------------------------


def _with_value(data: bytes, tag: int, vr: bytes, value: bytes) -> bytes:
    """`data` with explicit VR LE element `tag` (short VR) given `value` (and VR)."""
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    at = data.index(head, 132)
    old_length = struct.unpack("<H", data[at + 6:at + 8])[0]
    return (data[:at] + head + vr + struct.pack("<H", len(value)) + value
            + data[at + 8 + old_length:])


@pytest.mark.parametrize("value", [b"1A", b"x ", b"nan ", b"2.5.1 "])
def test_number_of_frames_not_an_is(value):
    data = _with_value(make_dicom(_arr(), frames=3), 0x00280008, b"IS", value)
    with dicomframes.open(data) as f:
        with pytest.raises(MalformedError, match=r"\(0028,0008\)") as info:
            f.number_of_frames
        assert value.decode().strip() in str(info.value)
        assert info.value.tag == 0x00280008
        with pytest.raises(MalformedError):
            f.frames()


@pytest.mark.parametrize("tag", [0x00280010, 0x00280011, 0x00280002, 0x00280100, 0x00280101,
                                 0x00280102, 0x00280103])
def test_us_attribute_with_wrong_vr(tag):
    data = _with_value(make_dicom(_arr(), frames=3), tag, b"IS", b"16")
    with dicomframes.open(data) as f:
        with pytest.raises(MalformedError, match=r"VR IS, not US") as info:
            f.pixels
        assert info.value.tag == tag


@pytest.mark.parametrize("tag", [0x00280010, 0x00280100])
def test_us_attribute_of_odd_length(tag):
    data = _with_value(make_dicom(_arr(), frames=3), tag, b"US", b"\x08\x00\x00")
    with dicomframes.open(data) as f:
        with pytest.raises(MalformedError, match="not a US value") as info:
            f.pixels
        assert info.value.tag == tag


def test_planar_configuration_of_one_byte():
    arr = np.zeros((2, 4, 4, 3), np.uint8)
    data = _with_value(make_dicom(arr, frames=2), 0x00280006, b"US", b"\x01")
    with dicomframes.open(data) as f:
        with pytest.raises(MalformedError, match=r"\(0028,0006\)"):
            f.frames()


def test_valid_values_still_read():
    data = _with_value(make_dicom(_arr(), frames=3), 0x00280008, b"IS", b"3.0 ")
    with dicomframes.open(data) as f:
        assert f.number_of_frames == 3
    data = _with_value(make_dicom(_arr(), frames=3), 0x00280008, b"IS", b"")
    with dicomframes.open(data) as f:
        assert f.number_of_frames == 1  # empty: absent, as pydicom reads it


# ---- 5. unsupported is not damaged -------------------------------------------------------------


def test_one_bit_rle_is_unsupported_not_truncated():
    """1-bit RLE written the superseded way: the bit-packed bytes as one segment."""
    rows = columns = 256
    packed = bytes(rows * columns // 8)
    runs = b"".join(b"\x81\x00" for _ in range(len(packed) // 128))  # 128 zero bytes each
    frame = struct.pack("<16I", 1, 64, *([0] * 14)) + runs
    ds = make_dataset(np.zeros((1, rows, columns), np.uint8), frames=1, encoded=[frame],
                      syntax=uids.RLE_LOSSLESS)
    ds.BitsAllocated = ds.BitsStored = 1
    ds.HighBit = 0
    data = dicomframes.testing.dicom_bytes(ds)
    with dicomframes.open(data) as f:
        for call in (lambda: f.frame(0), lambda: f.frames(), lambda: f.frames(threads=1)):
            with pytest.raises(UnsupportedError, match="Bits Allocated 1") as info:
                call()
            assert not isinstance(info.value, TruncatedError)
            assert info.value.frame == 0
