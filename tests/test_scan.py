"""The element scanner (csrc/dcf_scan.c through dicomframes.open) on hand-built bytes.

Every test builds its own input with tests/dicom_bytes.py and checks the exact
index rows (tag, vr, offset, length, depth, parent, flags) or, for bad data,
the exception class, its tag/offset attributes and that the message names the
tag as "(gggg,eeee)" and the byte offset. The decoding of the values themselves
(DicomFile.value, by VR) is tested in tests/test_values.py.
"""

from __future__ import annotations

import io
import re
import warnings
import zlib

import numpy as np
import pytest

import dicomframes
import dicomframes._scan
from dicomframes import (
    DicomFramesError,
    MalformedError,
    NestingError,
    PixelDataError,
    TruncatedError,
)
from dicomframes._core import Encoding, EncodingSource
from dicomframes._core import (
    FLAG_BIG_ENDIAN,
    FLAG_ENCAPSULATED,
    FLAG_FILE_META,
    FLAG_FRAGMENT,
    FLAG_IMPLICIT_VR,
    FLAG_ITEM,
    FLAG_TRUNCATED,
    FLAG_UNDEFINED_LENGTH,
)
from dicomframes.errors import format_tag

from dicom_bytes import (
    DEFLATED,
    EXPLICIT_BE,
    EXPLICIT_LE,
    IMPLICIT_LE,
    ITEM,
    ITEM_DELIMITER,
    JPEG_BASELINE,
    LONG_VRS,
    SEQUENCE_DELIMITER,
    SHORT_VRS,
    UNDEFINED,
    deflate,
    delimiter,
    element,
    encapsulated_pixel_data,
    file_meta,
    header_size,
    item,
    pack,
    pixel_fragments,
    preamble,
    seq,
    text,
    uid,
    ul,
    us,
)

# dcf_scan_result.encoding_source
FROM_META, GUESSED, CORRECTED, FORCED = EncodingSource
ENCODING_IMPLICIT_LE, ENCODING_EXPLICIT_LE, ENCODING_EXPLICIT_BE, ENCODING_DEFLATED = Encoding

PN = 0x00100010  # Patient's Name
PID = 0x00100020  # Patient ID
STUDY_DATE = 0x00080020
SQ_TAG = 0x00081115  # Referenced Series Sequence
PRIVATE = 0x00091010
PIXEL = 0x7FE00010
FLOAT_PIXEL = 0x7FE00008
DOUBLE_PIXEL = 0x7FE00009

UNDEF = FLAG_UNDEFINED_LENGTH
META = FLAG_FILE_META


def rows(obj) -> list[tuple[int, str, int, int, int, int, int]]:
    """The index as (tag, vr, offset, length, depth, parent, flags) tuples."""
    array = obj.elements if isinstance(obj, dicomframes.DicomFile) else obj.array()
    return [
        (int(r["tag"]), r["vr"].decode("latin-1"), int(r["offset"]), int(r["length"]),
         int(r["depth"]), int(r["parent"]), int(r["flags"]))
        for r in array
    ]


def row(tag, vr, offset, length, depth=0, parent=-1, flags=0):
    return (tag, vr, offset, length, depth, parent, flags)


def meta_rows(ts_uid: str, start: int = 132) -> list[tuple]:
    """Rows of file_meta(ts_uid) (group length, version, transfer syntax) at `start`."""
    return [
        row(0x00020000, "UL", start + 8, 4, flags=META),
        row(0x00020001, "OB", start + 24, 2, flags=META),
        row(0x00020010, "UI", start + 34, len(uid(ts_uid)), flags=META),
    ]


ANY_TAG = object()  # expect_error: the tag is not checked (see the xfail tests)


def expect_error(data, cls, tag, offset, *, message_tag=True, message_offset=True, **kwargs):
    """Open `data`, expecting exactly `cls` about `tag` (None: no tag) at `offset`."""
    with pytest.raises(DicomFramesError) as info:
        dicomframes.open(data, **kwargs)
    exc = info.value
    assert type(exc) is cls, f"{type(exc).__name__}: {exc}"
    assert isinstance(exc, ValueError)
    if tag is ANY_TAG:
        tag = exc.tag
    assert exc.tag == tag
    assert exc.offset == offset
    message = str(exc)
    if tag is not None and message_tag:
        assert format_tag(tag) in message, message
    if message_offset:
        assert re.search(rf"\boffset {offset}\b", message), message
    return exc


# The three data set encodings: (id, transfer syntax UID, explicit VR, big endian).
ENCODINGS = [
    pytest.param(IMPLICIT_LE, False, False, id="implicit-le"),
    pytest.param(EXPLICIT_LE, True, False, id="explicit-le"),
    pytest.param(EXPLICIT_BE, True, True, id="explicit-be"),
]


def element_flags(explicit: bool, big: bool) -> int:
    return (0 if explicit else FLAG_IMPLICIT_VR) | (FLAG_BIG_ENDIAN if big else 0)


def image_module(rows_: int, columns: int, bits: int, *, frames: int | None = None,
                 explicit: bool = True, big: bool = False) -> bytes:
    """Image Pixel module attributes in tag order (monochrome, unsigned)."""
    kw = dict(explicit=explicit, big=big)
    out = element(0x00280002, "US", us(1, big=big), **kw)
    out += element(0x00280004, "CS", text("MONOCHROME2"), **kw)
    if frames is not None:
        out += element(0x00280008, "IS", text(str(frames)), **kw)
    out += element(0x00280010, "US", us(rows_, big=big), **kw)
    out += element(0x00280011, "US", us(columns, big=big), **kw)
    out += element(0x00280100, "US", us(bits, big=big), **kw)
    out += element(0x00280101, "US", us(bits, big=big), **kw)
    out += element(0x00280103, "US", us(0, big=big), **kw)
    return out


# ---- file meta, preamble, transfer syntax ------------------------------------------


@pytest.mark.parametrize(
    "ts_uid, explicit, big, encoding",
    [
        (IMPLICIT_LE, False, False, ENCODING_IMPLICIT_LE),
        (EXPLICIT_LE, True, False, ENCODING_EXPLICIT_LE),
        (EXPLICIT_BE, True, True, ENCODING_EXPLICIT_BE),
        (JPEG_BASELINE, True, False, ENCODING_EXPLICIT_LE),
    ],
    ids=["implicit-le", "explicit-le", "explicit-be", "jpeg-baseline"],
)
def test_preamble_and_file_meta(ts_uid, explicit, big, encoding):
    data = preamble() + file_meta(ts_uid) + element(PN, "PN", text("Doe^John"),
                                                     explicit=explicit, big=big)
    f = dicomframes.open(data)
    ui_length = len(uid(ts_uid))
    assert ui_length % 2 == 0
    if len(ts_uid) % 2:
        assert data[166 + ui_length - 1] == 0  # the UID ends in its NUL padding
    end = 166 + ui_length
    assert rows(f) == [
        row(0x00020000, "UL", 140, 4, flags=META),
        row(0x00020001, "OB", 156, 2, flags=META),
        row(0x00020010, "UI", 166, ui_length, flags=META),
        row(PN, "PN" if explicit else "UN", end + 8, 8, flags=element_flags(explicit, big)),
    ]
    index = f._index
    assert index.has_preamble and f.has_preamble
    assert index.has_file_meta and f.has_file_meta
    assert index.meta_offset == 132
    assert index.dataset_offset == end
    assert index.transfer_syntax == 2
    assert index.encoding == encoding
    assert index.encoding_source == FROM_META
    assert index.pixel_data == -1
    assert f.transfer_syntax_uid == ts_uid  # the trailing NUL is not part of it
    # group length: everything after (0002,0000)
    assert f.value(0x00020000) == end - 144
    assert f.value(0x00020001) == b"\x00\x01"
    assert f.value(PN) == "Doe^John"


