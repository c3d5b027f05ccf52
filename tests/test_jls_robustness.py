"""Robustness of the JPEG-LS frame decoder (`_codecs.decode_jls`, csrc/dcf_jls.c).

Damaged streams (every or a strided set of prefixes, single bit flips in the
header and in the scan data) must decode or raise a DicomFramesError, never
anything else, never crash or hang; the padding JPEG-LS encoders and DICOM
writers leave around EOI must not change the pixels; a frame header that
disagrees with the dataset's description is a PixelDataError. Written
against the CharLS glue, to run unchanged on our own decoder (same
signature). The streams are made with pyjpegls (CharLS); the seeds of
fuzz/fuzz_jls.c (fuzz/corpus_jls/) are decoded too.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import numpy as np
import pytest

from dicomframes import DicomFramesError, PixelDataError, _codecs

jpeg_ls = pytest.importorskip("jpeg_ls")

SEEDS = Path(__file__).resolve().parents[1] / "fuzz" / "corpus_jls"
# Wall-clock bound of each sweep (seconds); with the CharLS glue the whole
# file takes about 3 s on a 2-core machine.
SWEEP_BUDGET = 20.0


def _image(seed: int, shape: tuple[int, ...], bits: int) -> np.ndarray:
    """Flat areas (runs) and a noisy patch, the largest value present (pyjpegls
    takes the precision from it)."""
    rng = np.random.default_rng(seed)
    top = (1 << bits) - 1
    arr = np.zeros(shape, dtype=np.int64)
    rows, cols = shape[0], shape[1]
    arr[: rows // 3] = top // 3
    arr[rows // 3 :, : cols // 2] = top
    arr[rows // 2 :, cols // 3 :] = rng.integers(0, top + 1, arr[rows // 2 :, cols // 3 :].shape)
    arr = arr.astype(np.uint8 if bits <= 8 else np.uint16)
    arr.reshape(-1)[1] = top
    return arr


class Case:
    """An encoded image and how to decode it."""

    def __init__(self, name: str, bits: int, shape: tuple[int, ...], near: int = 0,
                 ilv: int | None = None, seed: int = 1) -> None:
        self.name, self.bits, self.near = name, bits, near
        self.arr = _image(seed, shape, bits)
        self.rows, self.columns = shape[0], shape[1]
        self.spp = shape[2] if len(shape) == 3 else 1
        self.bits_allocated = 8 if bits <= 8 else 16
        arr = self.arr
        if self.spp > 1 and ilv == 0:
            arr = np.ascontiguousarray(arr.transpose(2, 0, 1))
        self.data = bytes(jpeg_ls.encode_array(arr, lossy_error=near, interleave_mode=ilv))

    def new_out(self, spp: int | None = None, rows: int | None = None,
                columns: int | None = None) -> np.ndarray:
        spp = self.spp if spp is None else spp
        shape = (rows or self.rows, columns or self.columns) + ((spp,) if spp > 1 else ())
        return np.zeros(shape, np.uint8 if self.bits_allocated == 8 else np.uint16)

    def decode(self, data: bytes, **changes: int) -> np.ndarray:
        args = dict(rows=self.rows, columns=self.columns, spp=self.spp,
                    bits_allocated=self.bits_allocated, bits_stored=self.bits)
        args.update(changes)
        out = self.new_out(args["spp"], args["rows"], args["columns"])
        if args["bits_allocated"] != self.bits_allocated:
            out = np.zeros(out.shape, np.uint8 if args["bits_allocated"] <= 8 else np.uint16)
        _codecs.decode_jls(data, out, args["rows"], args["columns"], args["spp"],
                           args["bits_allocated"], args["bits_stored"], 0,
                           "RGB" if args["spp"] == 3 else "MONOCHROME2")
        return out

    def check_clean(self, out: np.ndarray) -> None:
        diff = np.abs(out.astype(np.int64) - self.arr.astype(np.int64))
        assert int(diff.max()) <= self.near

    def __repr__(self) -> str:
        return self.name


CASES = [
    Case("08bit_1c", 8, (16, 16)),
    Case("08bit_1c_near3", 8, (12, 20), near=3, seed=2),
    Case("02bit_1c", 2, (20, 20), seed=3),
    Case("12bit_1c_near3", 12, (12, 12), near=3, seed=4),
    Case("16bit_1c", 16, (10, 10), seed=5),
    Case("08bit_3c_ilv0", 8, (10, 12, 3), ilv=0, seed=6),
    Case("08bit_3c_ilv1_near3", 8, (12, 10, 3), near=3, ilv=1, seed=7),
    Case("08bit_3c_ilv2", 8, (10, 10, 3), ilv=2, seed=8),
    Case("12bit_3c_ilv2_near3", 12, (8, 10, 3), near=3, ilv=2, seed=9),
    Case("16bit_3c_ilv1", 16, (8, 8, 3), ilv=1, seed=10),
    # Larger streams (a few KB): strided truncation.
    Case("12bit_1c_64x64", 12, (64, 64), seed=11),
    Case("08bit_3c_ilv0_40x40_near3", 8, (40, 40, 3), near=3, ilv=0, seed=12),
]


def _scan_start(data: bytes) -> int:
    """Offset of the first byte after the SOS segment (the scan data)."""
    i = 2
    while i + 4 <= len(data):
        assert data[i] == 0xFF, "not a marker"
        marker = data[i + 1]
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        i += 2 + length
        if marker == 0xDA:
            return i
    raise AssertionError("no SOS")


def _sof55(data: bytes) -> tuple[int, int, int, int] | None:
    """(P, Y, X, Nf) of the first SOF55 before SOS, walking the segments."""
    i = 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if marker == 0xF7:
            p, y, x, nf = data[i + 4], data[i + 5 : i + 7], data[i + 7 : i + 9], data[i + 9]
            return p, int.from_bytes(y, "big"), int.from_bytes(x, "big"), nf
        if marker == 0xDA:
            return None
        i += 2 + length
    return None


def _try(case: Case, data: bytes) -> bool:
    """Decode; True if it succeeded, False on a DicomFramesError. Anything else
    propagates and fails the test."""
    try:
        case.decode(data)
    except DicomFramesError as exc:
        assert str(exc), "an error without a message"
        return False
    return True


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_clean_streams_decode(case):
    case.check_clean(case.decode(case.data))


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_truncation_sweep(case):
    data = case.data
    # Every prefix of small streams, a strided set (plus the last 16) of larger ones.
    if len(data) <= 700:
        lengths = range(len(data))
    else:
        lengths = sorted(set(range(0, len(data), 7)) | set(range(len(data) - 16, len(data))))
    start = time.monotonic()
    for n in lengths:
        _try(case, data[:n])
    assert time.monotonic() - start < SWEEP_BUDGET


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_bit_flip_sweep(case):
    data = case.data
    scan = _scan_start(data)
    rng = random.Random(1437 + len(data))
    header_bits = range(8 * scan)  # every bit of SOI .. SOS
    scan_bits = rng.sample(range(8 * scan, 8 * len(data)), min(2000, 8 * (len(data) - scan)))
    start = time.monotonic()
    for bit in list(header_bits) + scan_bits:
        damaged = bytearray(data)
        damaged[bit // 8] ^= 0x80 >> (bit % 8)
        _try(case, bytes(damaged))
    assert time.monotonic() - start < SWEEP_BUDGET


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_random_damage_sweep(case):
    """Runs of random bytes written over the scan, and bytes dropped from it."""
    data = case.data
    scan = _scan_start(data)
    rng = random.Random(2026 + len(data))
    start = time.monotonic()
    for _ in range(500):
        damaged = bytearray(data)
        at = rng.randrange(scan, len(data))
        if rng.random() < 0.5:
            count = rng.randint(1, 8)
            damaged[at : at + count] = bytes(rng.randrange(256) for _ in range(count))
        else:
            del damaged[at : at + rng.randint(1, 8)]
        _try(case, bytes(damaged))
    assert time.monotonic() - start < SWEEP_BUDGET


# --- padding around EOI ---------------------------------------------------

def _between_scan_and_eoi(data: bytes, padding: bytes) -> bytes:
    assert data.endswith(b"\xff\xd9")
    return data[:-2] + padding + data[-2:]


@pytest.mark.parametrize("padding", [
    pytest.param(b"\x00", id="one-00"),
    pytest.param(b"\xff", id="one-ff"),
    pytest.param(b"\xff\xff\xff\xff", id="several-ff"),
    pytest.param(b"\x00\x00\x00", id="several-00"),
    pytest.param(b"\x00\xff\xff", id="00-then-ff"),
])
@pytest.mark.parametrize("case", [CASES[0], CASES[3], CASES[6], CASES[8]], ids=repr)
def test_padding_before_eoi(case, padding):
    """Zero bytes before EOI, which CharLS 2.4.1 refuses (CharLS#437), are tolerated as
    GDCM and newer CharLS tolerate them."""
    clean = case.decode(case.data)
    assert np.array_equal(case.decode(_between_scan_and_eoi(case.data, padding)), clean)


@pytest.mark.parametrize("case", [CASES[0], CASES[3], CASES[5], CASES[7]], ids=repr)
def test_missing_eoi(case):
    clean = case.decode(case.data)
    assert np.array_equal(case.decode(case.data[:-2]), clean)


@pytest.mark.parametrize("trailer", [b"\x00", b"\x00\x00\x00", b"\xff", b"\xff\xff\x00",
                                     b"\x00" * 64])
@pytest.mark.parametrize("case", [CASES[0], CASES[4], CASES[6]], ids=repr)
def test_padding_after_eoi(case, trailer):
    clean = case.decode(case.data)
    assert np.array_equal(case.decode(case.data + trailer), clean)


# --- the frame header against the dataset --------------------------------

@pytest.mark.parametrize("case", [CASES[0], CASES[3], CASES[7]], ids=repr)
@pytest.mark.parametrize("change", ["rows+1", "rows-1", "columns+1", "columns-1", "spp"])
def test_spec_that_disagrees_with_the_sof(case, change):
    kwargs = {
        "rows+1": {"rows": case.rows + 1},
        "rows-1": {"rows": case.rows - 1},
        "columns+1": {"columns": case.columns + 1},
        "columns-1": {"columns": case.columns - 1},
        "spp": {"spp": 3 if case.spp == 1 else 1},
    }[change]
    with pytest.raises(PixelDataError):
        case.decode(case.data, **kwargs)


@pytest.mark.parametrize("case", [CASES[0], CASES[5]], ids=repr)
@pytest.mark.parametrize("field", ["Y", "X"])
def test_sof_that_disagrees_with_the_spec(case, field):
    """The stream's SOF55 patched to another height or width."""
    data = bytearray(case.data)
    sof = data.index(b"\xff\xf7")
    at = sof + (5 if field == "Y" else 7)
    value = int.from_bytes(data[at : at + 2], "big") + 3
    data[at : at + 2] = value.to_bytes(2, "big")
    with pytest.raises(PixelDataError):
        case.decode(bytes(data))


def test_precision_over_bits_allocated():
    case = CASES[3]  # 12-bit
    with pytest.raises(PixelDataError):
        case.decode(case.data, bits_allocated=8, bits_stored=8)


@pytest.mark.parametrize("data", [
    b"", b"\x00", b"\xff", b"\x00" * 32, b"\xff" * 32, b"\xff\xd8", b"\xff\xd8\xff\xd9",
    b"\xff\xd8\xff\xf7", bytes(range(256)), b"GIF89a" + bytes(40),
    b"\xff\xd8\xff\xc0\x00\x0b\x08\x00\x10\x00\x10\x01\x01\x11\x00\xff\xd9",
], ids=lambda d: d[:8].hex() or "empty")
def test_empty_and_garbage(data):
    with pytest.raises(DicomFramesError):
        CASES[0].decode(data)


def test_random_garbage_is_an_error():
    rng = random.Random(5)
    for _ in range(200):
        data = bytes(rng.randrange(256) for _ in range(rng.randint(1, 200)))
        if rng.random() < 0.5:
            data = b"\xff\xd8" + data
        with pytest.raises(DicomFramesError):
            CASES[0].decode(data)


# --- the fuzzer's seeds ---------------------------------------------------

def test_fuzz_seeds_decode():
    """Every seed of fuzz/fuzz_jls.c decodes against the spec of its own SOF55."""
    paths = sorted(SEEDS.glob("*.jls"))
    assert paths, "fuzz/corpus_jls/ is empty: run fuzz/make_jls_seeds.py"
    for path in paths:
        data = path.read_bytes()
        sof = _sof55(data)
        assert sof is not None, path.name
        p, y, x, nf = sof
        ba = 8 if p <= 8 else 16
        out = np.zeros((y, x, nf) if nf > 1 else (y, x), np.uint8 if ba == 8 else np.uint16)
        _codecs.decode_jls(data, out, y, x, nf, ba, p, 0, "RGB" if nf == 3 else "MONOCHROME2")
        assert int(out.max()) <= (1 << p) - 1, path.name
