"""Decoding one element's value from the mapped bytes, by its VR.

The scanner records where each value is; nothing is decoded until asked.
Implicit VR data carries no VR, so it is looked up: first in the small table
below (the attributes this library itself needs, from PS3.6), then in
pydicom's data dictionary when pydicom is installed, else the raw bytes are
returned.
"""

from __future__ import annotations

import struct
from typing import Any

__all__ = ["decode_value", "first_cs", "first_is", "implicit_vr", "python_encoding"]

# (tag: VR) for attributes read by dicomframes (PS3.6 Table 6-1).
_VR_TABLE: dict[int, str] = {
    0x00020000: "UL", 0x00020001: "OB", 0x00020002: "UI", 0x00020003: "UI",
    0x00020010: "UI", 0x00020012: "UI", 0x00020013: "SH",
    0x00080005: "CS", 0x00080008: "CS", 0x00080016: "UI", 0x00080018: "UI",
    0x00080020: "DA", 0x00080030: "TM", 0x00080060: "CS", 0x00080070: "LO",
    0x00100010: "PN", 0x00100020: "LO",
    0x00180050: "DS", 0x00181164: "DS",
    0x0020000D: "UI", 0x0020000E: "UI", 0x00200011: "IS", 0x00200013: "IS",
    0x00200032: "DS", 0x00200037: "DS", 0x00200052: "UI",
    0x00280002: "US", 0x00280004: "CS", 0x00280006: "US", 0x00280008: "IS",
    0x00280009: "AT", 0x00280010: "US", 0x00280011: "US", 0x00280030: "DS",
    0x00280100: "US", 0x00280101: "US", 0x00280102: "US", 0x00280103: "US",
    0x00281050: "DS", 0x00281051: "DS", 0x00281052: "DS", 0x00281053: "DS",
    0x00281054: "LO", 0x00282110: "CS", 0x00283000: "SQ", 0x00283002: "US",
    0x00283006: "US",
    0x52009229: "SQ", 0x52009230: "SQ", 0x00289145: "SQ", 0x00209113: "SQ",
    0x00209116: "SQ", 0x00289110: "SQ",
    0x7FE00001: "OV", 0x7FE00002: "OV", 0x7FE00008: "OF", 0x7FE00009: "OD",
    0x7FE00010: "OW", 0xFFFCFFFC: "OB",
}

_TEXT_VRS = frozenset(
    ["AE", "AS", "CS", "DA", "DT", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT"]
)
# Text VRs whose value may hold several values separated by a backslash.
_MULTI_TEXT_VRS = frozenset(["AE", "AS", "CS", "DA", "DT", "LO", "PN", "SH", "TM", "UC", "UI"])
_BINARY_NUMBERS = {
    "US": "H", "SS": "h", "UL": "I", "SL": "i", "FL": "f", "FD": "d", "SV": "q", "UV": "Q",
}
_BYTES_VRS = frozenset(["OB", "OD", "OF", "OL", "OV", "OW", "UN"])


def implicit_vr(tag: int) -> str:
    """The VR of `tag` from the data dictionary ("UN" when unknown)."""
    vr = _VR_TABLE.get(tag)
    if vr is not None:
        return vr
    if tag & 0xFFFF == 0:
        return "UL"
    if (tag >> 16) & 1:  # private groups have no dictionary VR
        return "UN"
    try:
        from pydicom.datadict import dictionary_VR
    except ImportError:  # pragma: no cover - pydicom is optional
        return "UN"
    try:
        vr = dictionary_VR(tag)
    except KeyError:
        return "UN"
    # Ambiguous entries such as "US or SS" or "OB or OW": the first is the usual one.
    return vr.split(" or ")[0] if vr else "UN"


def _single(values: list[Any]) -> Any:
    if not values:
        return None
    return values[0] if len(values) == 1 else values


def decode_value(raw: bytes | memoryview, vr: str, *, big_endian: bool = False,
                 encoding: str = "latin-1") -> Any:
    """Decode the value bytes `raw` of an element with VR `vr`.

    Numbers: int for US/UL/SS/SL/SV/UV/IS, float for FL/FD/DS; text: str with the
    padding stripped; OB/OD/OF/OL/OV/OW/UN: bytes; AT: int tag. A value with
    several entries becomes a list; an empty value is None.
    """
    fmt = _BINARY_NUMBERS.get(vr)
    if fmt is not None:
        size = struct.calcsize(fmt)
        count = len(raw) // size
        order = ">" if big_endian else "<"
        return _single(list(struct.unpack(f"{order}{count}{fmt}", raw[: count * size])))
    if vr == "AT":
        order = ">" if big_endian else "<"
        count = len(raw) // 4
        pairs = struct.unpack(f"{order}{count * 2}H", raw[: count * 4])
        return _single([(pairs[i] << 16) | pairs[i + 1] for i in range(0, len(pairs), 2)])
    if vr in _BYTES_VRS:
        return bytes(raw)
    if vr in ("IS", "DS"):
        text = str(raw, "ascii", "replace").strip(" \x00")  # str(): raw may be a memoryview
        if not text:
            return None
        parts = [p.strip() for p in text.split("\\")]
        convert = float if vr == "DS" else _to_int
        return _single([convert(p) if p else None for p in parts])
    if vr in _TEXT_VRS:
        text = str(raw, encoding, "replace")
        if vr == "UI":
            text = text.rstrip("\x00 ")
        else:
            text = text.rstrip(" \x00")
        if vr in _MULTI_TEXT_VRS and "\\" in text:
            return [p.strip(" ") for p in text.split("\\")]
        return text.lstrip(" ") if vr not in ("LT", "ST", "UT", "UR") else text
    return bytes(raw)


def _to_int(text: str | bytes) -> int:
    # IS is a decimal integer string; some writers add a fractional ".0".
    try:
        return int(text)
    except ValueError:
        return int(float(text))


def python_encoding(specific_character_set: Any) -> str:
    """The Python codec for (0008,0005) Specific Character Set (simplified:
    UTF-8 when ISO_IR 192 is named, else Latin-1, a superset of ASCII)."""
    terms = specific_character_set if isinstance(specific_character_set, list) else [
        specific_character_set
    ]
    return "utf-8" if any(t == "ISO_IR 192" for t in terms if t) else "latin-1"


# Lenient readers for the Image Pixel attributes' text: a value they cannot read is
# None (absent), and pixels.describe_pixels decides what that means.
LENIENT_TEXT_BYTES = 64


def first_is(raw: bytes | memoryview) -> int | None:
    """The first value of an IS string (a writer's "12.0" read as 12); None
    when empty, longer than IS allows, or not a number."""
    if not raw or len(raw) > LENIENT_TEXT_BYTES:
        return None
    text = bytes(raw).split(b"\\")[0].strip(b" \x00")
    try:
        return _to_int(text)
    except (ValueError, OverflowError):  # not a number, nan, inf
        return None


def first_cs(raw: bytes | memoryview) -> str | None:
    """The first value of a CS string, padding stripped; None when longer than
    CS allows."""
    if len(raw) > LENIENT_TEXT_BYTES:
        return None
    return bytes(raw).split(b"\\")[0].strip(b" \x00").decode("latin-1")