def test_file_meta_uid_padded_with_space_and_extra_elements():
    extra = [element(0x00020002, "UI", uid("1.2.840.10008.5.1.4.1.1.7")),
             element(0x00020013, "SH", text("DCF"))]
    meta = file_meta(IMPLICIT_LE + " ", group_length=False, version=False, extra=extra)
    data = preamble() + meta + element(PN, None, b"AB", explicit=False)
    f = dicomframes.open(data)
    assert rows(f) == [
        row(0x00020010, "UI", 140, 18, flags=META),
        row(0x00020002, "UI", 166, 26, flags=META),
        row(0x00020013, "SH", 200, 4, flags=META),
        row(PN, "UN", 212, 2, flags=FLAG_IMPLICIT_VR),
    ]
    assert f._index.transfer_syntax == 0
    assert f._index.encoding == ENCODING_IMPLICIT_LE
    assert f._index.encoding_source == FROM_META
    assert f.transfer_syntax_uid == IMPLICIT_LE
    assert f.value(PN) == "AB"


def test_file_meta_only():
    data = preamble() + file_meta(EXPLICIT_LE)
    f = dicomframes.open(data)
    assert rows(f) == meta_rows(EXPLICIT_LE)
    assert f._index.dataset_offset == len(data) == 186


def test_file_meta_without_transfer_syntax_guesses_the_data_set():
    data = preamble() + file_meta(None) + element(PN, "PN", b"AB", big=True)
    f = dicomframes.open(data)
    assert rows(f) == [
        row(0x00020000, "UL", 140, 4, flags=META),
        row(0x00020001, "OB", 156, 2, flags=META),
        row(PN, "PN", 166, 2, flags=FLAG_BIG_ENDIAN),
    ]
    assert f._index.transfer_syntax == -1
    assert f._index.encoding == ENCODING_EXPLICIT_BE
    assert f._index.encoding_source == GUESSED
    assert f.transfer_syntax_uid == EXPLICIT_BE
    assert f.value(PN) == "AB"


def test_file_meta_flag_lands_on_the_meta_element_that_holds_items():
    extra = [seq(0x00029999, item(element(PN, "PN", b"AB")))]
    data = preamble() + file_meta(EXPLICIT_LE, extra=extra) + element(PN, "PN", b"CD")
    f = dicomframes.open(data)
    got = rows(f)
    assert got[3] == row(0x00029999, "SQ", 198, 18, flags=META)
    # whether the nested entries carry the flag too is left open
    assert [r[:6] + (r[6] & ~META,) for r in got[4:6]] == [
        row(ITEM, "  ", 206, 10, 1, 3, FLAG_ITEM),
        row(PN, "PN", 214, 2, 1, 4),
    ]


# ---- files without preamble or without file meta -------------------------------------


@pytest.mark.parametrize("prefix, meta_offset", [(b"DICM", 4), (b"", 0)],
                         ids=["dicm-prefix", "starts-at-group-0002"])
def test_no_preamble(prefix, meta_offset):
    data = prefix + file_meta(EXPLICIT_LE) + element(PN, "PN", b"AB")
    f = dicomframes.open(data)
    m = meta_offset
    assert rows(f) == meta_rows(EXPLICIT_LE, start=m) + [row(PN, "PN", m + 54 + 8, 2)]
    index = f._index
    assert not index.has_preamble
    assert index.has_file_meta
    assert index.meta_offset == m
    assert index.dataset_offset == m + 54
    assert index.encoding == ENCODING_EXPLICIT_LE
    assert index.encoding_source == FROM_META


@pytest.mark.parametrize("data, offset", [(b"DICM" + b"\x08\x00\x20\x00DA\x00\x00", 4),
                                          (preamble() + element(PN, "PN", b"AB"), 132)],
                         ids=["dicm", "preamble"])
def test_dicm_prefix_without_file_meta_is_malformed(data, offset):
    exc = expect_error(data, MalformedError, None, offset)
    assert "group 0002" in str(exc)


@pytest.mark.parametrize(
    "explicit, big, encoding",
    [(False, False, ENCODING_IMPLICIT_LE), (True, False, ENCODING_EXPLICIT_LE),
     (True, True, ENCODING_EXPLICIT_BE)],
    ids=["implicit-le", "explicit-le", "explicit-be"],
)
def test_no_file_meta_encoding_guessed_like_pydicom(explicit, big, encoding):
    kw = dict(explicit=explicit, big=big)
    data = element(STUDY_DATE, "DA", b"20240101", **kw) + element(PN, "PN", b"AB", **kw)
    f = dicomframes.open(data)
    flags = element_flags(explicit, big)
    assert rows(f) == [
        row(STUDY_DATE, "DA" if explicit else "UN", 8, 8, flags=flags),
        row(PN, "PN" if explicit else "UN", 24, 2, flags=flags),
    ]
    index = f._index
    assert not index.has_preamble and not index.has_file_meta
    assert index.meta_offset == 0 and index.dataset_offset == 0
    assert index.transfer_syntax == -1
    assert index.encoding == encoding
    assert index.encoding_source == GUESSED
    assert f.value(STUDY_DATE) == "20240101"
    assert f.value(PN) == "AB"

    pydicom = pytest.importorskip("pydicom")
    ds = pydicom.dcmread(io.BytesIO(data), force=True)
    assert ds.original_encoding == (not explicit, not big)


@pytest.mark.parametrize(
    "ts_uid, explicit, encoding, warning",
    [(EXPLICIT_LE, False, ENCODING_IMPLICIT_LE, "found implicit VR"),
     (IMPLICIT_LE, True, ENCODING_EXPLICIT_LE, "found explicit VR")],
    ids=["explicit-uid-implicit-data", "implicit-uid-explicit-data"],
)
def test_meta_uid_disagreeing_with_the_data_is_corrected(ts_uid, explicit, encoding, warning):
    body = (element(STUDY_DATE, "DA", b"20240101", explicit=explicit)
            + element(PN, "PN", b"AB", explicit=explicit))
    data = preamble() + file_meta(ts_uid) + body
    f = dicomframes.open(data)
    base = 132 + len(file_meta(ts_uid))
    flags = element_flags(explicit, False)
    assert rows(f) == meta_rows(ts_uid) + [
        row(STUDY_DATE, "DA" if explicit else "UN", base + 8, 8, flags=flags),
        row(PN, "PN" if explicit else "UN", base + 24, 2, flags=flags),
    ]
    assert f._index.encoding == encoding
    assert f._index.encoding_source == CORRECTED
    assert f.transfer_syntax_uid == ts_uid  # what the file says
    assert f.value(PN) == "AB"

    pydicom = pytest.importorskip("pydicom")
    with pytest.warns(UserWarning, match=warning):
        ds = pydicom.dcmread(io.BytesIO(data), force=True)
    assert ds.PatientName == "AB"


# ---- data set encodings ----------------------------------------------------------------


@pytest.mark.parametrize("ts_uid, explicit, big", ENCODINGS)
def test_data_set_encodings_values(ts_uid, explicit, big):
    kw = dict(explicit=explicit, big=big)
    body = (element(0x00080008, "CS", text("ORIGINAL\\PRIMARY"), **kw)
            + element(0x00280010, "US", us(512, big=big), **kw)
            + element(0x00281052, "DS", text("-1024.5"), **kw)
            + element(0x00200013, "IS", text("70000"), **kw))
    data = preamble() + file_meta(ts_uid) + body
    f = dicomframes.open(data)
    base = 132 + len(file_meta(ts_uid))
    flags = element_flags(explicit, big)
    vr = (lambda v: v) if explicit else (lambda v: "UN")
    assert rows(f) == meta_rows(ts_uid) + [
        row(0x00080008, vr("CS"), base + 8, 16, flags=flags),
        row(0x00280010, vr("US"), base + 32, 2, flags=flags),
        row(0x00281052, vr("DS"), base + 42, 8, flags=flags),
        row(0x00200013, vr("IS"), base + 58, 6, flags=flags),
    ]
    assert f.value(0x00080008) == ["ORIGINAL", "PRIMARY"]
    assert f.value(0x00280010) == 512
    assert f.value(0x00281052) == -1024.5
    assert f.value(0x00200013) == 70000
    assert f.rows == 512  # the pixel module reader honours the byte order too


