"""Our JPEG-LS decoder (csrc/dcf_jls*.c) against CharLS (pyjpegls) and the test encoder.

Streams come from pyjpegls' CharLS encoder (default parameters) and from the test-only
T.87 encoder in tests/jls_encoder.py (preset parameters, restart intervals, colour
transforms, padding, every interleave mode and component count). Each decoded frame is
compared bit for bit with CharLS's decoding of the same stream; where CharLS does not decode
what T.87 allows (see tests/test_jls_encoder.py), with the encoder's input (lossless) or
within NEAR of it (near-lossless).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

jpeg_ls = pytest.importorskip("jpeg_ls")
pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dicomframes import _codecs
from dicomframes.errors import CodecError, DicomFramesError, PixelDataError, UnsupportedError

sys.path.insert(0, str(Path(__file__).parent))
from jls_encoder import charls_decode as charls
from jls_encoder import default_thresholds, encode
from jls_encoder import make_image as image

N_EXAMPLES = int(os.environ.get("JLS_DECODER_EXAMPLES", "120"))
SETTINGS = settings(max_examples=N_EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
# (interleave, components) that CharLS decodes; ILV 1/2 with 2 components it refuses
CHARLS_LAYOUTS = [(0, 1), (0, 2), (0, 3), (0, 4), (1, 3), (1, 4), (2, 1), (2, 3), (2, 4)]
ALL_LAYOUTS = CHARLS_LAYOUTS + [(1, 2), (2, 2)]


def ours(data: bytes, shape: tuple[int, ...], precision: int, *, bits_allocated: int | None = None,
         signed: bool = False, planar: bool = False) -> np.ndarray:
    """Our decoding, as (rows, cols[, comps]) whatever the output layout."""
    rows, cols = shape[:2]
    spp = shape[2] if len(shape) == 3 else 1
    bits_allocated = bits_allocated or (8 if precision <= 8 else 16)
    dtype = np.dtype(f"{'i' if signed else 'u'}{bits_allocated // 8}")
    out_shape = (rows, cols) if spp == 1 else ((spp, rows, cols) if planar else (rows, cols, spp))
    out = np.full(out_shape, 0x55, dtype)  # not zeros: every sample must be written
    _codecs.decode_jls(bytes(data), out, rows, cols, spp, bits_allocated, precision, int(signed),
                       "MONOCHROME2" if spp == 1 else "RGB",
                       planar_configuration=int(planar))
    return np.moveaxis(out, 0, -1) if planar and spp > 1 else out


@st.composite
def cases(draw, layouts=CHARLS_LAYOUTS, max_side: int = 24, precisions=(2, 16)):
    precision = draw(st.integers(*precisions))
    maxval = (1 << precision) - 1
    near = draw(st.integers(0, min(10, maxval // 2)))
    ilv, comps = draw(st.sampled_from(layouts))
    rows, cols = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    kind = draw(st.sampled_from(["noise", "smooth", "smooth", "constant"]))
    arr = image(draw(st.integers(0, 2**32 - 1)), rows, cols, comps, maxval, kind)
    return arr, precision, near, ilv


def assert_within(got: np.ndarray, arr: np.ndarray, near: int) -> None:
    assert got.shape == arr.shape
    assert int(np.abs(got.astype(np.int64) - arr.astype(np.int64)).max()) <= near


# ---- against CharLS ---------------------------------------------------------------------


@SETTINGS
@given(cases(layouts=[(0, 1), (1, 3), (2, 3)], max_side=40))  # its ILV 0 wants planes
def test_pyjpegls_streams(case):
    """CharLS's own encoder (default parameters), any precision, NEAR and interleave."""
    arr, precision, near, ilv = case
    try:
        data = bytes(jpeg_ls.encode_array(arr, lossy_error=near, interleave_mode=ilv))
    except RuntimeError:  # CharLS under-sizes its buffer for noise on tiny images
        assume(False)
    got = ours(data, arr.shape, precision)
    try:
        expected = charls(data)
    except RuntimeError:
        # CharLS's encoder writes NEAR > MAXVAL / 2 for data of few bits (precision from
        # the data), which its decoder then refuses; we decode it
        assert_within(got, arr, near)
    else:
        assert np.array_equal(got, expected)


