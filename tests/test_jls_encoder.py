"""The test-only JPEG-LS encoder (tests/jls_encoder.py) against CharLS, through pyjpegls.

Every stream our encoder writes must decode with CharLS to the input (lossless) or to within
NEAR of it (near-lossless); for default parameters the bytes must equal CharLS's own
encoder's.  Where the CharLS of pyjpegls 1.5.1 does not accept what T.87 allows, the case is
left out of the round trips and its behaviour is pinned in a test of its own:

* ILV 1 and ILV 2 scans of 2 components are refused ("parameter value not supported");
  ILV 2 is accepted for 1, 3 and 4 components, ILV 1 for 3 and 4.
* Colour transforms (APP8 "mrfx") are decoded for 8 and 16 bit samples with ILV 1 or 2
  only; other bit depths are refused, and with ILV 0 the transform is silently not undone.
* An LSE MAXVAL below 2**P - 1 only sets the default thresholds; RANGE, qbpp, LIMIT and the
  clamping still use 2**P - 1 (our encoder's maxval_coding="charls" writes such streams;
  the T.87 coding of them is refused or decoded wrongly).
* Partially given thresholds are completed with defaults computed on their own; a set that
  is then out of order (e.g. T2 below the default T1) is refused.
* After a restart marker CharLS takes the line above as all zeros, as at the top of the
  image; streams that keep the previous line are refused or decoded wrongly.
* A RESET other than 64 sends CharLS to a generic codec that handles ILV 2 with more than
  one component wrongly, and that with an LSE MAXVAL below 2**P - 1 decodes neither coding.
* RESET is kept in 8 bits: RESET 257 acts as 1 (round trips with a RESET above 255 are
  judged by our own decoder instead).
* In ILV 2 a run interruption codes every component as RItype 0 (context 365, Px = Rb).
* Bytes other than 0xFF fill bytes between the last scan and EOI are refused, and so is a
  stream without EOI.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

jpeg_ls = pytest.importorskip("jpeg_ls")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
import jls_encoder
from jls_encoder import charls_decode as decode
from jls_encoder import default_thresholds, encode, hp_forward, make_image

# JLS_ENCODER_EXAMPLES scales the example counts (e.g. 2000 for a long hunt)
N_EXAMPLES = int(os.environ.get("JLS_ENCODER_EXAMPLES", "150"))
SETTINGS = settings(max_examples=N_EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# (interleave, components) that CharLS decodes
LAYOUTS = [(0, 1), (0, 2), (0, 3), (0, 4), (1, 3), (1, 4), (2, 1), (2, 3), (2, 4)]


def ours_decode(data: bytes, arr: np.ndarray) -> np.ndarray:
    """Our decoder (dicomframes), for streams CharLS decodes wrongly."""
    from dicomframes import _codecs

    samples = arr.shape[2] if arr.ndim == 3 else 1
    out = np.zeros(arr.shape, np.uint16)
    _codecs.decode_jls(data, out, arr.shape[0], arr.shape[1], samples, 16, 16, 0,
                       "RGB" if samples == 3 else "MONOCHROME2")
    return out


def check_roundtrip(arr: np.ndarray, near: int = 0, *, ours: bool = False, **kw) -> bytes:
    """Encode `arr`, decode with CharLS (or with our decoder: `ours`), compare."""
    data = encode(arr, near=near, **kw)
    out = ours_decode(data, arr) if ours else decode(data)
    assert out.shape == arr.shape
    diff = np.abs(out.astype(np.int64) - arr.astype(np.int64))
    assert int(diff.max()) <= near
    return data


@st.composite
def cases(draw, max_side: int = 12):
    precision = draw(st.integers(2, 16))
    maxval = (1 << precision) - 1
    near = draw(st.integers(0, min(10, maxval // 2)))
    ilv, comps = draw(st.sampled_from(LAYOUTS))
    rows = draw(st.integers(1, max_side))
    cols = draw(st.integers(1, max_side))
    kind = draw(st.sampled_from(["noise", "smooth", "smooth", "constant"]))
    seed = draw(st.integers(0, 2**32 - 1))
    arr = make_image(seed, rows, cols, comps, maxval, kind)
    return arr, {"near": near, "interleave": ilv, "precision": precision}


@SETTINGS
@given(cases(max_side=24))
def test_roundtrip(case):
    arr, kw = case
    check_roundtrip(arr, **kw)


@SETTINGS
@given(cases(), st.data())
def test_roundtrip_preset_parameters(case, data):
    """LSE id 1 with custom T1-T3 / RESET (0 = default), and MAXVAL = 2**P - 1 written out."""
    arr, kw = case
    maxval = (1 << kw["precision"]) - 1
    near = kw["near"]
    given_ = {}
    for name in ("t1", "t2", "t3"):
        given_[name] = data.draw(st.one_of(st.none(), st.just(0), st.integers(near + 1, maxval)),
                                 label=name)
    given_["reset"] = data.draw(st.one_of(st.none(), st.just(0),
                                          st.integers(3, max(255, maxval))), label="reset")
    given_["maxval"] = data.draw(st.sampled_from([None, 0, maxval]), label="maxval")
    d = default_thresholds(maxval, near)
    t = [given_[n] or d[i] for i, n in enumerate(("t1", "t2", "t3"))]
    assume(t[0] <= t[1] <= t[2])
    if kw["interleave"] == 2 and arr.ndim == 3:
        assume(given_["reset"] in (None, 0, 64))  # CharLS: see test_charls_ilv2_custom_reset
    # CharLS keeps RESET in 8 bits (test_charls_reset_above_255): our decoder judges those
    check_roundtrip(arr, **kw, **given_, ours=(given_["reset"] or 0) > 255)


@SETTINGS
@given(cases(max_side=10), st.data())
def test_roundtrip_lse_maxval_charls(case, data):
    """MAXVAL below 2**P - 1, coded the way CharLS decodes it (see module docstring)."""
    arr, kw = case
    top = int(arr.max())
    maxval = data.draw(st.integers(max(1, top, 2 * kw["near"]), (1 << kw["precision"]) - 1),
                       label="maxval")
    d = default_thresholds(maxval, kw["near"])
    assume(d[0] >= kw["near"] + 1)
    check_roundtrip(arr, maxval=maxval, maxval_coding="charls", **kw)


@SETTINGS
@given(cases(), st.data())
def test_roundtrip_restart_interval(case, data):
    arr, kw = case
    ri = data.draw(st.integers(1, arr.shape[0] + 1), label="restart_interval")
    data_ = check_roundtrip(arr, restart_interval=ri, **kw)
    n_scans = arr.shape[2] if (kw["interleave"] == 0 and arr.ndim == 3) else 1
    n_rst = n_scans * ((arr.shape[0] - 1) // ri)
    assert sum(data_.count(bytes((0xFF, 0xD0 + m))) for m in range(8)) >= n_rst


@settings(max_examples=max(1, N_EXAMPLES // 2), deadline=None)
@given(st.sampled_from([8, 16]), st.sampled_from([1, 2, 3]), st.sampled_from([1, 2]),
       st.integers(1, 9), st.integers(1, 9), st.sampled_from(["noise", "smooth"]),
       st.integers(0, 2**32 - 1), st.sampled_from([None, 3]))
def test_roundtrip_colour_transform(precision, transform, ilv, rows, cols, kind, seed, ri):
    arr = make_image(seed, rows, cols, 3, (1 << precision) - 1, kind)
    data = check_roundtrip(arr, interleave=ilv, precision=precision,
                           colour_transform=transform, restart_interval=ri)
    assert data[2:10] == b"\xff\xe8\x00\x07mrfx" and data[10] == transform
    assert jpeg_ls.decode_buffer(data)[1]["colour_transformation"] == transform


@pytest.mark.parametrize("transform", [1, 2, 3])
def test_hp_forward_is_charls_inverse_exhaustive_8bit(transform):
    """Every 8-bit RGB triple in a strided grid comes back through CharLS's inverse."""
    v = np.arange(0, 256, 15, dtype=np.uint8)
    r, g, b = np.meshgrid(v, v, v, indexing="ij")
    arr = np.stack([r, g, b], axis=-1).reshape(18 * 18, 18, 3)
    assert np.array_equal(decode(encode(arr, interleave=2, colour_transform=transform)), arr)


