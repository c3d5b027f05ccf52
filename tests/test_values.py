"""Element values decoded by VR, through the public API (``DicomFile.value``): numbers in
both byte orders, multi-valued text split on backslashes, IS / DS / CS text, bytes left as
stored, empty values, and implicit VR elements decoded with the dictionary's VR.

Every test builds its own input with tests/dicom_bytes.py. How the scanner indexes
these elements (offsets, lengths, flags) is tested in tests/test_scan.py.
"""

from __future__ import annotations

import pytest

import dicomframes

from dicom_bytes import (
    EXPLICIT_BE,
    EXPLICIT_LE,
    IMPLICIT_LE,
    at,
    element,
    fd,
    file_meta,
    fl,
    pack,
    preamble,
    sl,
    ss,
    text,
    uid,
    ul,
    us,
)

PN = 0x00100010  # Patient's Name
PRIVATE = 0x00091010


@pytest.mark.parametrize("big", [False, True], ids=["le", "be"])
@pytest.mark.parametrize(
    "vr, make, expected",
    [
        ("US", lambda b: us(65535, big=b), 65535),
        ("US", lambda b: us(1, 2, 3, big=b), [1, 2, 3]),
        ("UL", lambda b: ul(4_000_000_000, big=b), 4_000_000_000),
        ("SS", lambda b: ss(-2, big=b), -2),
        ("SS", lambda b: ss(-2, 300, big=b), [-2, 300]),
        ("SL", lambda b: sl(-70000, big=b), -70000),
        ("FL", lambda b: fl(1.5, big=b), 1.5),
        ("FL", lambda b: fl(1.5, -0.25, big=b), [1.5, -0.25]),
        ("FD", lambda b: fd(-2.125, big=b), -2.125),
        ("SV", lambda b: pack("q", -(2 ** 40), big=b), -(2 ** 40)),
        ("UV", lambda b: pack("Q", 2 ** 63, big=b), 2 ** 63),
        ("IS", lambda b: text("42"), 42),
        ("IS", lambda b: text(" 12\\-3"), [12, -3]),
        ("DS", lambda b: text("1.5"), 1.5),
        ("DS", lambda b: text("1.5\\-2E3\\0"), [1.5, -2000.0, 0.0]),
        ("CS", lambda b: text("ORIGINAL\\PRIMARY\\AXIAL"), ["ORIGINAL", "PRIMARY", "AXIAL"]),
        ("CS", lambda b: text("MONOCHROME2"), "MONOCHROME2"),
        ("LO", lambda b: text("abc"), "abc"),
        ("LO", lambda b: text("a\\b"), ["a", "b"]),
        ("LT", lambda b: text("line 1\\line 2"), "line 1\\line 2"),  # LT is single-valued
        ("PN", lambda b: text("Doe^John"), "Doe^John"),
        ("DA", lambda b: text("20240229"), "20240229"),
        ("UI", lambda b: uid("1.2.3"), "1.2.3"),
        ("UT", lambda b: text("long text"), "long text"),
        ("UC", lambda b: text("x\\y"), ["x", "y"]),
        ("UR", lambda b: text("http://a/b"), "http://a/b"),
        ("OB", lambda b: b"\x01\x02\x03\x00", b"\x01\x02\x03\x00"),
        ("OW", lambda b: b"\x01\x02\x03\x04", b"\x01\x02\x03\x04"),
        ("OF", lambda b: b"\x00\x00\x80\x3f", b"\x00\x00\x80\x3f"),
        ("UN", lambda b: b"\xfe\xff\x00\xe0xyz\x00", b"\xfe\xff\x00\xe0xyz\x00"),
        ("AT", lambda b: at(0x00280010, big=b), 0x00280010),
        ("AT", lambda b: at(0x00280010, 0x7FE00010, big=b), [0x00280010, 0x7FE00010]),
    ],
)
def test_value_decoding(vr, make, expected, big):
    ts_uid = EXPLICIT_BE if big else EXPLICIT_LE
    raw = make(big)
    data = preamble() + file_meta(ts_uid) + element(PRIVATE, vr, raw, big=big)
    got = dicomframes.open(data).value(PRIVATE)
    assert got == expected
    assert type(got) is type(expected)


@pytest.mark.parametrize("vr, raw, expected", [
    ("LT", text("ab" * 3000), "ab" * 3000),
    ("UT", text("x" * 5000), "x" * 5000),
    ("DS", text("\\".join(["1.5"] * 1500)), [1.5] * 1500),
    ("IS", text("\\".join(["12"] * 2000)), [12] * 2000),
])
def test_long_text_values(vr, raw, expected):
    # Values of 4096 bytes and more are decoded from a view of the file, not a copy
    # (found by mypy: memoryview has no .decode()).
    assert len(raw) >= 4096
    data = preamble() + file_meta(EXPLICIT_LE) + element(PRIVATE, vr, raw)
    assert dicomframes.open(data).value(PRIVATE) == expected


def test_empty_value_is_none():
    data = preamble() + file_meta(EXPLICIT_LE) + element(PN, "PN", b"") + \
        element(0x00280010, "US", b"")
    f = dicomframes.open(data)
    assert f.value(PN) == ""
    assert f.value(0x00280010) is None


def test_implicit_values_take_the_dictionary_vr():
    kw = dict(explicit=False)
    body = (element(0x00080008, None, text("A\\B"), **kw)
            + element(0x00280010, None, us(300), **kw)
            + element(0x00280009, None, at(0x00540080), **kw)
            + element(0x00181164, None, text("0.5\\0.25"), **kw))
    f = dicomframes.open(preamble() + file_meta(IMPLICIT_LE) + body)
    assert f.value(0x00080008) == ["A", "B"]
    assert f.value(0x00280010) == 300
    assert f.value(0x00280009) == 0x00540080
    assert f.value(0x00181164) == [0.5, 0.25]



@pytest.mark.parametrize("value, frames", [
    ("inf", None), ("1E400", None), ("nan", None), ("12.0", 12), ("3\\4", 3), ("", 1),
    ("7", 7),
])
def test_number_of_frames_text_read_leniently(value, frames):
    """Number of Frames as IS text: the first value, a writer's "12.0" read as 12, an
    empty value as absent (1 frame, as pydicom); what is not a finite number raises
    MalformedError naming it (issue 11), never an OverflowError."""
    if frames is None:
        data = (preamble() + file_meta(EXPLICIT_LE) + element(0x00280008, "IS", text(value))
                + element(0x00280010, "US", us(2)) + element(0x00280011, "US", us(2)))
        with pytest.raises(dicomframes.MalformedError, match=r"\(0028,0008\) Number of Frames"):
            dicomframes.open(data)._pixel_module()
        return
    data = (preamble() + file_meta(EXPLICIT_LE) + element(0x00280008, "IS", text(value))
            + element(0x00280010, "US", us(2)) + element(0x00280011, "US", us(2)))
    f = dicomframes.open(data)
    assert f.rows == 2 and f.number_of_frames == 0  # no Pixel Data
    module = f._pixel_module()
    assert (module.number_of_frames or 1) == frames
