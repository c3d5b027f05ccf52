"""The frame codecs of the C core, through dicomframes._codecs, against reference decoders.

Corpus frames are compared with pydicom 3's pixel_array using the manifest's reference
plugin (pydicom's own RLE decoder, pyjpegls, pylibjpeg-openjpeg); random arrays are
round-tripped through pydicom's RLE encoder, pyjpegls and pylibjpeg-openjpeg; damaged
frames must raise DicomFramesError subclasses and nothing else. A test that needs a peer
(pyjpegls, pylibjpeg-openjpeg, pylibjpeg-rle) skips where it is not installed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import mmap
import random
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from dicomframes import _codecs
from dicomframes.errors import (
    CodecError,
    DicomFramesError,
    MalformedError,
    PixelDataError,
    TruncatedError,
)

pydicom = pytest.importorskip("pydicom")
from pydicom.encaps import generate_frames  # noqa: E402
from pydicom.pixels import pixel_array  # noqa: E402

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus"
MANIFEST = CORPUS / "manifest.json"

RLE_UID = "1.2.840.10008.1.2.5"
JLS_UIDS = {"1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"}
J2K_UIDS = {
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.4.201",
    "1.2.840.10008.1.2.4.202",
    "1.2.840.10008.1.2.4.203",
}

# codec name -> (our decoder, pydicom decoding plugin of the manifest's reference)
CODECS = {
    "rle": (_codecs.decode_rle, "pydicom"),
    "jls": (_codecs.decode_jls, "pyjpegls"),
    "j2k": (_codecs.decode_j2k, "pylibjpeg"),
}
# pydicom decoding plugin -> the modules it needs beyond pydicom
PLUGIN_MODULES = {"pydicom": (), "pyjpegls": ("jpeg_ls",), "pylibjpeg": ("pylibjpeg", "openjpeg")}
# pylibjpeg-rle: the RLE encoder for 32-bit samples (pydicom's own does not take them)
HAVE_PYLIBJPEG_RLE = importlib.util.find_spec("rle") is not None


@pytest.fixture(scope="session")
def jpeg_ls():
    """pyjpegls: the JPEG-LS encoder, and pydicom's "pyjpegls" reference plugin."""
    return pytest.importorskip("jpeg_ls")


@pytest.fixture(scope="session")
def openjpeg():
    """pylibjpeg-openjpeg: the JPEG 2000 encoder."""
    return pytest.importorskip("openjpeg")


@pytest.fixture(scope="session")
def pylibjpeg(openjpeg):
    """pydicom's "pylibjpeg" reference plugin for JPEG 2000 (pylibjpeg + openjpeg)."""
    return pytest.importorskip("pylibjpeg")


def codec_of(uid: str) -> str | None:
    if uid == RLE_UID:
        return "rle"
    if uid in JLS_UIDS:
        return "jls"
    if uid in J2K_UIDS:
        return "j2k"
    return None


def out_dtype(bits_allocated: int, pixel_representation: int) -> np.dtype:
    size = 1 if bits_allocated <= 8 else bits_allocated // 8
    return np.dtype(f"{'i' if pixel_representation else 'u'}{size}")


def new_out(rows, columns, samples, bits_allocated, pixel_representation, planar=0):
    shape = (rows, columns) if samples == 1 else (
        (samples, rows, columns) if planar else (rows, columns, samples))
    return np.zeros(shape, out_dtype(bits_allocated, pixel_representation))


def compressed_entries() -> list[dict]:
    if not MANIFEST.exists():
        return []
    entries = json.loads(MANIFEST.read_text())["files"]
    return [
        e for e in entries
        if e["expect"] == "pixels" and codec_of(e["transfer_syntax_uid"]) is not None
    ]


ENTRIES = compressed_entries()
needs_corpus = pytest.mark.skipif(not ENTRIES, reason=f"no corpus at {CORPUS}")