def _charls_encode(arr: np.ndarray, near: int, ilv: int) -> bytes:
    try:
        if arr.ndim == 3 and ilv == 0:
            return bytes(jpeg_ls.encode_array(np.ascontiguousarray(arr.transpose(2, 0, 1)),
                                              near, 0))
        return bytes(jpeg_ls.encode_array(arr, near, ilv if arr.ndim == 3 else None))
    except RuntimeError as exc:  # CharLS's output buffer is too small for tiny images
        assume("too small" not in str(exc))
        raise


def _lse_of(data: bytes) -> dict:
    """The preset parameters of an LSE id 1 segment in `data` (CharLS writes one, with the
    default values, when P > 12), as encode() keywords; {} when there is none."""
    i = data.find(b"\xff\xf8\x00\x0d\x01")
    if i < 0:
        return {}
    vals = [int.from_bytes(data[i + 5 + 2 * j:i + 7 + 2 * j], "big") for j in range(5)]
    return dict(zip(("maxval", "t1", "t2", "t3", "reset"), vals))


def assert_same_as_charls(arr: np.ndarray, near: int, ilv: int, **kw) -> None:
    theirs = _charls_encode(arr, near, ilv)
    ours = encode(arr, near=near, interleave=ilv, **kw, **_lse_of(theirs))
    assert ours == theirs


