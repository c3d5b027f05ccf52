"""The fast way of reading the Image Pixel attributes (``ElementIndex.plain_values``,
used by ``DatasetValues.pixel_module``) against the general way
(``DatasetValues._read_pixel_module``, the one place that words errors): on every input
both give the same PixelModule, or the same error; the fast way answers only for plainly
well-formed attributes and leaves everything else to the general way.

Every test builds its own input with tests/dicom_bytes.py, and the corpus files are
compared as well.
"""

from __future__ import annotations

import pytest

import dicomframes
from dicomframes.dataset import _PLAIN_CHECKED_TAGS, _TAG_NUMBER_OF_FRAMES, _TAG_PHOTOMETRIC
from dicomframes.dataset import _US_TAGS
from dicomframes.values import LENIENT_TEXT_BYTES

from conftest import CORPUS
from dicom_bytes import (
    EXPLICIT_BE,
    EXPLICIT_LE,
    IMPLICIT_LE,
    element,
    file_meta,
    preamble,
    text,
    us,
)

ROWS, COLUMNS, SPP, PLANAR = 0x00280010, 0x00280011, 0x00280002, 0x00280006
BITS_ALLOCATED, BITS_STORED, HIGH_BIT, REPRESENTATION = 0x00280100, 0x00280101, 0x00280102, \
    0x00280103
FRAMES, PHOTOMETRIC = 0x00280008, 0x00280004


def _plain(f):
    values = f._values
    return f._index.plain_values(values._buffer(), _US_TAGS, _PLAIN_CHECKED_TAGS,
                                 _TAG_NUMBER_OF_FRAMES, _TAG_PHOTOMETRIC, LENIENT_TEXT_BYTES)


def _outcome(read):
    try:
        return "ok", read()
    except dicomframes.DicomFramesError as exc:
        return type(exc), str(exc), exc.tag, exc.offset


def _both(data):
    """(the fast way's answer or None, pixel_module's outcome), having checked that
    pixel_module and the general way agree exactly (value and type, or error)."""
    f = dicomframes.open(data)
    values = f._values
    fast = _outcome(values.pixel_module)
    general = _outcome(lambda: values._read_pixel_module(values._buffer()))
    assert fast == general
    if fast[0] == "ok":
        assert type(fast[1]) is type(general[1])
        assert [type(v) for v in fast[1]] == [type(v) for v in general[1]]
    return _plain(f), fast


def _file(*elements, ts=EXPLICIT_LE, explicit=True, big=False):
    body = b"".join(e(explicit, big) for e in elements)
    return preamble() + file_meta(ts) + body


def _el(tag, vr, value, length=None):
    return lambda explicit, big: element(
        tag, vr, value(big) if callable(value) else value, explicit=explicit, big=big,
        length=length)


def _us(tag, n, vr="US"):
    return _el(tag, vr, lambda big: us(n, big=big))


def _module(**replace):
    """The usual Image Pixel attributes, in tag order (no Number of Frames); `replace`:
    attribute -> an element maker (_el, _us), or None to leave it out."""
    parts = {
        "spp": _us(SPP, 1),
        "photometric": _el(PHOTOMETRIC, "CS", text("MONOCHROME2")),
        "frames": None,
        "rows": _us(ROWS, 4),
        "columns": _us(COLUMNS, 3),
        "bits_allocated": _us(BITS_ALLOCATED, 16),
        "bits_stored": _us(BITS_STORED, 12),
        "high_bit": _us(HIGH_BIT, 11),
        "representation": _us(REPRESENTATION, 1),
    }
    parts.update(replace)
    return [p for p in parts.values() if p is not None]


def _frames(value):
    return _el(FRAMES, "IS", value)


def _photometric(value):
    return _el(PHOTOMETRIC, "CS", value)


WELL_FORMED = {
    "explicit": (dict(), dict()),
    "frames": (dict(frames=_frames(b"12")), dict()),
    "frames padded": (dict(frames=_frames(b" 3 \x00")), dict()),
    "frames zero-led": (dict(frames=_frames(b"0012")), dict()),
    "frames 18 digits": (dict(frames=_frames(b"123456789012345678")), dict()),
    "no high bit, no photometric": (dict(high_bit=None, photometric=None), dict()),
    "planar": (dict(photometric=_photometric(b"RGB "), spp=_us(SPP, 3),
                    planar=_us(PLANAR, 1)), dict()),
    "implicit": (dict(frames=_frames(b"5 ")), dict(ts=IMPLICIT_LE, explicit=False)),
    "big endian": (dict(frames=_frames(b"2 ")), dict(ts=EXPLICIT_BE, big=True)),
    "photometric NUL padded": (dict(photometric=_photometric(b"YBR_FULL\x00\x00")), dict()),
}


@pytest.mark.parametrize("name", list(WELL_FORMED))
def test_well_formed_read_the_fast_way(name):
    module, options = WELL_FORMED[name]
    plain, (status, value) = _both(_file(*_module(**module), **options))
    assert status == "ok"
    assert plain is not None and tuple(plain) == tuple(value)


