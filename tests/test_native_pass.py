"""Native frames read in one pass (issue 14): the values of the vectorised copy /
correct / swap loops and of the canonical check that stops at the first bad block, the
non-temporal path of large frames() batches, and views still handed out where a frame
is canonical.

Every layout is compared with pydicom (``pixel_array``, which corrects the unused bits
the same way) and with a numpy statement of the rule."""

from __future__ import annotations

import io

import numpy as np
import pytest

import dicomframes
from dicomframes import file as dcf_file

pydicom = pytest.importorskip("pydicom")
from dicomframes.testing import make_dicom  # noqa: E402
from dicomframes.uids import EXPLICIT_VR_BIG_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN  # noqa: E402

# 2048 samples are one block of the canonical check; odd sizes leave SIMD tails.
SHAPES = [(1, 1), (3, 7), (7, 9), (32, 64), (45, 91), (64, 33)]
BITS_STORED = [1, 7, 8, 12, 15, 16]


def canonical(raw: np.ndarray, bits_stored: int, signed: bool) -> np.ndarray:
    """pydicom's rule, in numpy: the bits above Bits Stored cleared, or copies of the
    sign bit."""
    values = raw.astype(np.int64) & ((1 << bits_stored) - 1)
    if signed:
        values = np.where(values >> (bits_stored - 1) & 1, values - (1 << bits_stored), values)
        return values.astype(np.int16)
    return values.astype(np.uint16)


def stored(shape, frames: int, seed: int, garbage: bool) -> np.ndarray:
    """uint16 words, with random bits everywhere (`garbage`) or only below bit 12."""
    rng = np.random.default_rng(seed)
    top = 1 << 16 if garbage else 1 << 11
    return rng.integers(0, top, (frames, *shape), dtype=np.uint32).astype(np.uint16)


def pydicom_frames(data: bytes) -> np.ndarray:
    ds = pydicom.dcmread(io.BytesIO(data))
    arr = ds.pixel_array
    return arr if int(ds.get("NumberOfFrames", 1)) > 1 else arr[np.newaxis]


@pytest.mark.parametrize("syntax", [EXPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN],
                         ids=["LE", "BE"])
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
@pytest.mark.parametrize("bits_stored", BITS_STORED)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_values_every_layout(shape, bits_stored, signed, syntax):
    raw = stored(shape, 3, seed=bits_stored * 1000 + shape[0], garbage=True)
    arr = raw.view(np.int16) if signed else raw
    data = make_dicom(arr, frames=3, bits_stored=bits_stored, syntax=syntax)
    expected = canonical(raw, bits_stored, signed)
    np.testing.assert_array_equal(pydicom_frames(data), expected)
    with dicomframes.open(data) as f:
        for k in range(3):
            np.testing.assert_array_equal(f[k], expected[k])
            np.testing.assert_array_equal(f.frame(k, copy=True), expected[k])
        np.testing.assert_array_equal(f.frames(threads=1), expected)
        np.testing.assert_array_equal(f.frames(threads=2), expected)
        np.testing.assert_array_equal(f[::-1], expected[::-1])


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
@pytest.mark.parametrize("syntax", [EXPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN],
                         ids=["LE", "BE"])
def test_streamed_batches_equal_cached_ones(monkeypatch, signed, syntax):
    """Batches into `out` over STREAM_ABOVE_BYTES are written with non-temporal stores:
    forced here for a small file, into `out` arrays at every byte offset (the streamed
    loop needs 16-byte alignment and starts with a scalar head; an odd address never
    reaches it); fresh arrays are written as always."""
    raw = stored((45, 91), 5, seed=7, garbage=True)
    arr = raw.view(np.int16) if signed else raw
    data = make_dicom(arr, frames=5, bits_stored=12, syntax=syntax)
    expected = canonical(raw, 12, signed)
    with dicomframes.open(data) as f:
        cached = f.frames()
        monkeypatch.setattr(dcf_file, "STREAM_ABOVE_BYTES", 0)
        np.testing.assert_array_equal(cached, expected)
        np.testing.assert_array_equal(f.frames(threads=1), expected)
        out = np.empty((3, *f.frame_shape), f.dtype)
        np.testing.assert_array_equal(f.frames([4, 0, 4], threads=2, out=out),
                                      expected[[4, 0, 4]])
        for shift in range(16):
            buffer = np.zeros(expected.nbytes + 16, np.uint8)
            out = np.frombuffer(buffer, f.dtype, expected.size, shift).reshape(expected.shape)
            assert f.frames(out=out) is out
            np.testing.assert_array_equal(out, expected)
            assert not buffer[:shift].any() and not buffer[shift + expected.nbytes:].any()