def test_explicit_big_endian_lengths_are_big_endian():
    # 0x0102 bytes of value: little endian would read a length of 0x0201.
    value = b"A" * 0x102
    data = preamble() + file_meta(EXPLICIT_BE) + element(0x00081030, "LO", value, big=True) \
        + element(0x00091010, "OB", b"\x01\x02", big=True) \
        + element(0x00280010, "US", us(3, 0x0102, big=True), big=True)
    assert data[186 + 6:186 + 8] == b"\x01\x02"
    f = dicomframes.open(data)
    be = FLAG_BIG_ENDIAN
    assert rows(f)[3:] == [
        row(0x00081030, "LO", 194, 0x102, flags=be),
        row(0x00091010, "OB", 194 + 0x102 + 12, 2, flags=be),
        row(0x00280010, "US", 194 + 0x102 + 22, 4, flags=be),
    ]
    assert f.value(0x00280010) == [3, 0x0102]
    assert f.value(0x00091010) == b"\x01\x02"  # bytes stay as stored


def _deflated_body():
    return (element(0x00080008, "CS", text("ORIGINAL\\PRIMARY"))
            + seq(SQ_TAG, item(element(PN, "PN", b"AB"), undefined=True), undefined=True)
            + element(0x00280010, "US", us(7)))


def test_deflated_data_set_from_bytes_pickles_as_given():
    """A Deflated data set opened from bytes pickles its bytes as given (not the
    inflated copy, which would not open again)."""
    import pickle

    data = preamble() + file_meta(DEFLATED) + deflate(_deflated_body())
    f = dicomframes.open(data)
    g = pickle.loads(pickle.dumps(f))
    assert g.value(0x00280010) == f.value(0x00280010) == 7
    f.close()
    h = pickle.loads(pickle.dumps(f))  # closed: the bytes were kept
    assert h.value(0x00080008) == ["ORIGINAL", "PRIMARY"]


def test_deflated_explicit_little_endian():
    body = _deflated_body()
    meta = preamble() + file_meta(DEFLATED)
    compressed = deflate(body)
    assert compressed != body
    f = dicomframes.open(meta + compressed)
    b = len(meta)
    assert b == 188
    assert rows(f) == meta_rows(DEFLATED) + [
        row(0x00080008, "CS", b + 8, 16),
        row(SQ_TAG, "SQ", b + 36, 26, flags=UNDEF),
        row(ITEM, "  ", b + 44, 10, 1, 4, FLAG_ITEM | UNDEF),
        row(PN, "PN", b + 52, 2, 1, 5),
        row(0x00280010, "US", b + 78, 2),
    ]
    # offsets point into the inflated buffer (file meta + inflated data set)
    assert bytes(f._buffer) == meta + body
    assert f._index.encoding == ENCODING_DEFLATED
    assert f._index.dataset_offset == b
    assert f.transfer_syntax_uid == DEFLATED
    assert f.value(0x00080008) == ["ORIGINAL", "PRIMARY"]
    assert f.value(0x00280010) == 7
    assert [i.value(PN) for i in f.value(SQ_TAG)] == ["AB"]


@pytest.mark.parametrize("garbage", [b"\xff" * 24, b"\x07" + b"\x00" * 15],
                         ids=["invalid-block-type", "reserved-block"])
def test_deflated_corrupt_stream(garbage):
    data = preamble() + file_meta(DEFLATED) + garbage
    expect_error(data, MalformedError, None, 188)


def test_deflated_stream_cut_short():
    body = _deflated_body() + element(PID, "LO", text("ID1"))
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    # everything up to a byte boundary, but never the final block
    cut = compressor.compress(body) + compressor.flush(zlib.Z_SYNC_FLUSH)
    with pytest.raises(zlib.error):
        zlib.decompress(cut, -15)  # zlib (and pydicom) call this truncated
    expect_error(preamble() + file_meta(DEFLATED) + cut, MalformedError, None, 188)


def test_deflated_inflate_limit():
    body = element(0x00091010, "OB", b"\x00" * 100_000)
    data = preamble() + file_meta(DEFLATED) + deflate(body)
    assert len(data) < 2000
    exc = expect_error(data, MalformedError, None, 188, max_inflated_bytes=50_000)
    assert "50000" in str(exc)
    assert dicomframes.open(data, max_inflated_bytes=200_000).value(0x00091010) == \
        b"\x00" * 100_000


# ---- value representations ----------------------------------------------------------


@pytest.mark.parametrize("big", [False, True], ids=["le", "be"])
@pytest.mark.parametrize("vr", LONG_VRS + SHORT_VRS)
def test_every_vr_header(vr, big):
    ts_uid = EXPLICIT_BE if big else EXPLICIT_LE
    value = b"" if vr == "SQ" else b"\x01\x02\x03\x04"
    data = preamble() + file_meta(ts_uid) + element(PRIVATE, vr, value, big=big) \
        + element(PN, "PN", b"AB", big=big)
    f = dicomframes.open(data)
    header = 12 if vr in LONG_VRS else 8
    assert header == header_size(vr)
    flags = FLAG_BIG_ENDIAN if big else 0
    assert rows(f)[3:] == [
        row(PRIVATE, vr, 186 + header, len(value), flags=flags),
        row(PN, "PN", 186 + header + len(value) + 8, 2, flags=flags),
    ]


def test_empty_values_are_indexed():
    data = preamble() + file_meta(EXPLICIT_LE) + element(PN, "PN", b"") + \
        element(0x00280010, "US", b"")
    f = dicomframes.open(data)
    assert rows(f)[3:] == [row(PN, "PN", 194, 0), row(0x00280010, "US", 202, 0)]


# ---- sequences ---------------------------------------------------------------------------


@pytest.mark.parametrize("ts_uid, explicit, big", ENCODINGS)
def test_undefined_length_sequence_and_items(ts_uid, explicit, big):
    kw = dict(explicit=explicit, big=big)
    pn = element(PN, "PN", b"AB", **kw)
    pid = element(PID, "LO", text("ID7"), **kw)
    body = (seq(SQ_TAG, item(pn, undefined=True, big=big), item(pid, undefined=True, big=big),
                undefined=True, **kw)
            + element(0x00280010, "US", us(5, big=big), **kw))
    data = preamble() + file_meta(ts_uid) + body
    f = dicomframes.open(data)
    m = len(meta_rows(ts_uid))
    b = 132 + len(file_meta(ts_uid))
    flags = element_flags(explicit, big)
    v = b + (12 if explicit else 8)  # SQ value
    item_flags = FLAG_ITEM | UNDEF
    vr = (lambda x: x) if explicit else (lambda x: "UN")
    # item 1: header 8 + PN 10 + delimiter 8; item 2: header 8 + LO 12 + delimiter 8
    assert rows(f)[m:] == [
        row(SQ_TAG, "SQ", v, 26 + 28, flags=flags | UNDEF),
        row(ITEM, "  ", v + 8, 10, 1, m, item_flags),
        row(PN, vr("PN"), v + 16, 2, 1, m + 1, flags),
        row(ITEM, "  ", v + 34, 12, 1, m, item_flags),
        row(PID, vr("LO"), v + 42, 4, 1, m + 3, flags),
        row(0x00280010, vr("US"), v + 54 + 8 + 8, 2, flags=flags),
    ]
    assert f._index.items_of(m) == [m + 1, m + 3]
    items = f.value(SQ_TAG)
    assert [type(i) for i in items] == [dicomframes.Item] * 2
    assert items[0].value(PN) == "AB" and PID not in items[0]
    assert items[1].value(PID) == "ID7"
    assert f.value(0x00280010) == 5


