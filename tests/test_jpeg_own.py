"""Our own JPEG decoder (csrc/dcf_jpeg*.c): lossless SOF3 and 12-bit sequential DCT,
through ``_codecs.decode_jpeg_own`` / ``_codecs.jpeg_info``.

- the conformance corpus' JPEG Lossless files and its two 12-bit JPEG Extended files
  decode to the manifest's SHA-256 (lossy within ``tolerance`` of the reference array);
- the ISO/IEC 10918-2 compliance streams in scope (p14 lossless, p4 12-bit) decode to
  libjpeg-turbo's recorded checksum, and each component plane to the recorded planes;
- round trips: lossless streams written here (a small T.81 encoder: any predictor,
  precision 2..16, point transform, restart intervals, interleaved or not, DNL) and by
  imagecodecs (libjpeg-turbo) decode exactly; 12-bit lossy equals imagecodecs' decode;
- damage (truncations, bit flips, spec mismatches) raises only DicomFramesError.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import dicomframes
from dicomframes import _codecs

from conftest import CORPUS, manifest_entries, manifest_sha256

JPEG10918 = CORPUS / "jpeg10918"

LOSSLESS_UIDS = ("1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70")
TWELVE_BIT_FILES = ("JPEG-lossy.dcm", "JPGExtended.dcm")


def corpus_cases() -> list:
    entries = [e for e in manifest_entries("compressed", expect="pixels")
               if e["transfer_syntax_uid"] in LOSSLESS_UIDS or e["file"] in TWELVE_BIT_FILES]
    if not entries:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no corpus at {CORPUS}"))]
    return [pytest.param(e, id=e["file"]) for e in entries]


def encoded_frames(path: Path, monkeypatch: pytest.MonkeyPatch) -> list:
    """Each frame's codestream through dicomframes.open().encoded_frame(k). Until the
    JPEG syntaxes are wired into frames.codec_for, locating frames needs a stand-in."""
    from dicomframes import frames

    try:
        with dicomframes.open(path) as f:
            return [bytes(f.encoded_frame(k)) for k in range(len(f))]
    except dicomframes.UnsupportedTransferSyntaxError:
        monkeypatch.setattr(frames, "codec_for", lambda ts: None)
        with dicomframes.open(path) as f:
            return [bytes(f.encoded_frame(k)) for k in range(len(f))]


def decode(src: bytes, rows: int, columns: int, samples: int, bits_allocated: int,
           bits_stored: int, signed: int = 0, planar: int = 0,
           photometric: str = "MONOCHROME2") -> np.ndarray:
    dtype = {(8, 0): np.uint8, (8, 1): np.int8, (16, 0): np.uint16, (16, 1): np.int16}[
        bits_allocated, signed]
    shape = (samples, rows, columns) if planar else (rows, columns, samples)
    out = np.zeros(shape, dtype)
    _codecs.decode_jpeg_own(src, out, rows, columns, samples, bits_allocated, bits_stored,
                            signed, photometric, planar)
    return out


# ---- the DICOM conformance corpus ---------------------------------------------------

@pytest.mark.parametrize("entry", corpus_cases())
def test_corpus_file(entry, corpus_dir, monkeypatch):
    frames = encoded_frames(corpus_dir / entry["file"], monkeypatch)
    assert len(frames) == entry["frames"]
    expected = entry["expected"]
    decoded = []
    for src in frames:
        info = _codecs.jpeg_info(src)
        assert info["rows"] == entry["rows"] and info["columns"] == entry["columns"]
        assert info["sof"] == (0xC3 if entry["transfer_syntax_uid"] in LOSSLESS_UIDS else 0xC1)
        decoded.append(decode(src, entry["rows"], entry["columns"], entry["samples_per_pixel"],
                              entry["bits_allocated"], entry["bits_stored"],
                              entry["pixel_representation"],
                              photometric=entry["photometric_interpretation"]))
    stack = np.stack(decoded).reshape(expected["shape"])
    assert stack.dtype == np.dtype(expected["dtype"])
    if manifest_sha256(stack) == expected["sha256"]:
        return
    reference = entry.get("reference_array")
    assert reference and entry.get("tolerance"), f"{entry['file']}: sha256 mismatch"
    with np.load(corpus_dir / reference) as npz:
        ref = npz["default"]
    diff = np.abs(stack.astype(np.int64) - ref.astype(np.int64)).max()
    assert diff <= entry["tolerance"]


def test_corpus_planar_output(corpus_file, monkeypatch):
    """Planar Configuration 1 output is the interleaved output transposed."""
    src = encoded_frames(corpus_file("SC_rgb_jpeg_gdcm.dcm"), monkeypatch)[0]
    interleaved = decode(src, 100, 100, 3, 8, 8, photometric="RGB")
    planar = decode(src, 100, 100, 3, 8, 8, planar=1, photometric="RGB")
    np.testing.assert_array_equal(planar, interleaved.transpose(2, 0, 1))


# ---- ISO/IEC 10918-2 compliance streams --------------------------------------------

def stream_cases() -> list:
    manifest = JPEG10918 / "manifest.json"
    if not manifest.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no {JPEG10918}"))]
    streams = json.loads(manifest.read_text(encoding="utf-8"))["streams"]
    return [pytest.param(s, id=s["file"]) for s in streams]


TURBO = "libjpeg-turbo 3.1.3 (imagecodecs 2026.3.6)"


@pytest.mark.parametrize("stream", stream_cases())
def test_jpeg10918_stream(stream):
    src = (JPEG10918 / stream["file"]).read_bytes()
    if stream["sof"] is None:  # B1: tables only, no frame
        with pytest.raises(dicomframes.DicomFramesError):
            _codecs.jpeg_info(src)
        return
    info = _codecs.jpeg_info(src)
    assert (info["precision"], info["rows"], info["columns"], info["components"]) == (
        stream["precision"], stream["rows"], stream["columns"], stream["components"])
    assert [c[:3] for c in info["component_info"]] == [
        (c["id"], c["h"], c["v"]) for c in stream["component_info"][:4]]
    in_scope = stream["sof"] == "SOF3" or stream["precision"] == 12
    bits_allocated = 8 if stream["precision"] <= 8 else 16
    samples = min(stream["components"], 4)
    if not in_scope or stream["components"] > 4:
        # 8-bit DCT is libjpeg-turbo's; B2 has 255 components.
        with pytest.raises(dicomframes.DicomFramesError):
            decode(src, stream["rows"], stream["columns"], samples, bits_allocated,
                   stream["precision"], photometric="RGB")
        return
    out = decode(src, stream["rows"], stream["columns"], samples, bits_allocated,
                 stream["precision"], photometric="RGB")
    # Subsampled components come out replicated, as libjpeg-turbo does for these factors.
    assert manifest_sha256(out) == stream["decoders"][TURBO]["sha256"]
    hmax = max(c["h"] for c in stream["component_info"])
    vmax = max(c["v"] for c in stream["component_info"])
    for i, (c, plane) in enumerate(zip(stream["component_info"], stream["planes"]["components"])):
        ours = np.ascontiguousarray(out[::vmax // c["v"], ::hmax // c["h"], i])
        assert list(ours.shape) == plane["shape"]
        assert manifest_sha256(ours) == plane["sha256"], f"component {c['id']}"


def test_jpeg10918_lossless_reference_data():
    """p14/O2 component D equals the standard's 16-bit decoder reference data."""
    if not (JPEG10918 / "p14" / "D16.SRC").is_file():
        pytest.skip(f"no {JPEG10918}")
    src = (JPEG10918 / "p14" / "O2.JPG").read_bytes()
    out = decode(src, 257, 255, 4, 16, 16, photometric="RGB")
    reference = np.frombuffer((JPEG10918 / "p14" / "D16.SRC").read_bytes(), ">u2")
    np.testing.assert_array_equal(out[:, ::3, 3].ravel(), reference)