@pytest.mark.parametrize("dtype,bits_stored", [("uint8", 8), ("int16", 16), ("uint16", 16),
                                                ("int32", 32), ("uint32", 20)])
def test_streamed_copies_of_other_sizes(monkeypatch, dtype, bits_stored):
    """The streamed path also copies 8-, 16- and 32-bit data stored in full, as 16-bit
    units (and leaves 32-bit data with unused bits to the general loop)."""
    rng = np.random.default_rng(3)
    info = np.iinfo(dtype)
    arr = rng.integers(info.min, info.max, (4, 13, 17), dtype=dtype, endpoint=True)
    data = make_dicom(arr, frames=4, bits_stored=bits_stored)
    expected = pydicom_frames(data)
    monkeypatch.setattr(dcf_file, "STREAM_ABOVE_BYTES", 0)
    with dicomframes.open(data) as f:
        np.testing.assert_array_equal(f.frames(out=np.empty_like(expected)), expected)


def is_view(frame: np.ndarray) -> bool:
    return not frame.flags.writeable and not frame.flags.owndata


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_canonical_frames_are_views(tmp_path, signed):
    """Canonical frames of a mapped file come back as read-only views (checked once),
    however many blocks the check reads; copies and batches are copies."""
    raw = stored((64, 96), 4, seed=11, garbage=False)  # < 2048: canonical either way
    arr = raw.view(np.int16) if signed else raw
    path = tmp_path / "canonical.dcm"
    path.write_bytes(make_dicom(arr, frames=4, bits_stored=12))
    with dicomframes.open(path) as f:
        for k in range(4):
            view = f[k]
            assert is_view(view)
            np.testing.assert_array_equal(view, arr[k])
            assert is_view(f[k])  # remembered
        copy = f.frame(2, copy=True)
        assert copy.flags.writeable and copy.flags.owndata
        np.testing.assert_array_equal(copy, arr[2])
        batch = f.frames()
        assert batch.flags.writeable
        np.testing.assert_array_equal(batch, arr)


# The canonical check looks at blocks of 2048 samples: bad values at each edge.
BAD_AT = [0, 1, 2046, 2047, 2048, 2049, 4095, 4096, 64 * 96 - 1]


@pytest.mark.parametrize("bad_at", BAD_AT)
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_one_bad_value_anywhere_makes_a_corrected_copy(tmp_path, bad_at, signed):
    """A frame with a single value whose unused bits are not canonical, wherever it is
    (first, last, either side of a block edge), is corrected into a copy; the canonical
    frames around it stay views."""
    raw = stored((64, 96), 3, seed=bad_at, garbage=False)
    flat = raw[1].reshape(-1)
    flat[bad_at] |= 0x9000  # bits above Bits Stored 12 set (and, signed, the wrong sign)
    arr = raw.view(np.int16) if signed else raw
    path = tmp_path / "one_bad.dcm"
    path.write_bytes(make_dicom(arr, frames=3, bits_stored=12))
    expected = canonical(raw, 12, signed)
    assert not np.array_equal(expected[1], arr[1])
    with dicomframes.open(path) as f:
        assert is_view(f[0]) and is_view(f[2])
        corrected = f[1]
        assert corrected.flags.writeable and corrected.flags.owndata
        np.testing.assert_array_equal(corrected, expected[1])
        np.testing.assert_array_equal(f.frames(), expected)
        np.testing.assert_array_equal(f.frame(1, rescale=True), expected[1].astype(np.float32))


def test_raw_bits_views_are_not_checked(tmp_path):
    """open(correct_unused_bits=False): every little-endian frame is a view of the bytes
    as stored, non-canonical ones included."""
    raw = stored((16, 16), 2, seed=5, garbage=True)
    path = tmp_path / "raw.dcm"
    path.write_bytes(make_dicom(raw, frames=2, bits_stored=12))
    with dicomframes.open(path, correct_unused_bits=False) as f:
        for k in range(2):
            assert is_view(f[k])
            np.testing.assert_array_equal(f[k], raw[k])