@pytest.mark.parametrize("ts_uid, explicit, big", ENCODINGS)
def test_defined_length_sequence_and_items(ts_uid, explicit, big):
    # in implicit VR the SQ is recognised by its content (vr becomes "SQ")
    kw = dict(explicit=explicit, big=big)
    pn = element(PN, "PN", b"AB", **kw)
    nested = seq(0x00400275, item(element(PID, "LO", text("X"), **kw), big=big), **kw)
    body = (seq(SQ_TAG, item(pn, big=big), item(pn, nested, big=big), **kw)
            + element(0x00280010, "US", us(5, big=big), **kw))
    data = preamble() + file_meta(ts_uid) + body
    f = dicomframes.open(data)
    m = len(meta_rows(ts_uid))
    b = 132 + len(file_meta(ts_uid))
    flags = element_flags(explicit, big)
    sq_header = 12 if explicit else 8
    v = b + sq_header
    vr = (lambda x: x) if explicit else (lambda x: "UN")
    nested_len = sq_header + 8 + 10
    item2_len = 10 + nested_len
    sq_len = 8 + 10 + 8 + item2_len
    assert rows(f)[m:] == [
        row(SQ_TAG, "SQ", v, sq_len, flags=flags),
        row(ITEM, "  ", v + 8, 10, 1, m, FLAG_ITEM),
        row(PN, vr("PN"), v + 16, 2, 1, m + 1, flags),
        row(ITEM, "  ", v + 26, item2_len, 1, m, FLAG_ITEM),
        row(PN, vr("PN"), v + 34, 2, 1, m + 3, flags),
        row(0x00400275, "SQ", v + 36 + sq_header, 18, 1, m + 3, flags),
        row(ITEM, "  ", v + 44 + sq_header, 10, 2, m + 5, FLAG_ITEM),
        row(PID, vr("LO"), v + 52 + sq_header, 2, 2, m + 6, flags),
        row(0x00280010, vr("US"), v + sq_len + 8, 2, flags=flags),
    ]
    items = f.value(SQ_TAG)
    assert [i.value(PN) for i in items] == ["AB", "AB"]
    (inner,) = items[1].value(0x00400275)
    assert inner.value(PID) == "X"


@pytest.mark.parametrize("ts_uid, explicit, big", ENCODINGS)
def test_empty_sequences_and_items(ts_uid, explicit, big):
    kw = dict(explicit=explicit, big=big)
    body = (seq(0x00081110, **kw)  # defined length 0
            + seq(0x00081111, undefined=True, **kw)  # just the delimiter
            + seq(0x00081115, item(big=big), item(undefined=True, big=big), **kw))
    data = preamble() + file_meta(ts_uid) + body
    f = dicomframes.open(data)
    m = len(meta_rows(ts_uid))
    b = 132 + len(file_meta(ts_uid))
    h = 12 if explicit else 8
    flags = element_flags(explicit, big)
    expected = [
        # an implicit empty value has nothing to say it is a sequence
        row(0x00081110, "SQ" if explicit else "UN", b + h, 0, flags=flags),
        row(0x00081111, "SQ", b + 2 * h, 0, flags=flags | UNDEF),
        row(0x00081115, "SQ", b + 3 * h + 8, 24, flags=flags),
        row(ITEM, "  ", b + 3 * h + 16, 0, 1, m + 2, FLAG_ITEM),
        row(ITEM, "  ", b + 3 * h + 24, 0, 1, m + 2, FLAG_ITEM | UNDEF),
    ]
    assert rows(f)[m:] == expected
    assert f.value(0x00081110) == []  # implicit: the dictionary says SQ
    assert f.value(0x00081111) == []
    assert [i.tags() for i in f.value(0x00081115)] == [[], []]


@pytest.mark.parametrize("big", [False, True], ids=["explicit-le", "explicit-be"])
def test_un_undefined_length_holds_implicit_little_endian(big):
    # PS3.5 6.2.2: the content of UN with undefined length is implicit VR LE,
    # whatever the encoding of the file.
    inner = item(element(PN, None, b"AB", explicit=False), undefined=True) + \
        item(element(PID, None, text("ID1"), explicit=False), element(0x00080000, None, ul(0),
                                                                      explicit=False))
    body = (element(0x00091010, "UN", inner + delimiter(SEQUENCE_DELIMITER), big=big,
                    length=UNDEFINED)
            + element(0x00280010, "US", us(9, big=big), big=big))
    data = preamble() + file_meta(EXPLICIT_BE if big else EXPLICIT_LE) + body
    f = dicomframes.open(data)
    be = FLAG_BIG_ENDIAN if big else 0
    imp = FLAG_IMPLICIT_VR
    v = 186 + 12
    assert rows(f)[3:] == [
        row(0x00091010, "UN", v, 26 + 32, flags=be | UNDEF),
        row(ITEM, "  ", v + 8, 10, 1, 3, FLAG_ITEM | UNDEF),
        row(PN, "UN", v + 16, 2, 1, 4, imp),
        row(ITEM, "  ", v + 34, 24, 1, 3, FLAG_ITEM),
        row(PID, "UN", v + 42, 4, 1, 6, imp),
        row(0x00080000, "UL", v + 54, 4, 1, 6, imp),
        row(0x00280010, "US", v + 58 + 8 + 8, 2, flags=be),
    ]
    assert f._index.items_of(3) == [4, 6]
    items = [dicomframes.Item(f, i) for i in f._index.items_of(3)]
    assert items[0].value(PN) == "AB"
    assert items[1].value(PID) == "ID1"
    assert items[1].value(0x00080000) == 0
    assert f.value(0x00280010) == 9


def test_implicit_defined_length_value_that_only_looks_like_a_sequence_stays_opaque():
    kw = dict(explicit=False)
    # an item header whose length runs past the value
    first = b"\xfe\xff\x00\xe0" + ul(100) + b"xxxx"
    # a whole, valid item (with an element) followed by 4 stray bytes: the
    # entries pushed while trying must be taken back
    second = item(element(PN, None, b"", **kw)) + b"\x01\x02\x03\x04"
    # an item nesting a real implicit sequence, then junk
    third = item(seq(SQ_TAG, item(element(PN, None, b"AB", **kw)), **kw)) + b"\x00" * 6
    body = (element(0x00091010, None, first, **kw)
            + element(0x00091011, None, second, **kw)
            + element(0x00091012, None, third, **kw)
            + element(0x00280010, None, us(9), **kw))
    data = preamble() + file_meta(IMPLICIT_LE) + body
    f = dicomframes.open(data)
    imp = FLAG_IMPLICIT_VR
    b = 184
    assert rows(f)[3:] == [
        row(0x00091010, "UN", b + 8, 12, flags=imp),
        row(0x00091011, "UN", b + 28, 20, flags=imp),
        row(0x00091012, "UN", b + 56, 40, flags=imp),
        row(0x00280010, "UN", b + 104, 2, flags=imp),
    ]
    assert f.value(0x00091011) == second
    assert f._index.items_of(4) == []


def test_implicit_defined_length_sequence_inside_undefined_item():
    kw = dict(explicit=False)
    inner = seq(0x00400275, item(element(PN, None, b"AB", **kw)), **kw)
    body = seq(SQ_TAG, item(inner, undefined=True), undefined=True, **kw)
    data = preamble() + file_meta(IMPLICIT_LE) + body
    f = dicomframes.open(data)
    imp = FLAG_IMPLICIT_VR
    v = 184 + 8
    assert rows(f)[3:] == [
        row(SQ_TAG, "SQ", v, 8 + 26 + 8, flags=imp | UNDEF),
        row(ITEM, "  ", v + 8, 26, 1, 3, FLAG_ITEM | UNDEF),
        row(0x00400275, "SQ", v + 16, 18, 1, 4, imp),
        row(ITEM, "  ", v + 24, 10, 2, 5, FLAG_ITEM),
        row(PN, "UN", v + 32, 2, 2, 6, imp),
    ]
    (outer,) = f.value(SQ_TAG)
    (nested,) = outer.value(0x00400275)
    assert nested.value(PN) == "AB"


def test_implicit_native_pixel_data_that_parses_as_items_stays_pixel_data():
    kw = dict(explicit=False)
    pixels = item(element(PN, None, b"", **kw))  # 16 bytes: 2 x 4 pixels of 16 bits
    data = preamble() + file_meta(IMPLICIT_LE) + image_module(2, 4, 16, explicit=False) \
        + element(PIXEL, None, pixels, **kw)
    f = dicomframes.open(data)
    last = rows(f)[-1]
    assert last[:4] == (PIXEL, "OW", len(data) - 16, 16)
    assert f._index.items_of(len(f.elements) - 1) == []
    assert f.value(PIXEL) == pixels


# ---- nesting depth -------------------------------------------------------------------------


def nested(levels: int, *, explicit: bool = True, undefined: bool = False) -> bytes:
    """`levels` sequences, each with one item, around (0010,0010)."""
    inner = element(PN, "PN", b"AB", explicit=explicit)
    for _ in range(levels):
        inner = seq(SQ_TAG, item(inner, undefined=undefined), explicit=explicit,
                    undefined=undefined)
    return inner


