"""Deflated Image Frame Compression (1.2.840.10008.1.2.8.1, PS3.5 8.2.16): each frame
raw-deflated on its own. Round trips against the same frames stored natively (decoded by
pydicom), and damaged streams that must raise, never crash or over-allocate."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

pytest.importorskip("pydicom")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import dicomframes  # noqa: E402
from dicomframes.testing import make_dicom  # noqa: E402
from dicomframes.uids import DEFLATED_IMAGE_FRAME_COMPRESSION as DEFLATED_FRAMES  # noqa: E402


def deflate(raw: bytes, level: int = 6) -> bytes:
    packer = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(raw) + packer.flush()


def stored_frame(frame: np.ndarray, bits: int) -> bytes:
    """One frame as Deflated Image Frame Compression stores it before deflating:
    little endian, 1-bit data packed from the least significant bit, byte aligned."""
    if bits == 1:
        return np.packbits(frame.reshape(-1), bitorder="little").tobytes()
    return frame.astype(frame.dtype.newbyteorder("<")).tobytes()


def deflated_file(arr: np.ndarray, *, bits: int = 0, pad: bool = False,
                  encoded: list[bytes] | None = None, **options) -> bytes:
    bits = bits or arr.dtype.itemsize * 8
    if encoded is None:
        encoded = [deflate(stored_frame(frame, bits)) + (b"\0" if pad else b"") for frame in arr]
    if bits == 1:
        options["extra"] = {"BitsAllocated": 1, "BitsStored": 1, "HighBit": 0,
                            **options.get("extra", {})}
    return make_dicom(arr, frames=len(arr), syntax=DEFLATED_FRAMES, encoded=encoded, **options)


def pydicom_frames(arr: np.ndarray, bits: int = 0, **options) -> np.ndarray:
    """The same frames stored natively, as pydicom decodes them."""
    import io

    import pydicom

    if bits == 1:
        packed = np.packbits(arr.reshape(-1), bitorder="little").tobytes()
        options["extra"] = {"BitsAllocated": 1, "BitsStored": 1, "HighBit": 0,
                            "PixelData": packed + b"\0" * (len(packed) % 2)}
    ds = pydicom.dcmread(io.BytesIO(make_dicom(arr, frames=len(arr), **options)))
    return ds.pixel_array.reshape(arr.shape)


frames_strategy = st.tuples(st.integers(1, 3), st.integers(1, 17), st.integers(1, 19),
                            st.sampled_from([1, 3]), st.sampled_from(["u1", "u2", "i2", "u4"]),
                            st.integers(0, 2**32 - 1), st.booleans())


@settings(max_examples=60, deadline=None)
@given(frames_strategy)
def test_round_trip_equals_native(case):
    n, rows, columns, samples, dtype, seed, pad = case
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    shape = (n, rows, columns) + ((samples,) if samples == 3 else ())
    arr = rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    data = deflated_file(arr, pad=pad)
    with dicomframes.open(data) as f:
        assert f.frame_location in ("basic offset table", "one fragment per frame")
        np.testing.assert_array_equal(f.frames(threads=2), pydicom_frames(arr))
        np.testing.assert_array_equal(f[n - 1], arr[n - 1])


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(1, 13), st.integers(1, 21), st.integers(0, 2**32 - 1))
def test_one_bit_frames_start_on_a_byte(n, rows, columns, seed):
    # Unlike native 1-bit Pixel Data, each frame is packed on its own.
    arr = np.random.default_rng(seed).integers(0, 2, (n, rows, columns), dtype=np.uint8)
    with dicomframes.open(deflated_file(arr, bits=1)) as f:
        np.testing.assert_array_equal(f.frames(), arr)


def test_bits_above_bits_stored_are_made_canonical():
    arr = np.array([[[0x0FFF, 0xF800], [0x1234, 0x8000]]], dtype=np.uint16)
    signed = arr.view(np.int16)
    for values, bits_stored in ((arr, 12), (signed, 12)):
        with dicomframes.open(deflated_file(values, bits_stored=bits_stored)) as f:
            np.testing.assert_array_equal(f[0], pydicom_frames(values, bits_stored=bits_stored)[0])


def damaged(kind: str) -> tuple[bytes, type]:
    arr = np.arange(2 * 32 * 32, dtype=np.uint16).reshape(2, 32, 32)
    good = [deflate(stored_frame(frame, 16)) for frame in arr]
    if kind == "cut":
        return deflated_file(arr, encoded=[good[0], good[1][:len(good[1]) // 2]]), \
            dicomframes.TruncatedError
    if kind == "garbage":
        return deflated_file(arr, encoded=[good[0], b"\xff" * 64]), dicomframes.CodecError
    if kind == "too long":
        longer = deflate(stored_frame(np.zeros((33, 32), np.uint16), 16))
        return deflated_file(arr, encoded=[good[0], longer]), dicomframes.PixelDataError
    if kind == "too short":
        shorter = deflate(stored_frame(np.zeros((31, 32), np.uint16), 16))
        return deflated_file(arr, encoded=[good[0], shorter]), dicomframes.TruncatedError
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["cut", "garbage", "too long", "too short"])
def test_damaged_frame_names_the_frame(kind):
    data, cls = damaged(kind)
    with dicomframes.open(data) as f:
        np.testing.assert_array_equal(f[0], np.arange(32 * 32, dtype=np.uint16).reshape(32, 32))
        with pytest.raises(cls) as info:
            f[1]
        assert info.value.frame == 1 and info.value.tag == 0x7FE00010
        assert "frame 1" in str(info.value) and "fragment at offset" in str(info.value)
        with pytest.raises(cls):
            f.frames(threads=2)


def test_tiny_stream_for_a_huge_frame_is_refused_before_allocating():
    arr = np.zeros((1, 4, 4), np.uint16)
    data = deflated_file(arr, encoded=[deflate(b"\0" * 32)],
                         extra={"Rows": 30000, "Columns": 30000})
    with dicomframes.open(data) as f:
        with pytest.raises(dicomframes.TruncatedError, match="cannot decode to"):
            f[0]


def test_every_truncation_raises_only_dicomframes_errors():
    arr = np.random.default_rng(5).integers(0, 4096, (1, 24, 24), dtype=np.uint16)
    stream = deflate(stored_frame(arr[0], 16))
    for cut in range(1, len(stream)):  # pydicom cannot encapsulate an empty frame
        with dicomframes.open(deflated_file(arr, encoded=[stream[:cut]])) as f:
            with pytest.raises(dicomframes.DicomFramesError):
                f[0]