# ---- a small lossless encoder (T.81 Annex H), for what imagecodecs cannot write ------

# Categories 0-8 get 4-bit codes, 9-11 7-bit, 12-16 14-bit (past the decoder's
# lookup tables, so its slow path runs too).
HUFF_COUNTS = [0, 0, 0, 9, 0, 0, 3, 0, 0, 0, 0, 0, 0, 5, 0, 0]
HUFF_SYMBOLS = list(range(17))


def _huffman_codes() -> dict[int, tuple[int, int]]:
    codes, code, k = {}, 0, 0
    for length, count in enumerate(HUFF_COUNTS, start=1):
        for _ in range(count):
            codes[HUFF_SYMBOLS[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return codes


class BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def put(self, value: int, bits: int) -> None:
        self.acc = (self.acc << bits) | (value & ((1 << bits) - 1))
        self.n += bits
        while self.n >= 8:
            self.n -= 8
            byte = (self.acc >> self.n) & 0xFF
            self.out.append(byte)
            if byte == 0xFF:
                self.out.append(0)
        self.acc &= (1 << self.n) - 1

    def flush(self) -> None:
        if self.n:
            self.put((1 << (8 - self.n)) - 1, 8 - self.n)


def _predict(ps: int, ra: int, rb: int, rc: int) -> int:
    return [0, ra, rb, rc, ra + rb - rc, ra + ((rb - rc) >> 1), rb + ((ra - rc) >> 1),
            (ra + rb) >> 1][ps]


def encode_lossless(image: np.ndarray, precision: int, predictor: int, pt: int = 0,
                    restart_rows: int = 0, interleaved: bool = True, dnl: bool = False,
                    extra_after_eoi: bytes = b"", tables_per_scan: bool = False) -> bytes:
    """A SOF3 stream of `image` (rows, columns, components), all sampling factors 1.
    Restart intervals are whole lines (`restart_rows` lines of MCUs).
    `tables_per_scan`: each scan gets its own DHT (destination = scan number),
    preceded by APP1 and COM segments."""
    rows, columns, ncomp = image.shape
    codes = _huffman_codes()
    planes = [(image[:, :, c].astype(np.int64) >> pt) for c in range(ncomp)]

    def seg(marker: int, body: bytes) -> bytes:
        return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body

    out = bytearray(b"\xff\xd8")
    out += seg(0xFE, b"dicomframes test encoder")
    sof = bytes([precision]) + (0 if dnl else rows).to_bytes(2, "big") + columns.to_bytes(2, "big")
    sof += bytes([ncomp]) + b"".join(bytes([c + 1, 0x11, 0]) for c in range(ncomp))
    out += seg(0xC3, sof)
    if not tables_per_scan:
        out += seg(0xC4, bytes([0x00]) + bytes(HUFF_COUNTS) + bytes(HUFF_SYMBOLS))
    if restart_rows:
        out += seg(0xDD, (restart_rows * columns).to_bytes(2, "big"))
    scans = [list(range(ncomp))] if interleaved else [[c] for c in range(ncomp)]
    for number, scan in enumerate(scans):
        table = 0
        if tables_per_scan:
            table = number % 4
            out += seg(0xE1, b"app1 between scans") + seg(0xFE, b"comment")
            out += seg(0xC4, bytes([table]) + bytes(HUFF_COUNTS) + bytes(HUFF_SYMBOLS))
        sos = bytes([len(scan)]) + b"".join(bytes([c + 1, table << 4]) for c in scan)
        out += seg(0xDA, sos + bytes([predictor, 0, pt]))
        w = BitWriter()
        initial = 1 << (precision - pt - 1)
        first_line = 0
        rst = 0
        for y in range(rows):
            if restart_rows and y and y % restart_rows == 0:
                w.flush()
                w.out += bytes([0xFF, 0xD0 + rst % 8])
                rst += 1
                first_line = y
            for x in range(columns):
                for c in scan:
                    p = planes[c]
                    if y == first_line and x == 0:
                        pred = initial
                    elif y == first_line:
                        pred = int(p[y, x - 1])
                    elif x == 0:
                        pred = int(p[y - 1, x])
                    else:
                        pred = _predict(predictor, int(p[y, x - 1]), int(p[y - 1, x]),
                                        int(p[y - 1, x - 1]))
                    diff = (int(p[y, x]) - pred) % 65536
                    if diff > 32768:
                        diff -= 65536
                    category = 16 if diff == 32768 else abs(diff).bit_length()
                    code, length = codes[category]
                    w.put(code, length)
                    if 0 < category < 16:
                        w.put(diff if diff > 0 else diff + (1 << category) - 1, category)
        w.flush()
        out += w.out
        if dnl and scan is scans[0]:
            out += seg(0xDC, rows.to_bytes(2, "big"))
    out += b"\xff\xd9" + extra_after_eoi
    return bytes(out)


def expected_lossless(image: np.ndarray, bits_stored: int, pt: int, signed: int) -> np.ndarray:
    """pydicom's values: the word, its bits above Bits Stored cleared or sign-filled."""
    values = ((image.astype(np.int64) >> pt) << pt) & ((1 << bits_stored) - 1)
    if signed:
        values = np.where(values >= 1 << (bits_stored - 1), values - (1 << bits_stored), values)
    return values


def container(precision: int) -> int:
    return 8 if precision <= 8 else 16


@pytest.mark.parametrize("predictor", range(1, 8))
@pytest.mark.parametrize("precision", [2, 8, 12, 16])
def test_encoder_round_trip_predictors(predictor, precision):
    rng = np.random.default_rng(predictor * 100 + precision)
    image = rng.integers(0, 1 << precision, size=(7, 9, 1))
    src = encode_lossless(image, precision, predictor)
    out = decode(src, 7, 9, 1, container(precision), precision)
    np.testing.assert_array_equal(out, expected_lossless(image, precision, 0, 0))


def test_round_trip_category_16():
    """Differences of exactly 32768 (category 16, no extra bits) at 16 bits."""
    image = np.array([[[0], [32768], [0], [65535], [32767], [65535]]]).reshape(1, 6, 1)
    src = encode_lossless(image, 16, 1)
    np.testing.assert_array_equal(decode(src, 1, 6, 1, 16, 16)[..., 0], image[..., 0])


def test_round_trip_signed_and_point_transform():
    rng = np.random.default_rng(5)
    image = rng.integers(0, 1 << 12, size=(6, 5, 1))
    for pt in (0, 1, 3, 11):
        src = encode_lossless(image, 12, 4, pt=pt)
        for signed in (0, 1):
            out = decode(src, 6, 5, 1, 16, 12, signed=signed)
            np.testing.assert_array_equal(out, expected_lossless(image, 12, pt, signed))


def test_bits_stored_below_precision():
    """Precision 12 in a frame whose Bits Stored is 10: bits 10-11 are cleared or
    sign-filled, as pydicom's correct_unused_bits does."""
    rng = np.random.default_rng(15)
    image = rng.integers(0, 1 << 12, size=(5, 6, 1))
    src = encode_lossless(image, 12, 1)
    for signed in (0, 1):
        out = decode(src, 5, 6, 1, 16, 10, signed=signed)
        np.testing.assert_array_equal(out, expected_lossless(image, 10, 0, signed))


def test_round_trip_dnl_and_trailing_bytes():
    """Y = 0 in the frame header with a DNL segment; padding and junk after EOI."""
    rng = np.random.default_rng(6)
    image = rng.integers(0, 256, size=(5, 4, 3))
    for extra in (b"", b"\x00", b"\xff\xff\x00", b"garbage after EOI"):
        src = encode_lossless(image, 8, 1, dnl=True, extra_after_eoi=extra)
        assert _codecs.jpeg_info(src)["rows"] == 0
        np.testing.assert_array_equal(decode(src, 5, 4, 3, 8, 8), image)
    # A DNL that disagrees with the dataset's rows is an error.
    bad = encode_lossless(image, 8, 1, dnl=True).replace(b"\xff\xdc\x00\x04\x00\x05",
                                                         b"\xff\xdc\x00\x04\x00\x06")
    with pytest.raises(dicomframes.DicomFramesError, match="DNL"):
        decode(bad, 5, 4, 3, 8, 8)


def test_tables_redefined_between_scans():
    rng = np.random.default_rng(16)
    image = rng.integers(0, 1 << 16, size=(5, 7, 4))
    src = encode_lossless(image, 16, 6, interleaved=False, tables_per_scan=True)
    assert src.count(b"\xff\xc4") == 4 and src.count(b"\xff\xda") == 4
    np.testing.assert_array_equal(decode(src, 5, 7, 4, 16, 16, photometric="RGB"), image)


def test_threads_decode_alike():
    """No shared state: concurrent decodes (GIL released) give the same values."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(17)
    image = np.cumsum(rng.integers(0, 50, size=(64, 48, 3)), axis=1) % 4096
    src = encode_lossless(image, 12, 7, restart_rows=4)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: decode(src, 64, 48, 3, 16, 12, photometric="RGB"),
                                range(16)))
    for out in results:
        np.testing.assert_array_equal(out, image)


@pytest.mark.parametrize("shape", [(16, 24), (17, 23), (8, 8), (1, 1)])
def test_12bit_lossy_equals_imagecodecs(shape):
    """Frames whose sizes are multiples of 8 are decoded in place, others through a
    padded plane: both equal libjpeg-turbo's 12-bit islow decode."""
    imagecodecs = pytest.importorskip("imagecodecs")
    rng = np.random.default_rng(18)
    data = (np.cumsum(rng.integers(0, 300, size=shape), axis=1) % 4096).astype(np.uint16)
    src = imagecodecs.jpeg8_encode(data, level=85, bitspersample=12)
    out = decode(src, *shape, 1, 16, 12)
    np.testing.assert_array_equal(out[..., 0], imagecodecs.jpeg8_decode(src))


@pytest.mark.parametrize("subsampling", ["444", "422", "420", "440", "411"])
@pytest.mark.parametrize("shape", [(16, 16), (17, 23), (5, 7), (2, 2), (1, 1), (33, 2)])
def test_12bit_lossy_subsampled_equals_imagecodecs(subsampling, shape):
    """YCbCr 12-bit DCT with subsampled chroma: 2:1 ratios interpolated ("fancy"), 4:1
    replicated, exactly as libjpeg-turbo (asked for YCbCr out, no colour conversion)."""
    imagecodecs = pytest.importorskip("imagecodecs")
    rng = np.random.default_rng(20)
    data = (np.cumsum(rng.integers(0, 4096, size=(*shape, 3)), axis=1) // 8 % 4096)
    src = imagecodecs.jpeg8_encode(data.astype(np.uint16), level=90, bitspersample=12,
                                   subsampling=subsampling)
    expected = imagecodecs.jpeg8_decode(src, colorspace="YCbCr", outcolorspace="YCbCr")
    out = decode(src, *shape, 3, 16, 12, photometric="YBR_FULL")
    np.testing.assert_array_equal(out, expected)


def test_unaligned_output_buffer():
    rng = np.random.default_rng(19)
    for ncomp in (1, 3):
        image = rng.integers(0, 1 << 12, size=(3, 5, ncomp))
        src = encode_lossless(image, 12, 1)
        raw = bytearray(3 * 5 * ncomp * 2 + 1)
        view = memoryview(raw)[1:]
        _codecs.decode_jpeg_own(src, view, 3, 5, ncomp, 16, 12, 0,
                                "RGB" if ncomp == 3 else "MONOCHROME2")
        got = np.frombuffer(bytes(view), np.uint16).reshape(image.shape)
        np.testing.assert_array_equal(got, image)


def test_missing_eoi_and_dicom_pad_byte():
    rng = np.random.default_rng(7)
    image = rng.integers(0, 1 << 10, size=(4, 6, 1))
    src = encode_lossless(image, 10, 6)
    for variant in (src[:-2], src + b"\x00", src[:-2] + b"\x00"):
        np.testing.assert_array_equal(decode(variant, 4, 6, 1, 16, 10), image)


def test_restart_markers_out_of_order():
    rng = np.random.default_rng(8)
    image = rng.integers(0, 256, size=(6, 5, 1))
    src = bytearray(encode_lossless(image, 8, 7, restart_rows=1))
    for i in range(len(src) - 1):
        if src[i] == 0xFF and 0xD0 <= src[i + 1] <= 0xD7:
            src[i + 1] = 0xD3
    np.testing.assert_array_equal(decode(bytes(src), 6, 5, 1, 8, 8), image)


# ---- hypothesis round trips -----------------------------------------------------------

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError:  # the round trips below skip; the rest of the module runs

    def test_hypothesis_round_trips():
        pytest.importorskip("hypothesis")
else:
    @st.composite
    def lossless_cases(draw):
        precision = draw(st.integers(2, 16))
        ncomp = draw(st.sampled_from([1, 3]))
        rows = draw(st.integers(1, 13))
        columns = draw(st.integers(1, 13))
        image = draw(hnp.arrays(np.int64, (rows, columns, ncomp),
                                elements=st.integers(0, (1 << precision) - 1)))
        return image, precision


    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(case=lossless_cases(), predictor=st.integers(1, 7), pt=st.integers(0, 3),
           restart_rows=st.integers(0, 4), interleaved=st.booleans(), signed=st.booleans(),
           tables_per_scan=st.booleans())
    def test_hypothesis_own_encoder(case, predictor, pt, restart_rows, interleaved, signed,
                                    tables_per_scan):
        image, precision = case
        pt = min(pt, precision - 1)
        rows, columns, ncomp = image.shape
        src = encode_lossless(image, precision, predictor, pt=pt, restart_rows=restart_rows,
                              interleaved=interleaved, tables_per_scan=tables_per_scan)
        out = decode(src, rows, columns, ncomp, container(precision), precision, int(signed),
                     photometric="RGB" if ncomp == 3 else "MONOCHROME2")
        np.testing.assert_array_equal(out, expected_lossless(image, precision, pt, int(signed)))


    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(case=lossless_cases(), predictor=st.integers(1, 7))
    def test_hypothesis_imagecodecs_lossless(case, predictor):
        imagecodecs = pytest.importorskip("imagecodecs")
        image, precision = case
        rows, columns, ncomp = image.shape
        data = image.astype(np.uint8 if precision <= 8 else np.uint16)
        if ncomp == 1:
            data = data[:, :, 0]
        src = imagecodecs.jpeg8_encode(data, lossless=True, predictor=predictor,
                                       bitspersample=precision)
        out = decode(src, rows, columns, ncomp, container(precision), precision,
                     photometric="RGB" if ncomp == 3 else "MONOCHROME2")
        np.testing.assert_array_equal(out.reshape(data.shape), data)


    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(rows=st.integers(1, 40), columns=st.integers(1, 40), ncomp=st.sampled_from([1, 3]),
           level=st.integers(1, 100), seed=st.integers(0, 2**32 - 1))
    def test_hypothesis_imagecodecs_12bit_lossy(rows, columns, ncomp, level, seed):
        """12-bit DCT: exactly libjpeg-turbo's islow output (components as stored)."""
        imagecodecs = pytest.importorskip("imagecodecs")
        rng = np.random.default_rng(seed)
        shape = (rows, columns) if ncomp == 1 else (rows, columns, 3)
        base = rng.integers(0, 4096, size=shape)
        data = (base if seed % 2 else np.cumsum(base, axis=0) % 4096).astype(np.uint16)
        kwargs = {} if ncomp == 1 else {"colorspace": "RGB", "outcolorspace": "RGB"}
        src = imagecodecs.jpeg8_encode(data, level=level, bitspersample=12, **kwargs)
        expected = imagecodecs.jpeg8_decode(src)
        out = decode(src, rows, columns, ncomp, 16, 12,
                     photometric="RGB" if ncomp == 3 else "MONOCHROME2")
        np.testing.assert_array_equal(out.reshape(expected.shape), expected)


# ---- errors and damage ------------------------------------------------------------

def small_streams() -> list[tuple[bytes, tuple]]:
    rng = np.random.default_rng(9)
    image = rng.integers(0, 1 << 12, size=(9, 7, 3))
    streams = [
        (encode_lossless(image, 12, 5, restart_rows=2), (9, 7, 3, 16, 12)),
        (encode_lossless(image[:, :, :1], 12, 1, pt=1), (9, 7, 1, 16, 12)),
        (encode_lossless(image, 12, 2, interleaved=False), (9, 7, 3, 16, 12)),
    ]
    try:
        import imagecodecs
    except ImportError:
        return streams
    gray = (rng.integers(0, 4096, size=(20, 27))).astype(np.uint16)
    streams.append((imagecodecs.jpeg8_encode(gray, level=80, bitspersample=12),
                    (20, 27, 1, 16, 12)))
    return streams


def test_truncation_sweep():
    for src, spec in small_streams():
        for cut in range(len(src)):
            try:
                decode(src[:cut], *spec, photometric="RGB")
            except dicomframes.DicomFramesError:
                pass


def test_bit_flip_sweep():
    rng = np.random.default_rng(10)
    for src, spec in small_streams():
        for _ in range(400):
            damaged = bytearray(src)
            for _ in range(int(rng.integers(1, 4))):
                i = int(rng.integers(0, len(src)))
                damaged[i] ^= 1 << int(rng.integers(0, 8))
            try:
                decode(bytes(damaged), *spec, photometric="RGB")
            except dicomframes.DicomFramesError:
                pass


def test_truncated_scan_is_an_error_naming_the_offset():
    rng = np.random.default_rng(11)
    src = encode_lossless(rng.integers(0, 256, size=(16, 16, 1)), 8, 1)
    with pytest.raises(dicomframes.DicomFramesError, match="ends inside the scan"):
        decode(src[:len(src) // 2], 16, 16, 1, 8, 8)


def test_spec_mismatch():
    rng = np.random.default_rng(12)
    src = encode_lossless(rng.integers(0, 1 << 12, size=(4, 5, 1)), 12, 1)
    with pytest.raises(dicomframes.PixelDataError, match="4 x 5 with 1 components"):
        decode(src, 5, 5, 1, 16, 12)
    with pytest.raises(dicomframes.PixelDataError, match="components"):
        decode(src, 4, 5, 3, 16, 12, photometric="RGB")
    with pytest.raises(dicomframes.PixelDataError, match="precision 12"):
        decode(src, 4, 5, 1, 8, 8)


def test_unsupported_processes_name_the_sof():
    rng = np.random.default_rng(13)
    stream = bytearray(encode_lossless(rng.integers(0, 256, size=(4, 4, 1)), 8, 1))
    i = stream.index(b"\xff\xc3")
    for marker, name in ((0xC2, "SOF2"), (0xC7, "SOF7"), (0xCB, "SOF11"), (0xC0, "SOF0")):
        stream[i + 1] = marker
        with pytest.raises(dicomframes.UnsupportedError, match=name):
            decode(bytes(stream), 4, 4, 1, 8, 8)
    with pytest.raises(dicomframes.DicomFramesError, match="SOI"):
        decode(b"\x00\x01", 4, 4, 1, 8, 8)
    with pytest.raises(dicomframes.DicomFramesError):
        _codecs.jpeg_info(b"\xff\xd8\xff\xd9")


def test_jpeg_info_skips_segments_before_the_frame_header():
    rng = np.random.default_rng(14)
    src = encode_lossless(rng.integers(0, 1 << 9, size=(3, 4, 3)), 9, 1)
    info = _codecs.jpeg_info(src)
    assert info == {"sof": 0xC3, "precision": 9, "rows": 3, "columns": 4, "components": 3,
                    "component_info": [(1, 1, 1, 0), (2, 1, 1, 0), (3, 1, 1, 0)]}


def test_fuzz_regressions():
    """Inputs the libFuzzer target (fuzz/fuzz_jpeg.c) once crashed on."""
    folder = Path(__file__).resolve().parents[1] / "fuzz" / "regressions"
    for path in sorted(folder.glob("*.jpg")):
        src = path.read_bytes()
        try:
            info = _codecs.jpeg_info(src)
            decode(src, max(info["rows"], 1), info["columns"], min(info["components"], 4),
                   container(info["precision"]), min(info["precision"], 16) or 1,
                   photometric="RGB")
        except dicomframes.DicomFramesError:
            pass