class CorpusFile:
    """One compressed corpus file: its frames and what our decoder needs."""

    def __init__(self, entry: dict) -> None:
        self.entry = entry
        self.path = CORPUS / entry["file"]
        self.ds = ds = pydicom.dcmread(self.path, force=True)
        if "TransferSyntaxUID" not in ds.file_meta:
            ds.file_meta.TransferSyntaxUID = entry["transfer_syntax_uid"]
        self.codec = codec_of(entry["transfer_syntax_uid"])
        self.rows, self.columns = int(ds.Rows), int(ds.Columns)
        self.samples = int(ds.SamplesPerPixel)
        self.bits_allocated = int(ds.BitsAllocated)
        self.bits_stored = int(ds.BitsStored)
        self.pixel_representation = int(ds.PixelRepresentation)
        self.photometric = str(ds.PhotometricInterpretation)
        self.number_of_frames = int(ds.get("NumberOfFrames", 1) or 1)
        extended = None
        if "ExtendedOffsetTable" in ds:
            extended = (ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths)
        self.frames = list(generate_frames(
            ds.PixelData, number_of_frames=self.number_of_frames, extended_offsets=extended))

    def decode(self, frame: bytes, **kwargs) -> np.ndarray:
        out = new_out(self.rows, self.columns, self.samples, self.bits_allocated,
                      self.pixel_representation)
        CODECS[self.codec][0](
            frame, out, self.rows, self.columns, self.samples, self.bits_allocated,
            self.bits_stored, self.pixel_representation, self.photometric, **kwargs)
        return out

    def reference(self) -> np.ndarray:
        arr = pixel_array(self.ds, raw=True, decoding_plugin=CODECS[self.codec][1])
        return arr.reshape(len(self.frames), self.rows, self.columns, self.samples)


_loaded: dict[str, CorpusFile] = {}


def load(name: str) -> CorpusFile:
    if name not in _loaded:
        entry = next(e for e in ENTRIES if e["file"] == name)
        _loaded[name] = CorpusFile(entry)
    return _loaded[name]


def manifest_hash(arr: np.ndarray, expected: dict) -> str:
    a = np.asarray(arr).reshape(expected["shape"])
    assert np.array_equal(a, a.astype(expected["dtype"])), "values outside the expected dtype"
    a = a.astype(np.dtype(expected["dtype"]).newbyteorder("<"))
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


# ---- the corpus ---------------------------------------------------------------


@pytest.fixture
def with_reference(name) -> CorpusFile:
    """Corpus file `name`; skips when its reference plugin's modules are not installed."""
    f = load(name)
    for module in PLUGIN_MODULES[CODECS[f.codec][1]]:
        pytest.importorskip(module)
    return f


@needs_corpus
@pytest.mark.parametrize("name", [e["file"] for e in ENTRIES])
def test_corpus_frames_match_pydicom(name, with_reference):
    f = with_reference
    ours = np.stack([f.decode(frame) for frame in f.frames]).reshape(
        len(f.frames), f.rows, f.columns, f.samples)
    ref = f.reference()
    assert ours.shape == ref.shape
    # pydicom may return a narrower dtype (container of the codestream precision)
    assert np.array_equal(ours, ref), (
        f"{name}: {np.count_nonzero(ours != ref)} samples differ, "
        f"max |diff| {np.abs(ours.astype(np.int64) - ref.astype(np.int64)).max()}")
    expected = f.entry["expected"]
    assert manifest_hash(ours, expected) in (expected["sha256"], expected["sha256_raw"])


@needs_corpus
@pytest.mark.parametrize("name", [e["file"] for e in ENTRIES if e["samples_per_pixel"] > 1])
def test_corpus_planar_output(name):
    f = load(name)
    frame = f.frames[0]
    interleaved = f.decode(frame)
    planar = np.zeros((f.samples, f.rows, f.columns), interleaved.dtype)
    CODECS[f.codec][0](frame, planar, f.rows, f.columns, f.samples, f.bits_allocated,
                       f.bits_stored, f.pixel_representation, f.photometric,
                       planar_configuration=1)
    assert np.array_equal(planar, np.moveaxis(interleaved, -1, 0))


@needs_corpus
def test_sign_and_precision_corrections_follow_the_manifest():
    # Codestreams whose precision or signedness differ from the dataset.
    for name in ("J2K_pixelrep_mismatch.dcm", "TOSHIBA_J2K_SIZ1_PixRep0.dcm",
                 "693_J2KR.dcm", "liver_j2k.dcm", "MR_small_jpeg_ls_lossless.dcm",
                 "JLSL_08_07_0_1F.dcm", "emri_small_RLE.dcm"):
        f = load(name)
        ours = np.stack([f.decode(frame) for frame in f.frames])
        expected = f.entry["expected"]
        assert manifest_hash(ours, expected) == expected["sha256"], name
        for index, value in expected["probes"]:
            assert ours.reshape(expected["shape"])[tuple(index)] == value, (name, index)