def _level_size(explicit, undefined):
    """Bytes before the next SQ header: SQ header and item header."""
    return (12 if explicit else 8) + 8


@pytest.mark.parametrize("explicit, undefined", [(True, False), (True, True), (False, True)],
                         ids=["explicit-defined", "explicit-undefined", "implicit-undefined"])
def test_nesting_up_to_the_default_bound(explicit, undefined):
    ts_uid = EXPLICIT_LE if explicit else IMPLICIT_LE
    prefix = preamble() + file_meta(ts_uid)
    f = dicomframes.open(prefix + nested(32, explicit=explicit, undefined=undefined))
    got = rows(f)[3:]
    assert len(got) == 2 * 32 + 1
    step = _level_size(explicit, undefined)
    sq_h = step - 8
    flags = element_flags(explicit, False)
    for k in range(32):
        sq, it = got[2 * k], got[2 * k + 1]
        assert sq[:2] == (SQ_TAG, "SQ") and sq[4] == k and sq[2] == len(prefix) + k * step + sq_h
        assert sq[5] == (-1 if k == 0 else 3 + 2 * k - 1)
        assert it[:2] == (ITEM, "  ") and it[4] == k + 1 and it[5] == 3 + 2 * k
        assert it[6] == FLAG_ITEM | (UNDEF if undefined else 0)
    assert got[-1] == row(PN, "PN" if explicit else "UN", len(prefix) + 32 * step + 8, 2,
                          32, 3 + 63, flags)


@pytest.mark.parametrize("explicit, undefined", [(True, False), (True, True), (False, True)],
                         ids=["explicit-defined", "explicit-undefined", "implicit-undefined"])
def test_nesting_beyond_the_default_bound(explicit, undefined):
    ts_uid = EXPLICIT_LE if explicit else IMPLICIT_LE
    prefix = preamble() + file_meta(ts_uid)
    step = _level_size(explicit, undefined)
    # the 33rd sequence, at depth 32, fails where its items would start
    offset = len(prefix) + 32 * step + (step - 8)
    data = prefix + nested(33, explicit=explicit, undefined=undefined)
    exc = expect_error(data, NestingError, SQ_TAG, offset, message_offset=False)
    assert isinstance(exc, MalformedError)
    assert "32" in str(exc)


def test_nesting_error_message_names_the_offset():
    prefix = preamble() + file_meta(EXPLICIT_LE)
    expect_error(prefix + nested(33), NestingError, SQ_TAG, len(prefix) + 32 * 20 + 12)


def test_implicit_defined_length_nesting_beyond_the_bound_stays_opaque():
    # Without a VR a defined-length value is only taken for a sequence when it
    # parses as one; at the depth bound it cannot, so it stays an opaque value
    # (no NestingError, unlike explicit VR or undefined lengths).
    prefix = preamble() + file_meta(IMPLICIT_LE)
    f = dicomframes.open(prefix + nested(33, explicit=False))
    got = rows(f)[3:]
    assert len(got) == 2 * 32 + 1
    assert [r[1] for r in got[0:-1:2]] == ["SQ"] * 32
    assert got[-1] == row(SQ_TAG, "UN", len(prefix) + 32 * 16 + 8, 18, 32, 3 + 63,
                          FLAG_IMPLICIT_VR)


@pytest.mark.parametrize("max_depth", [1, 3, 40])
def test_max_depth_argument(max_depth, tmp_path):
    prefix = preamble() + file_meta(EXPLICIT_LE)
    ok = prefix + nested(max_depth)
    f = dicomframes.open(ok, max_depth=max_depth)
    assert max(r[4] for r in rows(f)) == max_depth
    path = tmp_path / "ok.dcm"
    path.write_bytes(ok)
    with dicomframes.open(path, max_depth=max_depth) as g:
        assert rows(g) == rows(f)
    offset = len(prefix) + max_depth * 20 + 12
    expect_error(prefix + nested(max_depth + 1), NestingError, SQ_TAG, offset,
                 message_offset=False, max_depth=max_depth)
    path.write_bytes(prefix + nested(max_depth + 1))
    with pytest.raises(NestingError):
        dicomframes.open(path, max_depth=max_depth)


def test_max_depth_zero_means_the_default():
    prefix = preamble() + file_meta(EXPLICIT_LE)
    assert len(dicomframes.open(prefix + nested(32), max_depth=0).elements) == 3 + 65
    with pytest.raises(NestingError):
        dicomframes.open(prefix + nested(33), max_depth=0)


# ---- odd lengths, padding, trailing bytes ------------------------------------------------


@pytest.mark.parametrize("explicit", [True, False], ids=["explicit", "implicit"])
def test_odd_value_lengths(explicit):
    kw = dict(explicit=explicit)
    ts_uid = EXPLICIT_LE if explicit else IMPLICIT_LE
    body = (element(PN, "PN", b"ABC", **kw) + element(0x00091010, "OB", b"\x01", **kw)
            + element(PID, "LO", b"12345", **kw))
    data = preamble() + file_meta(ts_uid) + body
    f = dicomframes.open(data)
    b = 132 + len(file_meta(ts_uid))
    flags = element_flags(explicit, False)
    ob = 12 if explicit else 8
    assert rows(f)[3:] == [
        row(PN, "PN" if explicit else "UN", b + 8, 3, flags=flags),
        row(0x00091010, "OB" if explicit else "UN", b + 11 + ob, 1, flags=flags),
        row(PID, "LO" if explicit else "UN", b + 12 + ob + 8, 5, flags=flags),
    ]
    assert f.value(PN) == "ABC"
    assert f.value(0x00091010) == b"\x01"
    assert f.value(PID) == "12345"


@pytest.mark.parametrize("explicit", [True, False], ids=["explicit", "implicit"])
def test_trailing_padding_element(explicit):
    ts_uid = EXPLICIT_LE if explicit else IMPLICIT_LE
    kw = dict(explicit=explicit)
    data = preamble() + file_meta(ts_uid) + element(PN, "PN", b"AB", **kw) \
        + element(0xFFFCFFFC, "OB", b"\x00" * 6, **kw)
    f = dicomframes.open(data)
    b = 132 + len(file_meta(ts_uid))
    flags = element_flags(explicit, False)
    assert rows(f)[3:] == [
        row(PN, "PN" if explicit else "UN", b + 8, 2, flags=flags),
        row(0xFFFCFFFC, "OB" if explicit else "UN", b + 10 + (12 if explicit else 8), 6,
            flags=flags),
    ]
    assert f.value(0xFFFCFFFC) == b"\x00" * 6


@pytest.mark.parametrize("zeros", range(1, 8))
@pytest.mark.parametrize("explicit", [True, False], ids=["explicit", "implicit"])
def test_trailing_zero_bytes_are_tolerated(zeros, explicit):
    ts_uid = EXPLICIT_LE if explicit else IMPLICIT_LE
    clean = preamble() + file_meta(ts_uid) + element(PN, "PN", b"AB", explicit=explicit)
    f = dicomframes.open(clean + b"\x00" * zeros)
    assert rows(f) == rows(dicomframes.open(clean))


@pytest.mark.parametrize("junk", [b"\x01", b"\x00\x00\x00\x00\x00\x00\x01", b"\x10\x00",
                                  b"\xff\xff\xff"])
@pytest.mark.parametrize("explicit", [True, False], ids=["explicit", "implicit"])
def test_trailing_nonzero_junk_is_truncation(junk, explicit):
    ts_uid = EXPLICIT_LE if explicit else IMPLICIT_LE
    clean = preamble() + file_meta(ts_uid) + element(PN, "PN", b"AB", explicit=explicit)
    # with 4 or more bytes there is a tag to name (test_element_header_cut_short_names_the_tag)
    tag = None if len(junk) < 4 else ANY_TAG
    exc = expect_error(clean + junk, TruncatedError, tag, len(clean))
    assert f"{len(junk)} bytes left" in str(exc)


