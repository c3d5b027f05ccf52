"""The 8-bit DCT JPEG decoder on libjpeg(-turbo) (csrc/dcf_jpeg8.c), through
dicomframes._codecs.decode_jpeg8, against the conformance corpus, the T.83 compliance
streams, Pillow, pydicom and imagecodecs.

* corpus: every 8-bit JPEG Baseline/Extended file decodes (as_rgb=True) to the manifest's
  `sha256` (within `tolerance` of reference/<file>.npz), and with as_rgb=False to
  `sha256_raw` (the stored YCbCr, upsampled), equal to pydicom + Pillow with as_rgb=False;
  the 12-bit and lossless files raise UnsupportedError (another decoder's job).
* jpeg10918/: the 8-bit streams of p1, p2, p4 (4 components, restart intervals,
  non-interleaved scans) decode to their libjpeg-turbo reference checksums; the
  abbreviated B1/B2 fail cleanly; 12-bit and lossless ones are UnsupportedError.
* round trips of imagecodecs' jpeg8_encode (1 and 3 components, 4:4:4 / 4:2:2 / 4:2:0, odd
  sizes) equal imagecodecs' own decode; `reduce` equals Pillow's scaled decode (draft),
  which is libjpeg-turbo's scale_denom; as_rgb=False equals Pillow's YCbCr.
* damage: truncations, bit flips and junk raise DicomFramesError subclasses only; the
  tolerated cases (padding after EOI, extraneous bytes before EOI, a missing EOI in a
  single-scan stream) decode to the same pixels.
"""

from __future__ import annotations

import hashlib
import io
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import dicomframes
from dicomframes import _codecs
from dicomframes.errors import (
    DicomFramesError,
    MalformedError,
    PixelDataError,
    TruncatedError,
    UnsupportedError,
    UnsupportedTransferSyntaxError,
)

from conftest import CORPUS, manifest_entries, manifest_sha256

T83 = CORPUS / "jpeg10918"


def decode(data, rows, columns, samples=1, photometric="MONOCHROME2", *, as_rgb=True,
           reduce=0, planar=0, bits_stored=8, pixel_representation=0) -> np.ndarray:
    r, c = -(-rows >> reduce), -(-columns >> reduce)
    shape = (samples, r, c) if planar else (r, c, samples)
    out = np.empty(shape, np.uint8)
    _codecs.decode_jpeg8(data, out, r, c, samples, 8, bits_stored, pixel_representation,
                         photometric, planar, as_rgb=as_rgb, reduce=reduce)
    return out if samples > 1 else out[..., 0]