@SETTINGS
@given(cases(), st.data())
def test_preset_parameters_and_restarts(case, data):
    """LSE thresholds / RESET (0 = default) and DRI restart intervals, against CharLS."""
    arr, precision, near, ilv = case
    maxval = (1 << precision) - 1
    kw = {name: data.draw(st.one_of(st.none(), st.just(0), st.integers(near + 1, maxval)),
                          label=name) for name in ("t1", "t2", "t3")}
    d = default_thresholds(maxval, near)
    assume((kw["t1"] or d[0]) <= (kw["t2"] or d[1]) <= (kw["t3"] or d[2]))
    multi = arr.ndim == 3 and ilv == 2
    kw["reset"] = data.draw(st.one_of(st.none(), st.just(64)) if multi else
                            st.one_of(st.none(), st.integers(3, max(255, maxval))), label="reset")
    kw["restart_interval"] = data.draw(st.one_of(st.none(), st.integers(1, arr.shape[0] + 1)),
                                       label="restart")
    stream = encode(arr, near=near, interleave=ilv, precision=precision, **kw)
    got = ours(stream, arr.shape, precision)
    if near == 0:
        assert np.array_equal(got, arr)  # lossless: the input is the exact answer
    try:
        expected = charls(stream)
    except RuntimeError:
        expected = None
    if expected is not None and not np.array_equal(got, expected):
        # CharLS 2.4 mis-decodes some streams with a custom RESET, where T.87 says RESET
        # cannot matter yet (a 4 x 1 image, P 9, RESET 257: four samples per context,
        # far below any halving; our decode equals the input, CharLS's does not).
        assert kw["reset"], "CharLS disagrees with no custom RESET"
        assert_within(got, arr, near)


@pytest.mark.parametrize("precision", [8, 16])
@pytest.mark.parametrize("ilv", [0, 1, 2])
@pytest.mark.parametrize("transform", [1, 2, 3])
def test_colour_transforms_as_charls(transform, ilv, precision):
    """HP1-HP3 (APP8 "mrfx"): undone as CharLS undoes them (not at all for ILV 0)."""
    maxval = (1 << precision) - 1
    for seed, kind in ((1, "noise"), (2, "smooth")):
        arr = image(seed, 17, 23, 3, maxval, kind)
        stream = encode(arr, interleave=ilv, precision=precision, colour_transform=transform)
        got = ours(stream, arr.shape, precision)
        assert np.array_equal(got, charls(stream))
        if ilv:
            assert np.array_equal(got, arr)


# ---- what CharLS cannot check: T.87 itself -----------------------------------------------


@SETTINGS
@given(cases(layouts=ALL_LAYOUTS), st.data())
def test_every_layout_and_reset(case, data):
    """ILV 1/2 with 2 components and custom RESET with ILV 2, which CharLS refuses or
    decodes wrongly: lossless gives the input back, near-lossless stays within NEAR."""
    arr, precision, near, ilv = case
    reset = data.draw(st.integers(3, max(255, (1 << precision) - 1)), label="reset")
    stream = encode(arr, near=near, interleave=ilv, precision=precision, reset=reset)
    assert_within(ours(stream, arr.shape, precision), arr, near)


@SETTINGS
@given(cases(precisions=(3, 16)), st.data())
def test_lse_maxval_below_full_range(case, data):
    """An LSE MAXVAL below 2**P - 1 codes with that MAXVAL everywhere (T.87 C.2.4.1.1)."""
    arr, precision, near, ilv = case
    full = (1 << precision) - 1
    maxval = data.draw(st.integers(max(int(arr.max()), 2 * near, 1), full), label="maxval")
    stream = encode(arr, near=near, interleave=ilv, precision=precision, maxval=maxval)
    assert_within(ours(stream, arr.shape, precision), arr, near)


@pytest.mark.parametrize("ilv,comps", ALL_LAYOUTS)
def test_large_lines_runs_and_restarts(ilv, comps):
    """Lines long enough for the longest run codes (J = 15), and many restart intervals."""
    arr = np.zeros((6, 40000, comps) if comps > 1 else (6, 40000), np.uint16)
    arr[2, 35000:] = 4095
    arr[4, ::997] = 17
    for restart in (None, 1, 4):
        stream = encode(arr, interleave=ilv, precision=12, restart_interval=restart)
        assert np.array_equal(ours(stream, arr.shape, 12), arr)


# ---- output layouts: size, sign, planes ------------------------------------------------


@pytest.mark.parametrize("precision,bits_allocated", [(5, 8), (8, 8), (8, 16), (12, 16),
                                                      (16, 16), (12, 32)])
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("comps,planar", [(1, False), (3, False), (3, True)])
def test_output_layouts(precision, bits_allocated, signed, comps, planar):
    """Any container, planar or interleaved; Pixel Representation 1 sign-extends from P."""
    arr = image(7, 13, 19, comps, (1 << precision) - 1, "noise")
    stream = encode(arr, interleave=2 if comps > 1 else 0, precision=precision)
    got = ours(stream, arr.shape, precision, bits_allocated=bits_allocated, signed=signed,
               planar=planar)
    expected = arr.astype(np.int64)
    if signed:
        expected = np.where(expected >= 1 << (precision - 1), expected - (1 << precision),
                            expected)
    assert np.array_equal(got.astype(np.int64), expected)