@pytest.mark.parametrize("ts_uid, explicit, big", ENCODINGS)
def test_file_ending_right_after_pixel_data(ts_uid, explicit, big):
    kw = dict(explicit=explicit, big=big)
    pixels = bytes(range(12))
    data = preamble() + file_meta(ts_uid) + image_module(3, 4, 8, **kw) \
        + element(PIXEL, "OB", pixels, **kw)
    f = dicomframes.open(data)
    last = len(f.elements) - 1
    assert f._index.pixel_data == last
    assert rows(f)[last] == row(PIXEL, "OB" if explicit else "OW", len(data) - 12, 12,
                                flags=element_flags(explicit, big))
    assert f.number_of_frames == 1
    np.testing.assert_array_equal(f.frame(0), np.arange(12, dtype=np.uint8).reshape(3, 4))


# ---- encapsulated Pixel Data -----------------------------------------------------------


def _jpeg_prefix():
    return preamble() + file_meta(JPEG_BASELINE) + image_module(2, 2, 8, frames=2)


def test_encapsulated_empty_offset_table():
    prefix = _jpeg_prefix()
    data = prefix + encapsulated_pixel_data(b"\xff\xd8\x01\x02", b"\xff\xd8\x03\x04\x05\x06")
    f = dicomframes.open(data)
    n = len(rows(f)) - 4
    v = len(prefix) + 12
    assert rows(f)[n:] == [
        row(PIXEL, "OB", v, 8 + 12 + 14, flags=UNDEF | FLAG_ENCAPSULATED),
        row(ITEM, "  ", v + 8, 0, 1, n, FLAG_FRAGMENT),
        row(ITEM, "  ", v + 16, 4, 1, n, FLAG_FRAGMENT),
        row(ITEM, "  ", v + 28, 6, 1, n, FLAG_FRAGMENT),
    ]
    index = f._index
    assert index.pixel_data == n
    assert index.items_of(n) == [n + 1, n + 2, n + 3]
    offsets, lengths = index.fragments(n)
    assert offsets.tolist() == [v + 8, v + 16, v + 28] and lengths.tolist() == [0, 4, 6]
    assert len(data) == v + 34 + 8  # the delimiter is the last thing
    with pytest.raises(ValueError, match=r"\(7FE0,0010\)"):
        f.value(PIXEL)


def test_encapsulated_with_basic_offset_table_and_ow():
    prefix = _jpeg_prefix()
    bot = ul(0, 16)
    frags = [b"\x11" * 8, b"\x22" * 6]
    data = prefix + element(PIXEL, "OW", pixel_fragments(*frags, bot=bot), length=UNDEFINED) \
        + element(0xFFFCFFFC, "OB", b"\x00\x00")
    f = dicomframes.open(data)
    n = f._index.pixel_data
    v = len(prefix) + 12
    assert rows(f)[n:] == [
        row(PIXEL, "OW", v, 16 + 16 + 14, flags=UNDEF | FLAG_ENCAPSULATED),
        row(ITEM, "  ", v + 8, 8, 1, n, FLAG_FRAGMENT),
        row(ITEM, "  ", v + 24, 8, 1, n, FLAG_FRAGMENT),
        row(ITEM, "  ", v + 40, 6, 1, n, FLAG_FRAGMENT),
        row(0xFFFCFFFC, "OB", v + 46 + 8 + 12, 2),
    ]
    assert bytes(f._buffer[v + 8:v + 16]) == bot


def test_extended_offset_table_elements_are_plain_elements():
    prefix = _jpeg_prefix()
    eot = pack("2Q", 0, 20)
    eot_lengths = pack("2Q", 12, 10)
    body = element(0x7FE00001, "OV", eot) + element(0x7FE00002, "OV", eot_lengths) \
        + encapsulated_pixel_data(b"\x01" * 12, b"\x02" * 10)
    f = dicomframes.open(prefix + body)
    b = len(prefix)
    n = f._index.pixel_data
    assert rows(f)[n - 2:n + 1] == [
        row(0x7FE00001, "OV", b + 12, 16),
        row(0x7FE00002, "OV", b + 40, 16),
        row(PIXEL, "OB", b + 68, 8 + 20 + 18, flags=UNDEF | FLAG_ENCAPSULATED),
    ]
    assert np.frombuffer(f.value(0x7FE00001), "<u8").tolist() == [0, 20]
    assert np.frombuffer(f.value(0x7FE00002), "<u8").tolist() == [12, 10]
    assert f._index.fragments(n)[1].tolist() == [0, 12, 10]


def test_encapsulated_in_implicit_vr():
    frag = b"\x01\x02\x03\x04"
    data = preamble() + file_meta(IMPLICIT_LE) + \
        encapsulated_pixel_data(frag, explicit=False)
    f = dicomframes.open(data)
    v = 184 + 8
    assert rows(f)[3:] == [
        row(PIXEL, "OB", v, 20, flags=FLAG_IMPLICIT_VR | UNDEF | FLAG_ENCAPSULATED),
        row(ITEM, "  ", v + 8, 0, 1, 3, FLAG_FRAGMENT),
        row(ITEM, "  ", v + 16, 4, 1, 3, FLAG_FRAGMENT),
    ]
    assert f._index.pixel_data == 3


def test_encapsulated_icon_inside_a_sequence_is_not_the_pixel_data():
    prefix = _jpeg_prefix()
    icon = seq(0x00880200, item(encapsulated_pixel_data(b"\x09" * 2)))
    data = prefix + icon + encapsulated_pixel_data(b"\x07" * 4)
    f = dicomframes.open(data)
    got = rows(f)
    s = got.index(next(r for r in got if r[0] == 0x00880200))
    b = len(prefix)
    assert got[s:] == [
        row(0x00880200, "SQ", b + 12, 8 + 12 + 26, flags=0),
        row(ITEM, "  ", b + 20, 12 + 26, 1, s, FLAG_ITEM),
        row(PIXEL, "OB", b + 32, 18, 1, s + 1, UNDEF | FLAG_ENCAPSULATED),
        row(ITEM, "  ", b + 40, 0, 2, s + 2, FLAG_FRAGMENT),
        row(ITEM, "  ", b + 48, 2, 2, s + 2, FLAG_FRAGMENT),
        row(PIXEL, "OB", b + 58 + 12, 20, flags=UNDEF | FLAG_ENCAPSULATED),
        row(ITEM, "  ", b + 78, 0, 1, s + 5, FLAG_FRAGMENT),
        row(ITEM, "  ", b + 86, 4, 1, s + 5, FLAG_FRAGMENT),
    ]
    assert f._index.pixel_data == s + 5


@pytest.mark.parametrize("frags", [(), (b"\x01\x02",)], ids=["bot-only", "one-fragment"])
def test_encapsulated_missing_sequence_delimiter(frags):
    prefix = _jpeg_prefix()
    data = prefix + encapsulated_pixel_data(*frags, delimited=False)
    exc = expect_error(data, TruncatedError, PIXEL, len(data))
    assert "delimiter" in str(exc)


def test_encapsulated_fragment_with_undefined_length():
    prefix = _jpeg_prefix()
    value = item(b"") + delimiter(ITEM, length=UNDEFINED) + b"\x01\x02" + \
        delimiter(SEQUENCE_DELIMITER)
    data = prefix + element(PIXEL, "OB", value, length=UNDEFINED)
    exc = expect_error(data, MalformedError, PIXEL, len(prefix) + 12 + 8)
    assert "undefined length" in str(exc)


@pytest.mark.parametrize("stray", [ITEM_DELIMITER, 0x00080010, 0xFFFCFFFC])
def test_encapsulated_non_item_among_fragments(stray):
    prefix = _jpeg_prefix()
    value = item(b"") + item(b"\x01\x02") + delimiter(stray, length=2) + b"\x03\x04" + \
        delimiter(SEQUENCE_DELIMITER)
    data = prefix + element(PIXEL, "OB", value, length=UNDEFINED)
    exc = expect_error(data, MalformedError, PIXEL, len(prefix) + 12 + 18)
    assert format_tag(stray) in str(exc)


def test_encapsulated_without_offset_table_item():
    prefix = _jpeg_prefix()
    data = prefix + element(PIXEL, "OB", delimiter(SEQUENCE_DELIMITER), length=UNDEFINED)
    exc = expect_error(data, MalformedError, PIXEL, len(prefix) + 12)
    assert "Basic Offset Table" in str(exc)