def header(data: bytes) -> tuple[int, int, int]:
    """(rows, columns, components) from the first SOFn segment."""
    pos = 2
    while True:
        marker, length = data[pos + 1], int.from_bytes(data[pos + 2:pos + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            seg = data[pos + 4:]
            return (int.from_bytes(seg[1:3], "big"), int.from_bytes(seg[3:5], "big"), seg[5])
        pos += 2 + length


def decode_stream(data: bytes, **kw) -> np.ndarray:
    rows, columns, samples = header(data)
    photometric = "MONOCHROME2" if samples == 1 else "YBR_FULL"
    return decode(data, rows, columns, samples, photometric, **kw)


# ---- the conformance corpus -------------------------------------------------------------

JPEG8_ENTRIES = [e for e in manifest_entries("compressed")
                 if e["codec"] == "jpeg" and e["bits_stored"] == 8]
OTHER_JPEG_ENTRIES = [e for e in manifest_entries("compressed")
                      if e["codec"] == "jpeg-lossless"
                      or (e["codec"] == "jpeg" and e["bits_stored"] != 8)]


def entry_params(entries):
    if not entries:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no corpus at {CORPUS}"))]
    return [pytest.param(e, id=e["file"]) for e in entries]


def encoded_frames(path: Path, frames: int) -> list:
    """Each frame's codestream: dicomframes' own encoded_frame(k) once the file API knows
    the transfer syntax, pydicom's fragment parser until then."""
    try:
        with dicomframes.open(path) as f:
            return [bytes(f.encoded_frame(k)) for k in range(len(f))]
    except UnsupportedTransferSyntaxError:
        pydicom = pytest.importorskip("pydicom")
        from pydicom.encaps import generate_frames

        ds = pydicom.dcmread(path)
        return list(generate_frames(ds.PixelData, number_of_frames=frames))


def decode_entry(entry: dict, as_rgb: bool) -> np.ndarray:
    frames = encoded_frames(CORPUS / entry["file"], entry["frames"])
    assert len(frames) == entry["frames"]
    decoded = [decode(b, entry["rows"], entry["columns"], entry["samples_per_pixel"],
                      entry["photometric_interpretation"], as_rgb=as_rgb,
                      pixel_representation=entry["pixel_representation"]) for b in frames]
    return np.stack(decoded).reshape(entry["expected"]["shape"])


@pytest.mark.parametrize("entry", entry_params(JPEG8_ENTRIES))
def test_corpus_as_rgb(entry):
    """as_rgb=True: pydicom's default output (YBR converted to RGB), within tolerance of
    the reference array; in fact bit-exact with libjpeg-turbo 2.1.5 (checked by hash)."""
    expected = entry["expected"]
    stack = decode_entry(entry, as_rgb=True)
    assert stack.dtype == np.dtype(expected["dtype"])
    with np.load(CORPUS / entry["reference_array"]) as npz:
        reference = npz["default"].reshape(expected["shape"])
    diff = np.abs(stack.astype(np.int16) - reference.astype(np.int16)).max()
    assert diff <= entry["tolerance"], f"{entry['file']}: off by {diff}"
    assert manifest_sha256(stack) == expected["sha256"]


@pytest.mark.parametrize("entry", entry_params(JPEG8_ENTRIES))
def test_corpus_raw(entry):
    """as_rgb=False: the stored components, pydicom's raw=True (YCbCr upsampled to full
    size for the YBR files, RGB as stored for the RGB ones)."""
    expected = entry["expected"]
    stack = decode_entry(entry, as_rgb=False)
    assert manifest_sha256(stack) == expected.get("sha256_raw", expected["sha256"])


@pytest.mark.parametrize("entry", entry_params(JPEG8_ENTRIES))
def test_corpus_equals_pydicom_pillow(entry):
    """Both colour options against pydicom 3 with its Pillow plugin, decoded here."""
    pydicom = pytest.importorskip("pydicom")
    pytest.importorskip("PIL")
    ds = pydicom.dcmread(CORPUS / entry["file"])
    for as_rgb in (True, False):
        ds.pixel_array_options(decoding_plugin="pillow", as_rgb=as_rgb)
        expected = ds.pixel_array
        np.testing.assert_array_equal(decode_entry(entry, as_rgb).reshape(expected.shape),
                                      expected, err_msg=f"as_rgb={as_rgb}")


@pytest.mark.parametrize("entry", entry_params(OTHER_JPEG_ENTRIES))
def test_corpus_12bit_and_lossless_are_unsupported(entry):
    """12-bit and lossless streams are for the other JPEG decoder: UnsupportedError."""
    for b in encoded_frames(CORPUS / entry["file"], entry["frames"]):
        with pytest.raises(UnsupportedError):
            decode(b, entry["rows"], entry["columns"], entry["samples_per_pixel"],
                   entry["photometric_interpretation"])


# ---- T.83 | ISO/IEC 10918-2 compliance streams ---------------------------------------------

def t83_streams() -> list[dict]:
    path = T83 / "manifest.json"
    if not path.is_file():
        return []
    return json.loads(path.read_text())["streams"]


def t83_params(select):
    streams = [s for s in t83_streams() if select(s)]
    if not streams:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no streams at {T83}"))]
    return [pytest.param(s, id=s["file"]) for s in streams]


@pytest.mark.parametrize("stream", t83_params(
    lambda s: s["precision"] == 8 and s["sof"] in ("SOF0", "SOF1", "SOF2")
    and s["components"] is not None and s["components"] <= 4))
def test_t83_8bit(stream):
    """A1 (baseline, restart interval 5), C1 (extended, restart 10), C2 (extended, 4
    non-interleaved scans): 4 components sampled 1x1, 1x2, 3x1, 1x4, stored values (no
    colour transform), equal to libjpeg-turbo through Pillow (its CMYK inversion undone)."""
    data = (T83 / stream["file"]).read_bytes()
    ref = stream["reference"]
    assert "libjpeg-turbo" in ref["decoder"]
    out = decode(data, stream["rows"], stream["columns"], stream["components"], "OTHER")
    assert out.shape == tuple(ref["shape"])
    assert hashlib.sha256(out.tobytes()).hexdigest() == ref["sha256"]


@pytest.mark.parametrize("stream", t83_params(lambda s: s["file"].endswith(("B1.JPG", "B2.JPG"))))
def test_t83_abbreviated_streams_fail_cleanly(stream):
    """B1 holds tables only, B2 has 255 components: no decoder here decodes them."""
    data = (T83 / stream["file"]).read_bytes()
    with pytest.raises(DicomFramesError, match="JPEG"):
        decode(data, stream["rows"] or 1, stream["columns"] or 1, 3, "RGB")


@pytest.mark.parametrize("stream", t83_params(
    lambda s: s["precision"] is not None and (s["precision"] != 8 or s["sof"] == "SOF3")))
def test_t83_12bit_and_lossless_are_unsupported(stream):
    data = (T83 / stream["file"]).read_bytes()
    with pytest.raises(UnsupportedError):
        decode(data, stream["rows"], stream["columns"], stream["components"], "OTHER")


# ---- round trips and other decoders -------------------------------------------------------

def pillow_decode(data: bytes, mode: str | None = None, reduce: int = 0) -> np.ndarray:
    """Pillow (libjpeg-turbo): mode "YCbCr" keeps the stored components; reduce through
    draft(), which sets libjpeg's scale_denom."""
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    if mode or reduce:
        w, h = image.size
        image.draft(mode or image.mode, (w >> reduce, h >> reduce) if reduce else None)
    return np.asarray(image)


def random_image(rng, rows, columns, samples):
    """A smooth image with some noise: the JPEG-typical case, not all high frequencies."""
    y, x = np.mgrid[0:rows, 0:columns]
    base = (x * 255 // max(columns - 1, 1) + y * 128 // max(rows - 1, 1))[..., None]
    image = base + rng.integers(-40, 40, (rows, columns, samples)) + np.arange(samples) * 50
    image = np.clip(image, 0, 255).astype(np.uint8)
    return image if samples > 1 else np.ascontiguousarray(image[..., 0])


def test_round_trip_hypothesis():
    """imagecodecs' jpeg8_encode -> ours == imagecodecs' jpeg8_decode of the same bytes
    (both libjpeg-turbo, ISLOW, fancy upsampling: equal, no tolerance needed), for
    as_rgb=True (RGB) and as_rgb=False (YCbCr, imagecodecs outcolorspace YCbCr)."""
    imagecodecs = pytest.importorskip("imagecodecs")
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=150, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(rows=st.integers(1, 70), columns=st.integers(1, 70),
           samples=st.sampled_from([1, 3]), subsampling=st.sampled_from(["444", "422", "420"]),
           level=st.integers(10, 100), seed=st.integers(0, 2**32 - 1))
    def check(rows, columns, samples, subsampling, level, seed):
        image = random_image(np.random.default_rng(seed), rows, columns, samples)
        kw = {"subsampling": subsampling} if samples == 3 else {}
        data = imagecodecs.jpeg8_encode(image, level=level, **kw)
        pi = "YBR_FULL_422" if samples == 3 else "MONOCHROME2"
        ours = decode(data, rows, columns, samples, pi)
        np.testing.assert_array_equal(ours, imagecodecs.jpeg8_decode(data))
        if samples == 3:
            raw = decode(data, rows, columns, samples, pi, as_rgb=False)
            np.testing.assert_array_equal(
                raw, imagecodecs.jpeg8_decode(data, outcolorspace="YCbCr"))
            # Planar output: the same samples, as planes.
            planar = decode(data, rows, columns, samples, pi, planar=1)
            np.testing.assert_array_equal(planar, np.moveaxis(ours, -1, 0))

    check()


def test_reduce_equals_pillow_draft_hypothesis():
    """reduce=r is libjpeg-turbo's scaled IDCT (scale 1/2**r), which Pillow's draft() also
    uses: equal, shape ceil(n / 2**r)."""
    pytest.importorskip("PIL")
    imagecodecs = pytest.importorskip("imagecodecs")
    pytest.importorskip("hypothesis")
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=100, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(reduce=st.integers(1, 3), rows=st.integers(8, 90), columns=st.integers(8, 90),
           samples=st.sampled_from([1, 3]), subsampling=st.sampled_from(["444", "422", "420"]),
           as_rgb=st.booleans(), seed=st.integers(0, 2**32 - 1))
    def check(reduce, rows, columns, samples, subsampling, as_rgb, seed):
        image = random_image(np.random.default_rng(seed), rows, columns, samples)
        kw = {"subsampling": subsampling} if samples == 3 else {}
        data = imagecodecs.jpeg8_encode(image, level=85, **kw)
        pi = "YBR_FULL" if samples == 3 else "MONOCHROME2"
        ours = decode(data, rows, columns, samples, pi, as_rgb=as_rgb, reduce=reduce)
        assert ours.shape[:2] == (-(-rows >> reduce), -(-columns >> reduce))
        mode = None if as_rgb or samples == 1 else "YCbCr"
        np.testing.assert_array_equal(ours, pillow_decode(data, mode, reduce))

    check()


def test_reduce_on_corpus_equals_pillow(corpus_file):
    """examples_ybr_color frame 0 (4:2:2, 240 x 320) at every reduce, both colour options."""
    pytest.importorskip("PIL")
    data = encoded_frames(corpus_file("examples_ybr_color.dcm"), 30)[0]
    for reduce in range(4):
        for as_rgb in (True, False):
            ours = decode(data, 240, 320, 3, "YBR_FULL_422", as_rgb=as_rgb, reduce=reduce)
            assert ours.shape == (-(-240 >> reduce), -(-320 >> reduce), 3)
            np.testing.assert_array_equal(
                ours, pillow_decode(data, None if as_rgb else "YCbCr", reduce))


def pillow_encode(image: np.ndarray, **kw) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", **kw)
    return buf.getvalue()


@pytest.mark.parametrize("samples, subsampling", [(1, 0), (3, 0), (3, 1), (3, 2)])
def test_progressive_equals_pillow(samples, subsampling):
    """SOF2 (progressive) streams written by Pillow, decoded at every reduce."""
    pytest.importorskip("PIL")
    image = random_image(np.random.default_rng(samples + subsampling), 45, 67, samples)
    data = pillow_encode(image, progressive=True, quality=85, subsampling=subsampling)
    assert b"\xff\xc2" in data
    for reduce in range(4):
        np.testing.assert_array_equal(decode_stream(data, reduce=reduce),
                                      pillow_decode(data, reduce=reduce))


def test_restart_intervals_equal_imagecodecs():
    pytest.importorskip("PIL")
    imagecodecs = pytest.importorskip("imagecodecs")
    image = random_image(np.random.default_rng(5), 64, 48, 3)
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=90, restart_marker_blocks=3)
    data = buf.getvalue()
    assert b"\xff\xdd" in data
    np.testing.assert_array_equal(decode_stream(data), imagecodecs.jpeg8_decode(data))


# ---- colour interpretation ---------------------------------------------------------------

def strip_jfif(data: bytes) -> bytes:
    assert data[2:4] == b"\xff\xe0"
    length = int.from_bytes(data[4:6], "big")
    return data[:2] + data[4 + length:]


def with_component_ids(data: bytes, ids: bytes) -> bytes:
    pos = data.index(b"\xff\xc0")
    out = bytearray(data)
    for k, cid in enumerate(ids):
        out[pos + 10 + 3 * k] = cid
    # The SOS segment names the components by id too.
    sos = data.index(b"\xff\xda")
    n = out[sos + 4]
    for k in range(n):
        old = data[sos + 5 + 2 * k]
        out[sos + 5 + 2 * k] = ids[[data[pos + 10 + 3 * j] for j in range(3)].index(old)]
    return bytes(out)


def test_rgb_photometric_without_markers_is_not_converted():
    """No JFIF/Adobe marker, component ids 1,2,3: libjpeg would assume YCbCr; a dataset
    that says RGB keeps the stored values (pydicom + Pillow's result), one that says YBR
    is converted."""
    imagecodecs = pytest.importorskip("imagecodecs")
    image = random_image(np.random.default_rng(1), 24, 40, 3)
    data = strip_jfif(imagecodecs.jpeg8_encode(image, level=95, subsampling="444"))
    stored = imagecodecs.jpeg8_decode(data, colorspace="YCbCr", outcolorspace="YCbCr")
    converted = imagecodecs.jpeg8_decode(data, colorspace="YCbCr", outcolorspace="RGB")
    assert not np.array_equal(stored, converted)
    for as_rgb in (True, False):
        np.testing.assert_array_equal(decode(data, 24, 40, 3, "RGB", as_rgb=as_rgb), stored)
    np.testing.assert_array_equal(decode(data, 24, 40, 3, "YBR_FULL"), converted)
    np.testing.assert_array_equal(decode(data, 24, 40, 3, "YBR_FULL", as_rgb=False), stored)
    # With a JFIF marker, the stream is YCbCr whatever the dataset says (libjpeg's rule,
    # and pydicom's: it changes the Photometric Interpretation to YBR_FULL_422).
    jfif = imagecodecs.jpeg8_encode(image, level=95, subsampling="444")
    np.testing.assert_array_equal(decode(jfif, 24, 40, 3, "RGB"),
                                  imagecodecs.jpeg8_decode(jfif))


def test_rgb_component_ids_are_not_converted():
    """Component ids 'R','G','B' (no JFIF): RGB as stored, both colour options."""
    imagecodecs = pytest.importorskip("imagecodecs")
    image = random_image(np.random.default_rng(2), 16, 16, 3)
    data = with_component_ids(
        strip_jfif(imagecodecs.jpeg8_encode(image, level=95, subsampling="444")), b"RGB")
    stored = imagecodecs.jpeg8_decode(data, colorspace="YCbCr", outcolorspace="YCbCr")
    for as_rgb in (True, False):
        np.testing.assert_array_equal(decode(data, 16, 16, 3, "YBR_FULL", as_rgb=as_rgb),
                                      stored)


# ---- damage --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def streams() -> dict[str, bytes]:
    """A few small streams of each kind: grey, 4:2:0 colour, progressive, restarts."""
    pytest.importorskip("PIL")
    rng = np.random.default_rng(7)
    grey = random_image(rng, 19, 23, 1)
    colour = random_image(rng, 21, 34, 3)
    return {
        "grey": pillow_encode(grey, quality=90),
        "colour420": pillow_encode(colour, quality=80, subsampling=2),
        "progressive": pillow_encode(colour, quality=80, progressive=True),
        "restarts": pillow_encode(colour, quality=80, restart_marker_blocks=2),
    }


def test_padding_and_extraneous_bytes_are_accepted(streams):
    """Bytes after EOI are never read; junk between the entropy data and EOI only makes
    libjpeg warn "extraneous bytes before marker": same pixels."""
    for name, data in streams.items():
        expected = decode_stream(data)
        assert data.endswith(b"\xff\xd9")
        for variant in (data + b"\x00", data + b"\x00" * 1000 + b"\xff\xd8junk",
                        data[:-2] + b"\x00\x00\x00\xff\xd9"):
            np.testing.assert_array_equal(decode_stream(variant), expected, err_msg=name)


def test_invalid_sos_parameters_are_accepted(streams):
    """Se = 0 instead of 63 in a sequential scan (as in the corpus' JPGExtended.dcm): libjpeg
    warns "Invalid SOS parameters for sequential JPEG" and ignores them, like GDCM and
    Pillow: same pixels."""
    for name in ("grey", "colour420", "restarts"):
        data = streams[name]
        sos = data.index(b"\xff\xda")
        se = sos + 5 + 2 * data[sos + 4] + 1
        assert data[se] == 63
        patched = data[:se] + b"\x00" + data[se + 1:]
        np.testing.assert_array_equal(decode_stream(patched), decode_stream(data), err_msg=name)


def test_missing_eoi(streams):
    """No EOI marker: a single-scan stream still decodes (every coefficient came from its
    bytes); a progressive one cannot be told from one missing its last scans: truncated."""
    for name, data in streams.items():
        if name == "progressive":
            with pytest.raises(TruncatedError):
                decode_stream(data[:-2])
        else:
            np.testing.assert_array_equal(decode_stream(data[:-2]), decode_stream(data))


def test_truncation_sweep(streams):
    """Every cut that removes entropy-coded data fails (TruncatedError for cuts past the
    headers), never a crash or made-up pixels; only DicomFramesError is raised."""
    for name, data in streams.items():
        sos = data.index(b"\xff\xda")
        for n in range(0, len(data) - 2):
            try:
                decode_stream(data[:n]) if n > sos else decode(data[:n], 1, 1)
            except DicomFramesError as exc:
                if n > sos + 14:
                    assert isinstance(exc, TruncatedError), (name, n, exc)
            else:
                pytest.fail(f"{name}: cut to {n} of {len(data)} bytes decoded")


def test_bit_flip_sweep(streams):
    """Flip bits all over each stream: decodes or raises a DicomFramesError."""
    rng = np.random.default_rng(11)
    kinds: dict[str, int] = {}
    for name, data in streams.items():
        rows, columns, samples = header(data)
        for _ in range(400):
            damaged = bytearray(data)
            for pos in rng.integers(2, len(data), rng.integers(1, 4)):
                damaged[pos] ^= 1 << int(rng.integers(0, 8))
            try:
                decode(bytes(damaged), rows, columns, samples, "YBR_FULL",
                       as_rgb=bool(rng.integers(0, 2)), reduce=int(rng.integers(0, 4)))
                kinds["ok"] = kinds.get("ok", 0) + 1
            except DicomFramesError as exc:
                kinds[type(exc).__name__] = kinds.get(type(exc).__name__, 0) + 1
    assert kinds.get("CodecError", 0) > 0


def test_corrupt_entropy_data_fails(streams):
    """libjpeg's warnings that mean lost data are errors here: bad Huffman codes
    (CodecError), a missing restart marker."""
    data = streams["restarts"]
    rst = data.index(b"\xff\xd0")
    no_rst = data[:rst] + data[rst + 2:]
    with pytest.raises(DicomFramesError, match="RST|Corrupt"):
        decode_stream(no_rst)
    sos = data.index(b"\xff\xda")
    length = int.from_bytes(data[sos + 2:sos + 4], "big")
    garbage = bytearray(data)
    start = sos + 2 + length
    garbage[start:start + 40] = b"\xff\x00" * 20  # all-ones bits: no valid Huffman code
    with pytest.raises(DicomFramesError, match="Corrupt JPEG data"):
        decode_stream(bytes(garbage))


# ---- arguments ----------------------------------------------------------------------------

def test_spec_mismatches(streams):
    data = streams["colour420"]
    rows, columns, _ = header(data)
    with pytest.raises(PixelDataError, match="21 x 34"):
        decode(data, rows + 1, columns, 3, "YBR_FULL")
    with pytest.raises(PixelDataError, match="components"):
        decode(data, rows, columns, 1, "MONOCHROME2")
    out = np.empty((rows, columns, 3), np.uint8)  # full size, but reduce=1
    with pytest.raises(PixelDataError, match="after reduce 1"):
        _codecs.decode_jpeg8(data, out, rows, columns, 3, 8, 8, 0, "YBR_FULL", reduce=1)
    out = np.empty((rows, columns, 3), np.uint16)
    with pytest.raises(UnsupportedError, match="bits allocated 16"):
        _codecs.decode_jpeg8(data, out, rows, columns, 3, 16, 8, 0, "YBR_FULL")
    out = np.empty((rows, columns, 3), np.uint8)
    with pytest.raises(DicomFramesError, match="reduce"):
        _codecs.decode_jpeg8(data, out, rows, columns, 3, 8, 8, 0, "YBR_FULL", reduce=4)
    with pytest.raises(DicomFramesError, match="output buffer"):
        _codecs.decode_jpeg8(data, out[:-1], rows, columns, 3, 8, 8, 0, "YBR_FULL")
    with pytest.raises(TruncatedError):
        _codecs.decode_jpeg8(b"", out, rows, columns, 3, 8, 8, 0, "YBR_FULL")
    with pytest.raises(MalformedError, match="SOI"):
        _codecs.decode_jpeg8(b"\x00" * 100, out, rows, columns, 3, 8, 8, 0, "YBR_FULL")


def test_bits_stored_below_8(streams):
    """Bits Stored 7: the unused high bit is cleared (unsigned) or sign-filled (signed),
    as pydicom's unused-bit correction does."""
    data = streams["grey"]
    full = decode_stream(data)
    np.testing.assert_array_equal(decode_stream(data, bits_stored=7), full & 0x7F)
    signed = decode_stream(data, bits_stored=7, pixel_representation=1)
    np.testing.assert_array_equal(signed, np.where(full & 0x40, full | 0x80, full & 0x7F))


def test_threads_give_the_same_pixels(streams):
    """The decoder keeps no global state and releases the GIL."""
    jobs = [data for data in streams.values() for _ in range(8)]
    serial = [decode_stream(d) for d in jobs]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(decode_stream, jobs))
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)


def test_codec_versions_name_libjpeg():
    version = _codecs.codec_versions()["libjpeg"]
    assert version.startswith(("libjpeg-turbo ", "libjpeg "))