# ---- what encoders write around the data --------------------------------------------------


@pytest.mark.parametrize("padding", [b"\x00", b"\x00\x00", b"\xff\xff", b"\x00\xff"])
@pytest.mark.parametrize("ilv", [0, 1, 2])
def test_padding_and_missing_eoi(padding, ilv):
    arr = image(3, 21, 17, 3, 255, "smooth")
    clean = encode(arr, interleave=ilv, precision=8)
    for stream in (encode(arr, interleave=ilv, precision=8, pad_before_eoi=padding),
                   encode(arr, interleave=ilv, precision=8, write_eoi=False),
                   clean + padding, clean + b"\x00" * 100):
        assert np.array_equal(ours(stream, arr.shape, 8), arr)


def test_fill_bytes_before_soi_and_markers_skipped():
    arr = image(4, 9, 11, 1, 4095, "noise")
    stream = encode(arr, precision=12)
    com = b"\xff\xfe\x00\x09comment"
    app = b"\xff\xe0\x00\x04ab"
    patched = b"\xff" + stream[:2] + com + app + stream[2:]
    assert np.array_equal(ours(patched, arr.shape, 12), arr)


# ---- refusals: named, never a crash --------------------------------------------------------


def _patch_sos(stream: bytes, offset_in_segment: int, value: int) -> bytes:
    at = stream.index(b"\xff\xda") + 4 + offset_in_segment
    return stream[:at] + bytes([value]) + stream[at + 1:]


def test_mapping_table_is_unsupported():
    arr = image(5, 8, 8, 1, 255, "noise")
    stream = _patch_sos(encode(arr, precision=8), 2, 1)  # Tm of the first component
    with pytest.raises(UnsupportedError, match="mapping table"):
        ours(stream, arr.shape, 8)


def test_point_transform_is_unsupported():
    arr = image(5, 8, 8, 1, 255, "noise")
    stream = _patch_sos(encode(arr, precision=8), 5, 2)  # Al/Ah after NEAR and ILV
    with pytest.raises(UnsupportedError, match="point transform"):
        ours(stream, arr.shape, 8)


def test_subsampled_components_are_unsupported():
    arr = image(5, 8, 8, 3, 255, "noise")
    stream = bytearray(encode(arr, interleave=1, precision=8))
    sof = stream.index(b"\xff\xf7")
    stream[sof + 4 + 6 + 3 + 1] = 0x21  # component 2: H = 2
    with pytest.raises(UnsupportedError, match="sampling factors"):
        ours(bytes(stream), arr.shape, 8)


def test_invalid_thresholds_are_a_codec_error():
    arr = image(5, 8, 8, 1, 255, "noise")
    stream = encode(arr, precision=8, t1=9, t2=5, t3=30, validate=False)
    with pytest.raises(CodecError, match="thresholds"):
        ours(stream, arr.shape, 8)


def test_other_jpeg_process_is_refused():
    with pytest.raises(CodecError, match="another JPEG process"):
        ours(b"\xff\xd8\xff\xc0\x00\x0b\x08\x00\x08\x00\x08\x01\x01\x11\x00", (8, 8), 8)


def test_spec_checked_before_any_write():
    arr = image(6, 10, 12, 1, 4095, "noise")
    stream = encode(arr, precision=12)
    out = np.full((12, 10), 7, np.uint16)
    with pytest.raises(PixelDataError, match="10 x 12 with 1 components"):
        _codecs.decode_jls(stream, out, 12, 10, 1, 16, 12, 0, "MONOCHROME2")
    assert (out == 7).all()
    with pytest.raises(PixelDataError, match="precision 12 bits"):
        _codecs.decode_jls(stream, np.zeros((10, 12), np.uint8), 10, 12, 1, 8, 8, 0,
                           "MONOCHROME2")


@pytest.mark.parametrize("ilv", [0, 1, 2])
def test_truncation_never_reads_past_the_end(ilv):
    arr = image(8, 20, 20, 3, 255, "noise")
    stream = encode(arr, interleave=ilv, precision=8, restart_interval=3)
    for cut in range(0, len(stream) - 2, 7):
        with pytest.raises(DicomFramesError):
            ours(stream[:cut], arr.shape, 8)


def test_custom_reset_where_charls_disagrees():
    """The example hypothesis found: 4 rows x 1 column, P 9, RESET 257. With four
    samples no context count comes near RESET, so RESET cannot change the decode; ours
    equals the input, CharLS 2.4.1's does not (pyjpegls 1.5.1)."""
    arr = np.array([[511], [486], [486], [455]], dtype=np.uint16)
    for reset in (None, 257):
        stream = encode(arr, near=0, interleave=0, precision=9, reset=reset)
        assert np.array_equal(ours(stream, arr.shape, 9), arr)