@needs_corpus
def test_j2k_reduce_and_threads():
    f = load("JPEG2KLossless_1s_1f_u_16_16.dcm")
    frame = f.frames[0]
    full = f.decode(frame)
    threaded = f.decode(frame, threads=4)
    assert np.array_equal(full, threaded)
    rows, columns = -(-f.rows // 2), -(-f.columns // 2)
    half = new_out(rows, columns, 1, 16, 0)
    _codecs.decode_j2k(frame, half, rows, columns, 1, 16, 16, 0, "MONOCHROME2", reduce=1)
    # no reference decoder here exposes reduce: the 5/3 low-pass band is close to
    # the mean of each 2 x 2 block
    padded = np.pad(full.astype(np.float64), ((0, f.rows % 2), (0, f.columns % 2)), "edge")
    block_mean = padded.reshape(rows, 2, columns, 2).mean(axis=(1, 3))
    assert np.abs(half - block_mean).mean() < 0.02 * (full.max() - full.min())
    # 11 decomposition levels: 12 resolutions, all but one can go
    tiny = new_out(1, 1, 1, 16, 0)
    _codecs.decode_j2k(frame, tiny, 1, 1, 1, 16, 16, 0, "MONOCHROME2", reduce=11)
    with pytest.raises(CodecError, match="number of resolutions to remove"):
        _codecs.decode_j2k(frame, tiny, 1, 1, 1, 16, 16, 0, "MONOCHROME2", reduce=12)
    with pytest.raises(PixelDataError):  # full-size output for a reduced image
        f.decode(frame, reduce=1)


@needs_corpus
@pytest.mark.parametrize("name", ["SC_rgb_rle_2frame.dcm", "JLSN_RGB_ILV0.dcm",
                                  "examples_jpeg2k.dcm"])
def test_source_may_be_any_read_only_buffer(name, tmp_path):
    f = load(name)
    frame = f.frames[-1]
    expected = f.decode(frame)
    path = tmp_path / "frame.bin"
    path.write_bytes(b"pad" + frame)
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        sources = (bytearray(frame), memoryview(frame), np.frombuffer(frame, np.uint8),
                   memoryview(mapped)[3:])
        for src in sources:
            assert np.array_equal(f.decode(src), expected)
        del sources, src


@needs_corpus
def test_concurrent_decodes_agree():
    names = ["SC_rgb_rle_16bit_2frame.dcm", "JLSL_RGB_ILV1.dcm", "examples_jpeg2k.dcm",
             "HTJ2KLossless_08_RGB.dcm", "emri_small_jpeg_ls_lossless.dcm"]
    jobs = [(load(n), frame) for n in names for frame in load(n).frames]
    expected = [f.decode(frame) for f, frame in jobs]
    with ThreadPoolExecutor(8) as pool:
        for _ in range(3):
            got = list(pool.map(lambda job: job[0].decode(job[1]), jobs))
            assert all(np.array_equal(a, b) for a, b in zip(got, expected))


def test_codec_versions():
    versions = _codecs.codec_versions()
    assert versions["openjpeg"].startswith("2.")
    assert "charls" not in versions  # JPEG-LS is our own decoder


# ---- arguments ------------------------------------------------------------------


def test_output_must_have_the_exact_size():
    data = rle_encode(np.zeros((4, 4), np.uint8))
    with pytest.raises(DicomFramesError, match="output buffer"):
        _codecs.decode_rle(data, np.zeros((4, 5), np.uint8), 4, 4, 1, 8, 8, 0, "MONOCHROME2")
    with pytest.raises(TypeError):
        _codecs.decode_rle(data, bytes(16), 4, 4, 1, 8, 8, 0, "MONOCHROME2")
    with pytest.raises(TypeError):
        _codecs.decode_rle(data, np.zeros((4, 8), np.uint8)[:, ::2], 4, 4, 1, 8, 8, 0,
                           "MONOCHROME2")
    for bad in ({"rows": 0}, {"bits_allocated": 12}, {"bits_stored": 9},
                {"pixel_representation": 2}, {"rows": 2**40}):
        args = dict(rows=4, columns=4, samples_per_pixel=1, bits_allocated=8, bits_stored=8,
                    pixel_representation=0, photometric="MONOCHROME2")
        args.update(bad)
        with pytest.raises(DicomFramesError):
            _codecs.decode_rle(data, np.zeros((4, 4), np.uint8), **args)


# ---- RLE specifics ------------------------------------------------------------


def rle_header(offsets: list[int]) -> bytes:
    fields = [len(offsets), *offsets] + [0] * (15 - len(offsets))
    return np.array(fields, "<u4").tobytes()


def test_rle_header_validation_before_any_write():
    out = np.full((2, 2), 7, np.uint8)
    cases = [
        (rle_header([]), MalformedError),                 # 0 segments
        (rle_header([64, 70]), PixelDataError),           # 2 segments for 8-bit grey
        (rle_header([60]) + b"\x03abcd", MalformedError),  # first offset not 64
        (rle_header([64]), TruncatedError),               # empty segment
        (rle_header([64])[:40], TruncatedError),          # short header
        (rle_header([99]), MalformedError),
    ]
    for data, exc in cases:
        with pytest.raises(exc):
            _codecs.decode_rle(data, out, 2, 2, 1, 8, 8, 0, "MONOCHROME2")
        assert (out == 7).all()
    out16 = np.zeros((2, 2), np.uint16)
    with pytest.raises(MalformedError, match="before segment"):
        _codecs.decode_rle(rle_header([64, 60]) + b"\x03abcd", out16, 2, 2, 1, 16, 16, 0,
                           "MONOCHROME2")
    with pytest.raises(TruncatedError, match="past the end"):
        _codecs.decode_rle(rle_header([64, 900]) + b"\x03abcd", out16, 2, 2, 1, 16, 16, 0,
                           "MONOCHROME2")


def test_rle_packbits_runs_noop_and_padding():
    # literal 2, no-op, replicate 3 (0xFE = -2), pad byte at the end
    segment = b"\x01ab\x80\xfec\x00"
    out = np.zeros((1, 5), np.uint8)
    _codecs.decode_rle(rle_header([64]) + segment, out, 1, 5, 1, 8, 8, 0, "MONOCHROME2")
    assert out.tobytes() == b"abccc"
    # a run longer than the frame is cut at the frame size
    out = np.zeros((1, 3), np.uint8)
    _codecs.decode_rle(rle_header([64]) + b"\x81z", out, 1, 3, 1, 8, 8, 0, "MONOCHROME2")
    assert out.tobytes() == b"zzz"
    with pytest.raises(TruncatedError, match="ends after 3 of the 4"):
        _codecs.decode_rle(rle_header([64]) + b"\x02abc", np.zeros(4, np.uint8), 1, 4, 1, 8,
                           8, 0, "MONOCHROME2")
    with pytest.raises(TruncatedError):
        _codecs.decode_rle(rle_header([64]) + b"\x05ab", np.zeros(4, np.uint8), 1, 4, 1, 8,
                           8, 0, "MONOCHROME2")


def test_rle_unused_bits_are_corrected():
    raw = np.array([[0x0FFF, 0xF800, 0x0800, 0x07FF]], np.uint16)
    data = rle_encode(raw)
    out = np.zeros((1, 4), np.uint16)
    _codecs.decode_rle(data, out, 1, 4, 1, 16, 12, 0, "MONOCHROME2")
    assert out.tolist() == [[0x0FFF, 0x0800, 0x0800, 0x07FF]]
    signed = np.zeros((1, 4), np.int16)
    _codecs.decode_rle(data, signed, 1, 4, 1, 16, 12, 1, "MONOCHROME2")
    assert signed.tolist() == [[-1, -2048, -2048, 2047]]


def packbits(plane: bytes, pattern=(128, 37, 5, 1, 129, 64)) -> bytes:
    """PackBits of `plane`: replicate runs (up to 128) where bytes repeat, else literal
    runs of the lengths in `pattern` (cycled), so that long runs of both kinds cross
    the decoder's chunk borders at odd places."""
    out, i, k = bytearray(), 0, 0
    while i < len(plane):
        r = 1
        while i + r < len(plane) and r < 128 and plane[i + r] == plane[i]:
            r += 1
        if r >= 2:
            out += bytes([257 - r, plane[i]])
            i += r
            continue
        n = min(pattern[k % len(pattern)], 128, len(plane) - i)
        k += 1
        out += bytes([n - 1]) + plane[i:i + n]
        i += n
    return bytes(out + b"\x80")  # a trailing no-op


def rle_frame(arr: np.ndarray, planar_input=False) -> bytes:
    """An RLE frame of `arr` (rows, columns[, samples]), byte planes PackBits-encoded
    with repeated bytes forced into replicate runs."""
    arr = arr.view(arr.dtype.str.replace("i", "u")).astype(f"<u{arr.dtype.itemsize}")
    samples = 1 if arr.ndim == 2 else arr.shape[2]
    width = arr.dtype.itemsize
    flat = arr.reshape(-1, samples)
    segments = []
    for s in range(samples):
        values = np.ascontiguousarray(flat[:, s])
        raw = values.view(np.uint8).reshape(-1, width)
        for b in reversed(range(width)):
            plane = np.ascontiguousarray(raw[:, b])
            segments.append(packbits(plane.tobytes()))
    offsets, pos = [], 64
    for seg in segments:
        offsets.append(pos)
        pos += len(seg)
    return rle_header(offsets) + b"".join(segments)


@pytest.mark.parametrize("bits_allocated,bits_stored,samples,signed", [
    (8, 8, 1, 0), (8, 6, 1, 1), (8, 8, 3, 0), (8, 7, 3, 0), (8, 8, 4, 0),
    (16, 16, 1, 1), (16, 12, 1, 0), (16, 12, 1, 1), (16, 16, 3, 0), (16, 10, 3, 1),
    (32, 32, 1, 0), (32, 24, 1, 1), (32, 32, 3, 0)])
@pytest.mark.parametrize("planar", [0, 1])
def test_rle_large_frames_across_chunks(bits_allocated, bits_stored, samples, signed,
                                        planar):
    # Big enough for many decoder chunks, runs crossing chunk borders at odd places.
    rng = np.random.default_rng(bits_allocated * 100 + bits_stored + samples + planar)
    rows, columns = 67, 331
    shape = (rows, columns) if samples == 1 else (rows, columns, samples)
    dtype = out_dtype(bits_allocated, signed)
    raw = rng.integers(0, 1 << min(bits_allocated, 62), shape, dtype=np.uint64,
                       endpoint=False).astype(np.dtype(dtype).str.replace("i", "u"))
    # replicate stretches, as in real images
    raw.reshape(rows * columns, -1)[1000:5000] = raw.reshape(rows * columns, -1)[999]
    data = rle_frame(raw)
    unsigned = raw.astype(np.uint64) & ((1 << bits_stored) - 1)
    if signed:
        sign = 1 << (bits_stored - 1)
        expected = ((unsigned ^ sign).astype(np.int64) - sign).astype(dtype)
    else:
        expected = unsigned.astype(dtype)
    out = new_out(rows, columns, samples, bits_allocated, signed, planar)
    _codecs.decode_rle(data, out, rows, columns, samples, bits_allocated, bits_stored,
                       signed, "MONOCHROME2" if samples == 1 else "RGB", planar)
    if planar and samples > 1:
        out = np.moveaxis(out, 0, -1)
    assert np.array_equal(out.reshape(expected.shape), expected)


@pytest.mark.parametrize("bits_allocated,samples", [(8, 1), (8, 3), (16, 1), (32, 1)])
def test_rle_short_segment_in_a_later_chunk(bits_allocated, samples):
    rows, columns = 100, 200
    shape = (rows, columns) if samples == 1 else (rows, columns, samples)
    raw = np.arange(rows * columns * samples, dtype=out_dtype(bits_allocated, 0))
    data = rle_frame(raw.reshape(shape))
    n = samples * bits_allocated // 8
    header = np.frombuffer(data[:64], "<u4")
    last = int(header[n])
    cut = data[:last + (len(data) - last) * 2 // 3]  # the last segment loses a third
    out = new_out(rows, columns, samples, bits_allocated, 0)
    with pytest.raises(TruncatedError, match=f"RLE segment {n} ends after"):
        _codecs.decode_rle(cut, out, rows, columns, samples, bits_allocated,
                           bits_allocated, 0, "MONOCHROME2" if samples == 1 else "RGB")
    # a segment running longer than its plane stops at the frame size
    long = data[:-1] + bytes([0x7F]) + bytes(range(128)) + b"\xff\x00"
    out = new_out(rows, columns, samples, bits_allocated, 0)
    _codecs.decode_rle(long, out, rows, columns, samples, bits_allocated, bits_allocated,
                       0, "MONOCHROME2" if samples == 1 else "RGB")
    assert np.array_equal(out.reshape(shape), raw.reshape(shape))


# ---- round trips ------------------------------------------------------------------


def rle_encode(arr: np.ndarray) -> bytes:
    """The RLE encoding of the bit patterns of `arr` (any integer dtype): pydicom's own
    encoder, or for 32 bits, which pydicom's does not take, pylibjpeg-rle's."""
    from pydicom.pixels.encoders import RLELosslessEncoder

    arr = arr.view(arr.dtype.newbyteorder("=").str.replace("i", "u"))
    samples = 1 if arr.ndim == 2 else arr.shape[2]
    if arr.dtype.itemsize == 4:
        from rle.utils import encode_pixel_data

        return encode_pixel_data(
            np.ascontiguousarray(arr).tobytes(), rows=arr.shape[0], columns=arr.shape[1],
            samples_per_pixel=samples, bits_allocated=32, byteorder="<" if sys.byteorder == "little" else ">")
    return RLELosslessEncoder.encode(
        arr, encoding_plugin="pydicom", rows=arr.shape[0], columns=arr.shape[1],
        samples_per_pixel=samples, bits_allocated=arr.dtype.itemsize * 8,
        bits_stored=arr.dtype.itemsize * 8, pixel_representation=0,
        photometric_interpretation="MONOCHROME2" if samples == 1 else "RGB",
        number_of_frames=1, planar_configuration=0)


@st.composite
def images(draw, bits=(8, 12, 16), samples=(1, 3), min_side=1, max_side=33, signed=True):
    bits_stored = draw(st.sampled_from(bits))
    spp = draw(st.sampled_from(samples))
    pixel_representation = draw(st.sampled_from((0, 1) if signed else (0,)))
    rows = draw(st.integers(min_side, max_side))
    columns = draw(st.integers(min_side, max_side))
    bits_allocated = 8 if bits_stored <= 8 else 16 if bits_stored <= 16 else 32
    dtype = out_dtype(bits_allocated, pixel_representation)
    if pixel_representation:
        low, high = -(1 << (bits_stored - 1)), (1 << (bits_stored - 1)) - 1
    else:
        low, high = 0, (1 << bits_stored) - 1
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    shape = (rows, columns) if spp == 1 else (rows, columns, spp)
    style = draw(st.sampled_from(("noise", "flat", "runs")))
    if style == "noise":
        arr = rng.integers(low, high, shape, endpoint=True)
    elif style == "flat":
        arr = np.full(shape, rng.integers(low, high, endpoint=True))
    else:
        arr = np.repeat(rng.integers(low, high, (rows, 1) + shape[2:], endpoint=True),
                        columns, axis=1)
    return arr.astype(dtype), bits_allocated, bits_stored, pixel_representation


SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(images(bits=(8, 12, 16, 32) if HAVE_PYLIBJPEG_RLE else (8, 12, 16)))
def test_rle_round_trip(image):
    arr, bits_allocated, bits_stored, pixel_representation = image
    data = rle_encode(arr)
    spp = 1 if arr.ndim == 2 else 3
    for planar in (0, 1):
        out = new_out(arr.shape[0], arr.shape[1], spp, bits_allocated, pixel_representation,
                      planar)
        _codecs.decode_rle(data, out, arr.shape[0], arr.shape[1], spp, bits_allocated,
                           bits_stored, pixel_representation, "MONOCHROME2",
                           planar_configuration=planar)
        got = np.moveaxis(out, 0, -1) if planar and spp > 1 else out
        assert np.array_equal(got, arr)


def pydicom_reference(frame: bytes, uid: str, arr_shape, bits_allocated, bits_stored,
                      pixel_representation, photometric) -> np.ndarray:
    """What pydicom 3 + the manifest's reference plugin make of one frame."""
    from dicomframes.testing import encapsulated_pixel_data, new_dataset, set_image_pixel

    ds = new_dataset(uid)
    set_image_pixel(ds, rows=arr_shape[0], columns=arr_shape[1],
                    dtype=f"{'i' if pixel_representation else 'u'}{bits_allocated // 8}",
                    samples_per_pixel=1 if len(arr_shape) == 2 else arr_shape[2],
                    bits_stored=bits_stored, photometric=photometric)
    encapsulated_pixel_data(ds, [frame])
    plugin = CODECS[codec_of(uid)][1]
    return pixel_array(ds, raw=True, decoding_plugin=plugin).reshape(arr_shape)


@SETTINGS
@given(images(), st.sampled_from((0, 1, 2)), st.sampled_from((0, 0, 3)))
def test_jls_round_trip(jpeg_ls, image, interleave, near):
    arr, bits_allocated, bits_stored, pixel_representation = image
    spp = 1 if arr.ndim == 2 else 3
    # JPEG-LS codes unsigned samples: encode the two's complement bit patterns
    unsigned = (arr.astype(np.int64) & ((1 << bits_stored) - 1)).astype(
        out_dtype(bits_allocated, 0))
    if unsigned.dtype.itemsize == 2:
        # pyjpegls takes the precision from the maximum and, at 8 bits or less, reads the
        # 16-bit input as bytes: give 16-bit images a pixel of the full Bits Stored
        unsigned.flat[0] = (1 << bits_stored) - 1
        arr = sign_extend(unsigned, bits_stored).astype(arr.dtype) if pixel_representation \
            else unsigned
    if int(unsigned.max()) < 2:
        return  # pyjpegls takes its precision from the maximum: 0 or 1 bit is invalid
    source = np.ascontiguousarray(np.moveaxis(unsigned, -1, 0)) if (
        spp == 3 and interleave == 0) else unsigned
    try:
        data = bytes(jpeg_ls.encode_array(source, lossy_error=near,
                                          interleave_mode=interleave if spp == 3 else None))
    except RuntimeError:
        return  # pyjpegls under-sizes its output buffer for some tiny images
    uid = "1.2.840.10008.1.2.4.81" if near else "1.2.840.10008.1.2.4.80"
    photometric = "RGB" if spp == 3 else "MONOCHROME2"
    out = new_out(arr.shape[0], arr.shape[1], spp, bits_allocated, pixel_representation)
    _codecs.decode_jls(data, out, arr.shape[0], arr.shape[1], spp, bits_allocated,
                       bits_stored, pixel_representation, photometric)
    ref = pydicom_reference(data, uid, out.shape, bits_allocated, bits_stored,
                            pixel_representation, photometric)
    assert np.array_equal(out, ref)
    if near == 0 and pixel_representation == 0:
        assert np.array_equal(out, unsigned)


@SETTINGS
@given(images(bits=(8, 12, 16), min_side=32, max_side=45), st.booleans(), st.booleans(),
       st.booleans())
def test_j2k_round_trip(openjpeg, pylibjpeg, image, use_mct, jp2, flip_signedness):
    arr, bits_allocated, bits_stored, pixel_representation = image
    spp = 1 if arr.ndim == 2 else 3
    source = arr
    if flip_signedness:
        # a codestream whose signedness disagrees with Pixel Representation
        pattern = arr.astype(np.int64) & ((1 << bits_stored) - 1)
        if pixel_representation:
            source = pattern.astype(out_dtype(bits_allocated, 0))
        else:
            source = sign_extend(pattern, bits_stored).astype(out_dtype(bits_allocated, 1))
    data = openjpeg.encode(
        source, bits_stored=bits_stored, photometric_interpretation=1 if spp == 3 else 2,
        use_mct=use_mct, codec_format=1 if jp2 else 0)
    photometric = ("YBR_RCT" if use_mct else "RGB") if spp == 3 else "MONOCHROME2"
    out = new_out(arr.shape[0], arr.shape[1], spp, bits_allocated, pixel_representation)
    _codecs.decode_j2k(data, out, arr.shape[0], arr.shape[1], spp, bits_allocated,
                       bits_stored, pixel_representation, photometric)
    if not jp2:  # pydicom only parses the precision of raw codestreams
        ref = pydicom_reference(data, "1.2.840.10008.1.2.4.90", out.shape, bits_allocated,
                                bits_stored, pixel_representation, photometric)
        assert np.array_equal(out, ref)
    if not flip_signedness:
        assert np.array_equal(out, arr)
    elif spp == 1:
        # pydicom's sign correction restores the dataset's values
        assert np.array_equal(out, arr)


def sign_extend(arr: np.ndarray, bits: int) -> np.ndarray:
    values = np.asarray(arr).astype(np.int64) & ((1 << bits) - 1)
    return np.where(values >= 1 << (bits - 1), values - (1 << bits), values)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(images(bits=(8, 12, 16), min_side=32, max_side=45))
def test_lossy_j2k_matches_pydicom_pylibjpeg(openjpeg, pylibjpeg, image):
    arr, bits_allocated, bits_stored, pixel_representation = image
    spp = 1 if arr.ndim == 2 else 3
    data = openjpeg.encode(arr, bits_stored=bits_stored,
                                 photometric_interpretation=1 if spp == 3 else 2,
                                 compression_ratios=[6, 2])
    photometric = "YBR_ICT" if spp == 3 else "MONOCHROME2"
    out = new_out(arr.shape[0], arr.shape[1], spp, bits_allocated, pixel_representation)
    _codecs.decode_j2k(data, out, arr.shape[0], arr.shape[1], spp, bits_allocated,
                       bits_stored, pixel_representation, photometric)
    ref = pydicom_reference(data, "1.2.840.10008.1.2.4.91", out.shape, bits_allocated,
                            bits_stored, pixel_representation, photometric)
    assert np.array_equal(out, ref)


@pytest.mark.parametrize("pixel_representation", [0, 1])
@pytest.mark.parametrize("codec", ["jls", "j2k"])
def test_narrow_codestream_in_a_wide_container(codec, pixel_representation, request):
    # precision 8 codestreams in Bits Allocated 16: pydicom decodes to 8-bit containers
    # and widens them (sign-extending when signed), then applies its sign correction
    rng = np.random.default_rng(7)
    pattern = rng.integers(0, 255, (37, 41), endpoint=True).astype(np.uint8)
    if codec == "jls":
        jpeg_ls = request.getfixturevalue("jpeg_ls")
        data, uid = bytes(jpeg_ls.encode_array(pattern)), "1.2.840.10008.1.2.4.80"
    else:
        openjpeg = request.getfixturevalue("openjpeg")
        request.getfixturevalue("pylibjpeg")
        data, uid = openjpeg.encode(pattern, bits_stored=8), "1.2.840.10008.1.2.4.90"
    for bits_stored in (8, 12):
        out = new_out(37, 41, 1, 16, pixel_representation)
        CODECS[codec][0](data, out, 37, 41, 1, 16, bits_stored, pixel_representation,
                         "MONOCHROME2")
        ref = pydicom_reference(data, uid, out.shape, 16, bits_stored, pixel_representation,
                                "MONOCHROME2")
        assert np.array_equal(out, ref)
        expected = sign_extend(pattern, 8) if pixel_representation else pattern
        assert np.array_equal(out, expected)


# ---- damaged frames -----------------------------------------------------------------


def damage_targets():
    names = ["SC_rgb_rle.dcm", "SC_rgb_rle_16bit_2frame.dcm", "JLSL_RGB_ILV1.dcm",
             "JPEGLSNearLossless_08.dcm", "MR_small_jp2klossless.dcm",
             "HTJ2KLossless_08_RGB.dcm"]
    return [n for n in names if any(e["file"] == n for e in ENTRIES)]


@needs_corpus
@pytest.mark.parametrize("name", damage_targets())
def test_truncated_frames_raise_only_dicomframes_errors(name):
    f = load(name)
    frame = f.frames[0]
    cuts = sorted(set([0, 1, 2, 3, 4, 8, 12, 63, 64, 65, len(frame) - 1, len(frame) - 2]
                      + list(range(0, len(frame), max(1, len(frame) // 60)))))
    for cut in cuts:
        if not 0 <= cut < len(frame):
            continue
        try:
            f.decode(frame[:cut])
        except DicomFramesError:
            pass


@needs_corpus
@pytest.mark.parametrize("name", damage_targets())
def test_bit_flips_raise_only_dicomframes_errors(name):
    f = load(name)
    frame = bytearray(f.frames[0])
    rng = random.Random(name)
    # the headers are where parsers go wrong: flip every bit of the first 96 bytes
    positions = [(i, b) for i in range(min(96, len(frame))) for b in range(8)]
    positions += [(rng.randrange(len(frame)), rng.randrange(8)) for _ in range(150)]
    for at, bit in positions:
        damaged = bytearray(frame)
        damaged[at] ^= 1 << bit
        try:
            f.decode(bytes(damaged))
        except DicomFramesError:
            pass


def test_garbage_is_an_error_for_every_codec():
    out = np.zeros((8, 8), np.uint8)
    for decode in (_codecs.decode_rle, _codecs.decode_jls, _codecs.decode_j2k):
        for data in (b"", b"\x00" * 3, bytes(range(256)) * 2, b"\xff\x4f\xff\x51" + bytes(60)):
            with pytest.raises(DicomFramesError):
                decode(data, out, 8, 8, 1, 8, 8, 0, "MONOCHROME2")


def test_jls_truncation_names_the_line_and_scan(jpeg_ls):
    arr = np.arange(1024).astype(np.uint8).reshape(32, 32)
    jls = bytes(jpeg_ls.encode_array(arr))
    with pytest.raises(TruncatedError, match=r"JPEG-LS: the frame is truncated: its data ends "
                       r"\(at byte \d+\) in line \d+ of the scan at offset \d+"):
        _codecs.decode_jls(jls[: len(jls) // 2], np.zeros((32, 32), np.uint8), 32, 32, 1, 8, 8, 0,
                           "MONOCHROME2")


def test_j2k_errors_carry_the_library_message(openjpeg):
    arr = np.arange(1024).astype(np.uint8).reshape(32, 32)
    j2k = openjpeg.encode(arr, photometric_interpretation=2)
    with pytest.raises(TruncatedError, match="JPEG 2000: .* failed, .*: Stream too short"):
        _codecs.decode_j2k(j2k[:40], np.zeros((32, 32), np.uint8), 32, 32, 1, 8, 8, 0,
                           "MONOCHROME2")
    damaged = bytearray(j2k)
    damaged[40:42] = b"\x00\x00"  # SIZ Csiz: no components
    with pytest.raises(CodecError, match="JPEG 2000: reading the header failed: .+"):
        _codecs.decode_j2k(bytes(damaged), np.zeros((32, 32), np.uint8), 32, 32, 1, 8, 8, 0,
                           "MONOCHROME2")
    with pytest.raises(PixelDataError, match="components"):
        _codecs.decode_j2k(j2k, np.zeros((32, 32, 3), np.uint8), 32, 32, 3, 8, 8, 0, "RGB")
    with pytest.raises(PixelDataError, match="precision"):
        _codecs.decode_j2k(openjpeg.encode(arr.astype(np.uint16) * 100),
                           np.zeros((32, 32), np.uint8), 32, 32, 1, 8, 8, 0, "MONOCHROME2")