def test_encapsulated_fragment_past_the_end():
    prefix = _jpeg_prefix()
    value = item(b"") + delimiter(ITEM, length=100) + b"\x01\x02"
    data = prefix + element(PIXEL, "OB", value, length=UNDEFINED)
    expect_error(data, TruncatedError, PIXEL, len(prefix) + 12 + 8)


# ---- float pixel data ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "tag, vr, dtype, bits",
    [(FLOAT_PIXEL, "OF", np.float32, 32), (DOUBLE_PIXEL, "OD", np.float64, 64)],
    ids=["float", "double"],
)
@pytest.mark.parametrize("explicit", [True, False], ids=["explicit", "implicit"])
def test_float_pixel_data_is_the_pixel_element(tag, vr, dtype, bits, explicit):
    kw = dict(explicit=explicit)
    ts_uid = EXPLICIT_LE if explicit else IMPLICIT_LE
    values = np.array([[0.5, -1.25], [3.0, 1e10]], dtype=dtype)
    module = (element(0x00280002, "US", us(1), **kw)
              + element(0x00280010, "US", us(2), **kw)
              + element(0x00280011, "US", us(2), **kw)
              + element(0x00280100, "US", us(bits), **kw))
    data = preamble() + file_meta(ts_uid) + module + element(tag, vr, values.tobytes(), **kw)
    f = dicomframes.open(data)
    n = len(f.elements) - 1
    assert f._index.pixel_data == n
    assert rows(f)[n] == row(tag, vr, len(data) - values.nbytes, values.nbytes,
                             flags=element_flags(explicit, False))
    assert f.dtype == dtype
    np.testing.assert_array_equal(f.frame(0), values)


# ---- truncation ----------------------------------------------------------------------------


def test_element_header_cut_short_long_vr():
    clean = preamble() + file_meta(EXPLICIT_LE) + element(PN, "PN", b"AB")
    cut = element(0x00091010, "OB", b"\x01\x02")[:10]
    exc = expect_error(clean + cut, TruncatedError, 0x00091010, len(clean))
    assert "header" in str(exc)


@pytest.mark.parametrize("explicit", [True, False], ids=["explicit", "implicit"])
@pytest.mark.parametrize("keep", [1, 3, 5, 7])
def test_element_header_cut_short(keep, explicit):
    ts_uid = EXPLICIT_LE if explicit else IMPLICIT_LE
    clean = preamble() + file_meta(ts_uid) + element(PN, "PN", b"AB", explicit=explicit)
    cut = element(PID, "LO", b"AB", explicit=explicit)[:keep]
    # with 4 or more bytes there is a tag to name (test_element_header_cut_short_names_the_tag)
    expect_error(clean + cut, TruncatedError, None if keep < 4 else ANY_TAG, len(clean))


def test_element_header_cut_short_names_the_tag():
    clean = preamble() + file_meta(EXPLICIT_LE) + element(PN, "PN", b"AB")
    cut = element(PID, "LO", b"AB")[:6]
    expect_error(clean + cut, TruncatedError, PID, len(clean))


@pytest.mark.parametrize("ts_uid, explicit, big", ENCODINGS)
@pytest.mark.parametrize("vr", ["PN", "OB"])
def test_value_length_past_the_end(vr, ts_uid, explicit, big):
    kw = dict(explicit=explicit, big=big)
    clean = preamble() + file_meta(ts_uid) + element(PN, "PN", b"AB", **kw)
    data = clean + element(PID, vr, b"ABCD", length=6, **kw)
    exc = expect_error(data, TruncatedError, PID, len(clean))
    assert "value length 6" in str(exc) and "4 bytes left" in str(exc)


@pytest.mark.parametrize("undefined_sq", [False, True], ids=["defined-sq", "undefined-sq"])
def test_item_length_past_its_sequence(undefined_sq):
    prefix = preamble() + file_meta(EXPLICIT_LE)
    content = element(PN, "PN", b"AB")
    if undefined_sq:
        # undefined-length SQ: the item may only run to the end of the data
        body = seq(SQ_TAG, item(content, length=40), undefined=True, delimited=False)
    else:
        # 18 bytes of SQ, the item says 20
        body = seq(SQ_TAG, item(content, length=20), length=18) + b"\x00" * 10
    exc = expect_error(prefix + body, TruncatedError, SQ_TAG, len(prefix) + 12)
    assert "length" in str(exc)


def test_defined_length_item_content_overrunning():
    prefix = preamble() + file_meta(EXPLICIT_LE)
    # the item holds 10 bytes, its element claims 20 of value
    body = seq(SQ_TAG, item(element(PN, "PN", b"AB", length=20))) + b"\x00" * 40
    exc = expect_error(prefix + body, TruncatedError, PN, len(prefix) + 20)
    assert "its item" in str(exc)


def test_sequence_header_overrunning_a_defined_item():
    prefix = preamble() + file_meta(EXPLICIT_LE)
    # item of 14 bytes holding a 2-byte element and 4 bytes of a nested header
    content = element(PN, "PN", b"AB") + b"\x08\x00\x15\x11"
    body = seq(SQ_TAG, item(content)) + element(PID, "LO", b"AB")
    expect_error(prefix + body, TruncatedError, 0x00081115, len(prefix) + 12 + 8 + 10)


def test_undefined_sequence_without_delimiter():
    prefix = preamble() + file_meta(EXPLICIT_LE)
    body = seq(SQ_TAG, item(element(PN, "PN", b"AB"), undefined=True), undefined=True,
               delimited=False)
    exc = expect_error(prefix + body, TruncatedError, SQ_TAG, len(prefix + body))
    assert "item header" in str(exc)


def test_undefined_item_without_delimiter_names_a_tag():
    prefix = preamble() + file_meta(EXPLICIT_LE)
    body = seq(SQ_TAG, item(element(PN, "PN", b"AB"), undefined=True, delimited=False),
               undefined=True, delimited=False)
    with pytest.raises(TruncatedError) as info:
        dicomframes.open(prefix + body)
    assert info.value.offset == len(prefix + body)
    assert info.value.tag in (SQ_TAG, ITEM)
    assert format_tag(info.value.tag) in str(info.value)
    assert f"offset {len(prefix + body)}" in str(info.value)


def test_undefined_item_without_delimiter_is_truncation():
    prefix = preamble() + file_meta(EXPLICIT_LE)
    body = seq(SQ_TAG, item(element(PN, "PN", b"AB"), undefined=True, delimited=False),
               undefined=True, delimited=False)
    expect_error(prefix + body, TruncatedError, ANY_TAG, len(prefix + body))


@pytest.mark.parametrize("ts_uid, explicit, big", ENCODINGS)
def test_last_native_pixel_data_cut_short(ts_uid, explicit, big):
    kw = dict(explicit=explicit, big=big)
    prefix = preamble() + file_meta(ts_uid) + image_module(4, 4, 8, frames=2, **kw)
    pixel = element(PIXEL, "OB", bytes(range(32)), **kw)[:-12]  # 20 of 32 bytes
    data = prefix + pixel
    f = dicomframes.open(data)
    n = len(f.elements) - 1
    assert f._index.pixel_data == n
    v = len(data) - 20
    assert rows(f)[n] == row(PIXEL, "OB" if explicit else "OW", v, 20,
                             flags=element_flags(explicit, big) | FLAG_TRUNCATED)
    assert f.number_of_frames == 2
    np.testing.assert_array_equal(f.frame(0), np.arange(16, dtype=np.uint8).reshape(4, 4))
    with pytest.raises(PixelDataError) as info:
        f.frame(1)
    exc = info.value
    assert exc.tag == PIXEL and exc.offset == v and exc.frame == 1
    message = str(exc)
    assert "(7FE0,0010)" in message and f"offset {v}" in message
    assert "12 short" in message and "frame 1" in message
    assert "warning" in f.describe()


def test_pixel_data_cut_short_inside_a_sequence_is_an_error():
    prefix = preamble() + file_meta(EXPLICIT_LE)
    inner = element(PIXEL, "OB", b"\x00" * 4, length=32)
    body = seq(0x00880200, item(inner, undefined=True, delimited=False), undefined=True,
               delimited=False)
    expect_error(prefix + body, TruncatedError, PIXEL, len(prefix) + 20)