@pytest.mark.parametrize("ilv,comps", [(0, 1), (0, 3), (1, 3), (2, 3)])
@pytest.mark.parametrize("near", [0, 2])
@pytest.mark.parametrize("precision,kind", [(8, "smooth"), (8, "noise"), (12, "smooth"),
                                            (16, "noise")])
def test_bytes_equal_charls_encoder(ilv, comps, near, precision, kind):
    arr = make_image(precision * 31 + near, 24, 21, comps, (1 << precision) - 1, kind)
    arr.flat[0] = (1 << precision) - 1  # pyjpegls takes P from the largest sample
    assert_same_as_charls(arr, near, ilv)


@settings(max_examples=max(1, N_EXAMPLES // 2), deadline=None)
@given(cases(max_side=20))
def test_bytes_equal_charls_encoder_random(case):
    arr, kw = case
    ilv = kw["interleave"]
    arr.flat[0] = (1 << kw["precision"]) - 1
    assert_same_as_charls(arr, kw["near"], ilv if arr.ndim == 3 else 0,
                          precision=kw["precision"])


# --- where CharLS and T.87 part ways, pinned -------------------------------------------------

def _decodes_to(data: bytes, arr: np.ndarray) -> bool:
    try:
        return np.array_equal(decode(data), arr)
    except RuntimeError:
        return False


def test_charls_refuses_two_components_line_or_sample_interleaved():
    arr = make_image(1, 5, 6, 2, 255, "noise")
    assert _decodes_to(encode(arr, interleave=0), arr)
    for ilv in (1, 2):
        with pytest.raises(RuntimeError, match="not supported"):
            decode(encode(arr, interleave=ilv))


@pytest.mark.parametrize("precision", [2, 5, 10, 12])
def test_charls_colour_transform_bit_depths(precision):
    arr = make_image(precision, 4, 5, 3, (1 << precision) - 1, "noise")
    with pytest.raises(RuntimeError, match="bit depth"):
        decode(encode(arr, interleave=2, colour_transform=1, precision=precision))


def test_charls_ignores_colour_transform_with_ilv0():
    arr = make_image(3, 6, 7, 3, 255, "noise")
    out = decode(encode(arr, interleave=0, colour_transform=2))
    assert np.array_equal(out, hp_forward(arr, 2, 8))


def test_charls_lse_maxval_only_sets_thresholds():
    arr = np.zeros((2, 6), np.uint16)
    arr[0, 3] = 1
    assert _decodes_to(encode(arr, maxval=256, precision=9, maxval_coding="charls"), arr)
    assert not _decodes_to(encode(arr, maxval=256, precision=9, maxval_coding="t87"), arr)
    # with MAXVAL = 2**P - 1 the two codings are the same stream
    assert (encode(arr, maxval=511, precision=9, maxval_coding="t87")
            == encode(arr, maxval=511, precision=9, maxval_coding="charls"))


def test_charls_refuses_out_of_order_completed_thresholds():
    arr = make_image(4, 5, 5, 1, 3, "noise")
    # default T1 for MAXVAL 3, NEAR 0 is 2: a given T2 of 1 is below it
    data = encode(arr, precision=2, t2=1, validate=False)
    with pytest.raises(RuntimeError, match="preset"):
        decode(data)
    with pytest.raises(ValueError):
        encode(arr, precision=2, t2=1)


@pytest.mark.parametrize("ilv,comps", [(0, 1), (1, 3), (2, 3)])
def test_charls_restart_clears_line_above(ilv, comps):
    arr = make_image(11, 10, 7, comps, 255, "smooth")
    assert _decodes_to(encode(arr, interleave=ilv, restart_interval=3), arr)
    assert not _decodes_to(encode(arr, interleave=ilv, restart_interval=3,
                                  _restart_clears_lines=False), arr)


def test_charls_ilv2_interruption_is_ritype0_for_every_component(monkeypatch):
    rng = np.random.default_rng(2)
    arrs = []
    for _ in range(10):
        a = (rng.integers(0, 4, size=(6, 9, 3)) * 3).astype(np.uint8)
        a[:, :4] = a[0, 0]
        arrs.append(a)
    assert all(_decodes_to(encode(a, interleave=2), a) for a in arrs)
    orig = jls_encoder._ScanCoder.interruption

    def per_component_ritype(self, ra, rb, ix, comp, force_type0=False):
        return orig(self, ra, rb, ix, comp, False)

    monkeypatch.setattr(jls_encoder._ScanCoder, "interruption", per_component_ritype)
    assert not all(_decodes_to(encode(a, interleave=2), a) for a in arrs)


@pytest.mark.parametrize("reset", [3, 63, 65, 255])
def test_charls_ilv2_custom_reset(reset):
    """A RESET other than 64 makes CharLS use its generic codec, whose pixel is one sample:
    ILV 2 with more than one component then fails even for a single pixel (where RESET
    cannot matter); ILV 0 and 1 decode."""
    arr = np.array([[[3, 2, 2]]], np.uint8)
    assert _decodes_to(encode(arr, interleave=2, precision=8, reset=64), arr)
    assert _decodes_to(encode(arr, interleave=1, precision=8, reset=reset), arr)
    assert not _decodes_to(encode(arr, interleave=2, precision=8, reset=reset), arr)


def test_charls_reset_above_255():
    """CharLS 2.4.1 keeps RESET in 8 bits: RESET 257 acts as 1, 258 as 2, and the counts
    are halved after every sample, so a 3 x 4 image that RESET 256, 300 or none decodes
    right comes out wrong (hypothesis found it). Our decoder decodes every one right."""
    arr = np.array([[659, 659, 659, 659], [659, 659, 659, 659], [722, 659, 659, 596]],
                   dtype=np.uint16)
    for reset in (None, 255, 256, 300, 511, 1023):
        assert _decodes_to(encode(arr, interleave=0, precision=10, reset=reset), arr), reset
    for reset in (257, 258, 513, 769):
        stream = encode(arr, interleave=0, precision=10, reset=reset)
        assert not _decodes_to(stream, arr), reset
        assert np.array_equal(ours_decode(stream, arr), arr), reset


def test_charls_custom_reset_with_lower_maxval():
    """With a RESET other than 64 and an LSE MAXVAL below 2**P - 1, CharLS decodes neither
    coding (its generic codec clamps with MAXVAL as a bit mask)."""
    arr = make_image(1, 5, 6, 1, 200, "smooth")
    for mode in ("t87", "charls"):
        assert not _decodes_to(encode(arr, precision=8, maxval=200, reset=20,
                                      maxval_coding=mode), arr)


def test_charls_padding_before_eoi():
    arr = make_image(5, 5, 6, 3, 255, "noise")
    assert _decodes_to(encode(arr, interleave=1, pad_before_eoi=b"\xff\xff"), arr)
    with pytest.raises(RuntimeError):
        decode(encode(arr, interleave=1, pad_before_eoi=b"\x00\x00"))
    with pytest.raises(RuntimeError):
        decode(encode(arr, interleave=1, write_eoi=False))


def test_stream_ends_with_ff_data_byte():
    """A scan whose last data byte is 0xFF gets a 0x00 after it (as CharLS writes)."""
    arr = np.zeros((1, 11), np.uint8)  # eight 1 bits of run length: one 0xFF byte
    data = encode(arr, precision=8)
    assert data.endswith(b"\xff\x00\xff\xd9")
    assert _decodes_to(data, arr)


@pytest.mark.parametrize("kind", ["noise", "smooth"])
@pytest.mark.parametrize("ilv", [0, 1, 2])
def test_64x64x3_and_speed(kind, ilv):
    """Long runs (high RUNindex), RESET halving at the default 64, and the time it takes."""
    import time
    arr = make_image(ilv, 64, 64, 3, 255, kind)
    t = time.perf_counter()
    data = encode(arr, interleave=ilv)
    assert time.perf_counter() - t < 5
    assert _decodes_to(data, arr)
    assert data == _charls_encode(arr, 0, ilv)
