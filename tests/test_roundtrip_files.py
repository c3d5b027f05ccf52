"""Round trips at the file level: arrays compressed by pydicom, written with dcmwrite, read back
with dicomframes.open(bytes) and decoded exactly.

Random and image-like arrays (Bits Stored 8/12/16, signed and unsigned, 1 and 3 samples, odd
sizes, 1..5 frames) go through ``Dataset.compress``: RLE Lossless with pydicom's own encoder,
JPEG-LS Lossless with pyjpegls, JPEG 2000 Lossless with pylibjpeg-openjpeg, with a Basic or an
Extended Offset Table. The arrays themselves are the reference.

(The codec-level round trips, without files, are in test_codecs_lowlevel.py.)
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import dicomframes

pydicom = pytest.importorskip("pydicom")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from pydicom.uid import (  # noqa: E402
    JPEG2000Lossless,
    JPEGLSLossless,
    RLELossless,
)

from dicomframes.testing import dicom_bytes, make_dataset  # noqa: E402

CODECS = {
    # name: (transfer syntax, pydicom encoding plugin, module needed, smallest side)
    "rle": (RLELossless, "pydicom", None, 1),
    # CharLS (pyjpegls) under-sizes its output buffer for noise on very small images
    "jpegls": (JPEGLSLossless, "pyjpegls", "jpeg_ls", 16),
    # OpenJPEG's default 6 resolution levels need 32 pixels a side
    "j2k": (JPEG2000Lossless, "pylibjpeg", "openjpeg", 32),
}

SETTINGS = settings(derandomize=True, deadline=None, database=None, max_examples=30,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def pixel_arrays(draw, smallest: int):
    """(array, bits_stored, signed, samples): an array of shape (frames, rows, columns[, 3])."""
    bits = draw(st.sampled_from([8, 12, 16]))
    samples = draw(st.sampled_from([1, 3]))
    signed = draw(st.booleans()) if samples == 1 else False  # pydicom: colour is unsigned
    rows = draw(st.integers(smallest, smallest + 30))
    columns = draw(st.integers(smallest, smallest + 30))
    frames = draw(st.integers(1, 5))
    kind = draw(st.sampled_from(["noise", "image", "image", "constant", "extremes"]))
    seed = draw(st.integers(0, 2**32 - 1))

    rng = np.random.default_rng(seed)
    shape = (frames, rows, columns) + ((3,) if samples == 3 else ())
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if kind == "noise":
        values = rng.integers(low, high, shape, endpoint=True)
    elif kind == "constant":
        values = np.full(shape, rng.integers(low, high, endpoint=True))
    elif kind == "extremes":
        values = np.where(rng.random(shape) < 0.5, low, high)
    else:  # smooth ramps and a disc, a little noise: what CT/MR/photos look like
        f, y, x = np.meshgrid(np.arange(frames), np.arange(rows), np.arange(columns),
                              indexing="ij")
        span = high - low
        ramp = (x * rng.uniform(0.1, 3) + y * rng.uniform(0.1, 3) + f * 7) / (rows + columns)
        disc = ((y - rows / 2) ** 2 + (x - columns / 2) ** 2) < (min(rows, columns) / 3) ** 2
        plane = low + span * (0.1 + 0.5 * (ramp % 1.0) + 0.3 * disc)
        if samples == 3:
            plane = plane[..., None] * np.array([1.0, 0.8, 0.5])
        noise = rng.normal(0, max(span / 200, 1), shape)
        values = np.clip(np.rint(plane + noise), low, high)
    dtype = np.dtype(f"{'i' if signed else 'u'}{1 if bits == 8 else 2}")
    return values.astype(dtype), bits, signed, samples


def compressed_file(array: np.ndarray, bits: int, signed: bool, samples: int, uid: str,
                    plugin: str, extended: bool, photometric: str | None = None,
                    **options) -> bytes:
    frames = array.shape[0]
    # `array`'s dtype and shape give the signedness and the samples per pixel.
    # Native first (Number of Frames even for one frame), then compressed by `plugin`.
    ds = make_dataset(array, frames=frames, bits_stored=bits, photometric=photometric)
    source = array if frames > 1 else array[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.compress(uid, source, encoding_plugin=plugin, encapsulate_ext=extended,
                    **options)
    return dicom_bytes(ds)


def round_trip(codec: str, image, extended: bool, in_hypothesis: bool = True) -> None:
    uid, plugin, module, _ = CODECS[codec]
    array, bits, signed, samples = image
    if in_hypothesis:
        event(f"{array.shape[0]} frame(s), bits {bits}, {'signed' if signed else 'unsigned'}, "
              f"{samples} sample(s)")
    data = compressed_file(array, bits, signed, samples, uid, plugin, extended)
    with dicomframes.open(data) as f:
        assert f.transfer_syntax_uid == uid
        assert len(f) == array.shape[0]
        assert f.dtype == array.dtype
        assert f.frame_shape == array.shape[1:]
        info = f.describe()
        assert info["frame location"] == ("extended offset table" if extended
                                          else "basic offset table"), info
        stack = f.frames()
        np.testing.assert_array_equal(stack, array)
        last = len(f) - 1
        np.testing.assert_array_equal(f[last], array[last])
        encoded = f.encoded_frame(last)
        assert isinstance(encoded, memoryview) and encoded.obj is data
        np.testing.assert_array_equal(
            dicomframes.decode_frame(encoded, uid, rows=f.rows, columns=f.columns,
                                     samples_per_pixel=samples,
                                     bits_allocated=f.bits_allocated, bits_stored=bits,
                                     pixel_representation=int(signed),
                                     photometric_interpretation=f.photometric_interpretation),
            array[last])


def needs(codec: str) -> None:
    module = CODECS[codec][2]
    if module:
        pytest.importorskip(module)


@SETTINGS
@given(image=pixel_arrays(CODECS["rle"][3]), extended=st.booleans())
def test_rle_file_round_trip(image, extended):
    round_trip("rle", image, extended)


@SETTINGS
@given(image=pixel_arrays(CODECS["jpegls"][3]), extended=st.booleans())
def test_jpegls_file_round_trip(image, extended):
    needs("jpegls")
    round_trip("jpegls", image, extended)


@SETTINGS
@given(image=pixel_arrays(CODECS["j2k"][3]), extended=st.booleans())
def test_j2k_file_round_trip(image, extended):
    needs("j2k")
    round_trip("j2k", image, extended)


@pytest.mark.parametrize("codec", list(CODECS))
@pytest.mark.parametrize("bits, signed, samples", [
    (8, False, 1), (8, True, 1), (12, False, 1), (12, True, 1), (16, False, 1),
    (16, True, 1), (8, False, 3), (16, False, 3)])
def test_file_round_trip_grid(codec, bits, signed, samples):
    """Every combination once, odd sizes, 3 frames (hypothesis may not draw them all)."""
    needs(codec)
    side = CODECS[codec][3]
    rng = np.random.default_rng(bits * 10 + signed + samples)
    shape = (3, side + 3, side + 5) + ((3,) if samples == 3 else ())
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    dtype = np.dtype(f"{'i' if signed else 'u'}{1 if bits == 8 else 2}")
    array = rng.integers(low, high, shape, endpoint=True).astype(dtype)
    array[:, 0, 0] = low
    array[:, -1, -1] = high
    round_trip(codec, (array, bits, signed, samples), extended=False, in_hypothesis=False)


@pytest.mark.parametrize("bits", [8, 12, 16])
def test_j2k_rgb_with_the_reversible_colour_transform(bits):
    """RGB stored as YBR_RCT (JPEG 2000's reversible multi-component transform, undone by the
    codec): the frames come back as the RGB that went in."""
    needs("j2k")
    rng = np.random.default_rng(bits)
    dtype = np.uint8 if bits == 8 else np.uint16
    array = rng.integers(0, 1 << bits, (2, 35, 41, 3)).astype(dtype)
    data = compressed_file(array, bits, False, 3, JPEG2000Lossless, "pylibjpeg", False,
                           photometric="YBR_RCT", use_mct=True)
    with dicomframes.open(data) as f:
        assert f.photometric_interpretation == "YBR_RCT"
        codestream = bytes(f.encoded_frame(0))
        cod = codestream.index(b"\xff\x52")  # COD: Lcod, Scod, progression, layers, MCT
        assert codestream[cod + 8] == 1, "the encoder did not apply the colour transform"
        np.testing.assert_array_equal(f.frames(), array)
        np.testing.assert_array_equal(f.frames(as_rgb=False), array)