HUGE = [0xFFFFFFFE, 0xFFFFFFF0, 0x80000000, 0x7FFFFFFF, 0x10000000]


@pytest.mark.parametrize("length", HUGE, ids=hex)
@pytest.mark.parametrize("where", ["element", "implicit-element", "sequence", "item",
                                   "fragment", "un-item"])
def test_huge_lengths_fail_fast(where, length):
    prefix = preamble() + file_meta(EXPLICIT_LE)
    b = len(prefix)
    if where == "element":
        data, tag, offset = prefix + element(0x00091010, "OB", b"\x01\x02", length=length), \
            0x00091010, b
    elif where == "implicit-element":
        prefix = preamble() + file_meta(IMPLICIT_LE)
        data, tag, offset = prefix + element(0x00091010, None, b"\xfe\xff\x00\xe0" * 3,
                                             explicit=False, length=length), 0x00091010, \
            len(prefix)
    elif where == "sequence":
        data, tag, offset = prefix + seq(SQ_TAG, item(), length=length), SQ_TAG, b
    elif where == "item":
        data, tag, offset = prefix + seq(SQ_TAG, item(length=length), undefined=True), \
            SQ_TAG, b + 12
    elif where == "fragment":
        value = item(b"") + delimiter(ITEM, length=length) + b"\x00" * 16
        data, tag, offset = prefix + element(PIXEL, "OB", value, length=UNDEFINED), PIXEL, \
            b + 20
    else:  # an item inside UN of undefined length
        data, tag, offset = prefix + element(0x00091010, "UN", delimiter(ITEM, length=length),
                                             length=UNDEFINED), 0x00091010, b + 12
    # a length near 4 GiB is checked against the bytes left, never read or allocated
    expect_error(data, TruncatedError, tag, offset)


@pytest.mark.parametrize("length", HUGE, ids=hex)
def test_huge_pixel_data_length_is_indexed_truncated(length):
    prefix = preamble() + file_meta(EXPLICIT_LE) + image_module(4, 4, 8)
    data = prefix + element(PIXEL, "OB", b"\x00" * 8, length=length)
    f = dicomframes.open(data)
    assert rows(f)[-1] == row(PIXEL, "OB", len(data) - 8, 8, flags=FLAG_TRUNCATED)
    with pytest.raises(PixelDataError, match="8 short"):
        f.frame(0)


def test_undefined_length_on_a_plain_vr_is_malformed():
    prefix = preamble() + file_meta(EXPLICIT_LE)
    data = prefix + element(0x00091010, "OB", b"\x00" * 16, length=UNDEFINED)
    exc = expect_error(data, MalformedError, 0x00091010, len(prefix))
    assert "OB" in str(exc)


# ---- structure errors ------------------------------------------------------------------------


@pytest.mark.parametrize("stray, length", [(ITEM, 0), (ITEM, 10), (ITEM_DELIMITER, 0),
                                           (SEQUENCE_DELIMITER, 4)],
                         ids=["item", "item-10", "item-delimiter", "sequence-delimiter-4"])
@pytest.mark.parametrize("ts_uid, explicit, big", ENCODINGS)
def test_item_and_delimiter_tags_at_top_level(stray, length, ts_uid, explicit, big):
    kw = dict(explicit=explicit, big=big)
    clean = preamble() + file_meta(ts_uid) + element(PN, "PN", b"AB", **kw)
    data = clean + delimiter(stray, big=big, length=length) + element(PID, "LO", b"AB", **kw)
    exc = expect_error(data, MalformedError, stray, len(clean))
    assert "unexpected" in str(exc)


@pytest.mark.parametrize("ts_uid, explicit, big", ENCODINGS)
def test_stray_top_level_sequence_delimiter_is_skipped(ts_uid, explicit, big):
    # a writer bug seen after encapsulated Pixel Data: (FFFE,E0DD) with length 0 at
    # the top level is skipped (as pydicom does), not indexed
    kw = dict(explicit=explicit, big=big)
    clean = preamble() + file_meta(ts_uid) + element(PN, "PN", b"AB", **kw)
    tail = element(PID, "LO", b"AB", **kw)
    f = dicomframes.open(clean + delimiter(SEQUENCE_DELIMITER, big=big) + tail)
    flags = element_flags(explicit, big)
    assert rows(f)[3:] == [
        row(PN, "PN" if explicit else "UN", len(clean) - 2, 2, flags=flags),
        row(PID, "LO" if explicit else "UN", len(clean) + 16, 2, flags=flags),
    ]
    # ... but not inside an item (undefined-length SQ: in implicit VR a defined-length
    # value that fails to parse as items would just stay opaque)
    body = seq(SQ_TAG, item(element(PN, "PN", b"AB", **kw), delimiter(SEQUENCE_DELIMITER,
                                                                        big=big), big=big),
               undefined=True, **kw)
    prefix = preamble() + file_meta(ts_uid)
    h = 12 if explicit else 8
    expect_error(prefix + body, MalformedError, SEQUENCE_DELIMITER, len(prefix) + h + 18)


def test_sequence_delimiter_inside_an_item_and_a_defined_sequence():
    prefix = preamble() + file_meta(EXPLICIT_LE)
    body = seq(SQ_TAG, item(element(PN, "PN", b"AB"), delimiter(SEQUENCE_DELIMITER),
                            undefined=True), undefined=True)
    expect_error(prefix + body, MalformedError, SEQUENCE_DELIMITER, len(prefix) + 30)
    body = seq(SQ_TAG, item(element(PN, "PN", b"AB")), delimiter(SEQUENCE_DELIMITER))
    expect_error(prefix + body, MalformedError, SQ_TAG, len(prefix) + 30)


def test_non_item_inside_a_sequence():
    prefix = preamble() + file_meta(EXPLICIT_LE)
    body = seq(SQ_TAG, element(PN, "PN", b"AB"))
    exc = expect_error(prefix + body, MalformedError, PN, len(prefix) + 12)
    assert format_tag(SQ_TAG) in str(exc)


@pytest.mark.parametrize("vr", [b"XX", b"ob", b"\x00\x00", b"O\x00", b"Q0", b"  "],
                         ids=["XX", "lowercase", "nul", "O-nul", "Q0", "spaces"])
@pytest.mark.parametrize("where", ["top", "item", "meta"])
def test_invalid_vr_bytes(vr, where):
    if where == "meta":
        prefix = preamble() + file_meta(EXPLICIT_LE)[:-28]  # without (0002,0010)
        data = prefix + element(0x00020010, vr, uid(EXPLICIT_LE)) + element(PN, "PN", b"AB")
        tag, offset = 0x00020010, len(prefix)
    elif where == "top":
        prefix = preamble() + file_meta(EXPLICIT_LE) + element(PN, "PN", b"AB")
        data = prefix + element(PID, vr, b"AB")
        tag, offset = PID, len(prefix)
    else:
        prefix = preamble() + file_meta(EXPLICIT_LE)
        data = prefix + seq(SQ_TAG, item(element(PN, "PN", b"AB"), element(PID, vr, b"AB")))
        tag, offset = PID, len(prefix) + 12 + 8 + 10
    exc = expect_error(data, MalformedError, tag, offset)
    assert f"0x{vr[0]:02X} 0x{vr[1]:02X}" in str(exc)


def test_every_error_is_a_dicomframes_value_error():
    for cls in (TruncatedError, MalformedError, NestingError, PixelDataError):
        assert issubclass(cls, DicomFramesError) and issubclass(cls, ValueError)
    assert issubclass(NestingError, MalformedError)


def test_empty_and_tiny_inputs():
    # An empty file is not DICOM (issue 11); the scanner itself indexes nothing.
    with pytest.raises(dicomframes.NotDicomError, match="empty"):
        dicomframes.open(b"")
    index = dicomframes._scan.scan(b"")
    assert len(index) == 0 and index.encoding_source == GUESSED
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        expect_error(b"\x08\x00\x20", TruncatedError, None, 0)
    expect_error(b"DICM", MalformedError, None, 4)