UNUSUAL = {
    # wrong or unusual VRs: errors, or values only the general way reads
    "rows SS": dict(rows=_us(ROWS, 4, vr="SS")),
    "rows OW": dict(rows=_us(ROWS, 4, vr="OW")),
    "rows LO": dict(rows=_el(ROWS, "LO", b"4 ")),
    "high bit UL": dict(high_bit=_el(HIGH_BIT, "UL", b"\x0b\x00\x00\x00")),
    "frames DS": dict(frames=_el(FRAMES, "DS", b"3 ")),
    "frames UN": dict(frames=_el(FRAMES, "UN", b"3 ")),
    "photometric LO": dict(photometric=_el(PHOTOMETRIC, "LO", b"RGB ")),
    "photometric US": dict(photometric=_el(PHOTOMETRIC, "US", b"\x01\x00")),
    # US lengths
    "rows 1 byte": dict(rows=_el(ROWS, "US", b"\x04")),
    "rows 3 bytes": dict(rows=_el(ROWS, "US", b"\x04\x00\x00")),
    "rows 4 bytes": dict(rows=_el(ROWS, "US", b"\x04\x00\x05\x00")),
    "rows empty": dict(rows=_el(ROWS, "US", b"")),
    "high bit odd": dict(high_bit=_el(HIGH_BIT, "US", b"\x0b")),
    "columns empty": dict(columns=_el(COLUMNS, "US", b"")),
    # Number of Frames text
    "frames 1A": dict(frames=_el(FRAMES, "IS", b"1A")),
    "frames 12.0": dict(frames=_el(FRAMES, "IS", b"12.0")),
    "frames +3": dict(frames=_el(FRAMES, "IS", b"+3")),
    "frames -3": dict(frames=_el(FRAMES, "IS", b"-3")),
    "frames 3\\4": dict(frames=_el(FRAMES, "IS", b"3\\4 ")),
    "frames empty": dict(frames=_el(FRAMES, "IS", b"")),
    "frames spaces": dict(frames=_el(FRAMES, "IS", b"  ")),
    "frames tab": dict(frames=_el(FRAMES, "IS", b"\t3")),
    "frames 1_0": dict(frames=_el(FRAMES, "IS", b"1_0 ")),
    "frames inner space": dict(frames=_el(FRAMES, "IS", b"1 2 ")),
    "frames 20 digits": dict(frames=_el(FRAMES, "IS", b"99999999999999999999")),
    "frames 66 bytes": dict(frames=_el(FRAMES, "IS", b"1" + b" " * 65)),
    "frames inf": dict(frames=_el(FRAMES, "IS", b"inf ")),
    "frames non-ASCII digit": dict(frames=_el(FRAMES, "IS", "\u0663 ".encode("utf-8"))),
    # Photometric Interpretation text
    "photometric empty": dict(photometric=_el(PHOTOMETRIC, "CS", b"")),
    "photometric spaces": dict(photometric=_el(PHOTOMETRIC, "CS", b"  ")),
    "photometric two values": dict(photometric=_el(PHOTOMETRIC, "CS", b"RGB\\YBR ")),
    "photometric latin-1": dict(photometric=_el(PHOTOMETRIC, "CS", b"RG\xe9 ")),
    "photometric 66 bytes": dict(photometric=_el(PHOTOMETRIC, "CS", b"RGB" + b" " * 63)),
}


@pytest.mark.parametrize("name", list(UNUSUAL))
@pytest.mark.parametrize("encoding", ["explicit", "implicit"])
def test_unusual_left_to_the_general_way(name, encoding):
    """Whatever is not plainly well-formed is left to the general way, which gives the
    same value or raises the same error as it always did."""
    options = dict(ts=IMPLICIT_LE, explicit=False) if encoding == "implicit" else {}
    plain, outcome = _both(_file(*_module(**UNUSUAL[name]), **options))
    implicit_plain = encoding == "implicit" and name in (
        # implicit VR: the VR written is ignored, so these are well-formed there
        "rows SS", "rows OW", "rows LO", "frames DS", "frames UN", "photometric LO")
    if implicit_plain:
        return
    assert plain is None, outcome


@pytest.mark.parametrize("value, expected", [
    (b"1A", dicomframes.MalformedError), (b"12.0", 12), (b" 3 ", 3), (b"", None),
])
def test_number_of_frames_texts(value, expected):
    """The cases named in the brief of the fast way: "1A" raises the general way's
    MalformedError, "12.0" (the general way) reads as 12, " 3 " (the fast way) as 3,
    an empty value (the general way) as absent."""
    data = _file(*_module(frames=_frames(value)))
    plain, outcome = _both(data)
    if expected is dicomframes.MalformedError:
        assert outcome[0] is dicomframes.MalformedError
        assert "(0028,0008) Number of Frames" in outcome[1]
        assert plain is None
        return
    assert outcome[0] == "ok" and outcome[1].number_of_frames == expected
    assert (plain is not None) == (value == b" 3 ")


def _corpus_files():
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix.lower() in
                  (".dcm", "") and p.stat().st_size < (64 << 20))


def test_corpus_same_module_both_ways():
    """Every corpus file that opens: the same PixelModule (or error) both ways."""
    files = _corpus_files()
    if not files:
        pytest.skip("no corpus")
    compared = fast = 0
    for path in files:
        try:
            f = dicomframes.open(path)
        except (dicomframes.DicomFramesError, OSError, ValueError):
            continue
        with f:
            values = f._values
            a = _outcome(values.pixel_module)
            b = _outcome(lambda: values._read_pixel_module(values._buffer()))
            assert a == b, path
            compared += 1
            fast += _plain(f) is not None
    assert compared
    assert fast  # the usual files do take the fast way
