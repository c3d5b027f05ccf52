"""A small builder for hand-made DICOM byte strings, used by the scanner tests.

Everything returns plain ``bytes`` and nothing is padded or fixed up behind the
caller's back: odd lengths, wrong lengths, invalid VRs and missing delimiters
are all expressible, which is the point.

    data = preamble() + file_meta(EXPLICIT_LE) + element(0x00100010, "PN", text("Doe^J"))
"""

from __future__ import annotations

import struct
import zlib
from typing import Iterable

__all__ = [
    "DEFLATED",
    "EXPLICIT_BE",
    "EXPLICIT_LE",
    "IMPLICIT_LE",
    "ITEM",
    "ITEM_DELIMITER",
    "JPEG_BASELINE",
    "LONG_VRS",
    "SEQUENCE_DELIMITER",
    "SHORT_VRS",
    "UNDEFINED",
    "at",
    "deflate",
    "delimiter",
    "element",
    "encapsulated_pixel_data",
    "fd",
    "file_meta",
    "fl",
    "header_size",
    "item",
    "pack",
    "pixel_fragments",
    "preamble",
    "seq",
    "sl",
    "ss",
    "tag_bytes",
    "text",
    "uid",
    "ul",
    "us",
]

IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
DEFLATED = "1.2.840.10008.1.2.1.99"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"

UNDEFINED = 0xFFFFFFFF
ITEM = 0xFFFEE000
ITEM_DELIMITER = 0xFFFEE00D
SEQUENCE_DELIMITER = 0xFFFEE0DD

# PS3.5 Table 7.1-1: explicit VRs with 2 reserved bytes and a 4-byte length.
LONG_VRS = ("OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV")
SHORT_VRS = ("AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "PN",
             "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US")


# ---- scalars -----------------------------------------------------------------

def pack(fmt: str, *values: object, big: bool = False) -> bytes:
    """struct.pack with the byte order chosen by `big`."""
    return struct.pack((">" if big else "<") + fmt, *values)


def us(*values: int, big: bool = False) -> bytes:
    return pack(f"{len(values)}H", *values, big=big)


def ss(*values: int, big: bool = False) -> bytes:
    return pack(f"{len(values)}h", *values, big=big)


def ul(*values: int, big: bool = False) -> bytes:
    return pack(f"{len(values)}I", *values, big=big)


def sl(*values: int, big: bool = False) -> bytes:
    return pack(f"{len(values)}i", *values, big=big)


def fl(*values: float, big: bool = False) -> bytes:
    return pack(f"{len(values)}f", *values, big=big)


def fd(*values: float, big: bool = False) -> bytes:
    return pack(f"{len(values)}d", *values, big=big)


def at(*tags: int, big: bool = False) -> bytes:
    """AT values: each tag as (group, element), two 16-bit numbers."""
    return b"".join(pack("HH", t >> 16, t & 0xFFFF, big=big) for t in tags)


def tag_bytes(tag: int, *, big: bool = False) -> bytes:
    return pack("HH", tag >> 16, tag & 0xFFFF, big=big)


def text(value: str, pad: bytes = b" ") -> bytes:
    """Text padded to an even length (space, or `pad`)."""
    raw = value.encode("latin-1")
    return raw + pad if len(raw) % 2 else raw


def uid(value: str) -> bytes:
    """A UID padded with a trailing NUL to an even length."""
    return text(value, b"\x00")


# ---- elements ----------------------------------------------------------------

def _vr_bytes(vr: str | bytes) -> bytes:
    raw = vr.encode("latin-1") if isinstance(vr, str) else bytes(vr)
    if len(raw) != 2:
        raise ValueError(f"a VR is two bytes, not {raw!r}")
    return raw


def header_size(vr: str | bytes | None, *, explicit: bool = True) -> int:
    """Bytes of an element header: 8, or 12 for the long explicit VRs."""
    if not explicit:
        return 8
    return 12 if _vr_bytes(vr).decode("latin-1") in LONG_VRS else 8


def element(tag: int, vr: str | bytes | None, value: bytes | str = b"", *,
            explicit: bool = True, big: bool = False, length: int | None = None) -> bytes:
    """One data element. `value` is written as given (no padding); `length`
    overrides the length field (e.g. UNDEFINED, or a lie). With `explicit`
    false `vr` is ignored; with a long VR the 2 reserved bytes are written."""
    if isinstance(value, str):
        value = value.encode("latin-1")
    n = len(value) if length is None else length
    if not explicit:
        return tag_bytes(tag, big=big) + pack("I", n, big=big) + value
    raw_vr = _vr_bytes(vr)
    if raw_vr.decode("latin-1") in LONG_VRS:
        return tag_bytes(tag, big=big) + raw_vr + b"\x00\x00" + pack("I", n, big=big) + value
    return tag_bytes(tag, big=big) + raw_vr + pack("H", n, big=big) + value


def delimiter(tag: int = SEQUENCE_DELIMITER, *, big: bool = False, length: int = 0) -> bytes:
    """An item or sequence delimiter (or any 8-byte tag + 32-bit length header)."""
    return tag_bytes(tag, big=big) + pack("I", length, big=big)


def item(*elements: bytes, big: bool = False, undefined: bool = False,
         length: int | None = None, delimited: bool = True) -> bytes:
    """An item holding `elements`. `undefined` writes 0xFFFFFFFF and an item
    delimiter (unless `delimited` is false); `length` overrides the field."""
    content = b"".join(elements)
    if undefined:
        n = UNDEFINED if length is None else length
        tail = delimiter(ITEM_DELIMITER, big=big) if delimited else b""
        return delimiter(ITEM, big=big, length=n) + content + tail
    n = len(content) if length is None else length
    return delimiter(ITEM, big=big, length=n) + content


def seq(tag: int, *items: bytes, explicit: bool = True, big: bool = False,
        undefined: bool = False, length: int | None = None, vr: str = "SQ",
        delimited: bool = True) -> bytes:
    """A sequence element holding the already built `items`. `undefined`
    writes 0xFFFFFFFF and a sequence delimiter (unless `delimited` is false)."""
    content = b"".join(items)
    if undefined:
        if delimited:
            content += delimiter(SEQUENCE_DELIMITER, big=big)
        return element(tag, vr, content, explicit=explicit, big=big,
                       length=UNDEFINED if length is None else length)
    return element(tag, vr, content, explicit=explicit, big=big, length=length)


def preamble() -> bytes:
    """128 zero bytes and "DICM"."""
    return b"\x00" * 128 + b"DICM"


def file_meta(ts_uid: str | None, *, group_length: bool = True, version: bool = True,
              extra: Iterable[bytes] = ()) -> bytes:
    """Group 0002 in explicit VR little endian (no preamble): (0002,0000),
    (0002,0001), (0002,0010) with `ts_uid` NUL padded (left out when None),
    then `extra` elements (already built, appended before the group length
    is computed)."""
    body = b""
    if version:
        body += element(0x00020001, "OB", b"\x00\x01")
    if ts_uid is not None:
        body += element(0x00020010, "UI", uid(ts_uid))
    body += b"".join(extra)
    if group_length:
        body = element(0x00020000, "UL", ul(len(body))) + body
    return body


# ---- encapsulated Pixel Data --------------------------------------------------

def pixel_fragments(*fragments: bytes, bot: bytes = b"", delimited: bool = True) -> bytes:
    """The value of encapsulated Pixel Data: the Basic Offset Table item
    (holding `bot`), one item per fragment, the sequence delimiter."""
    out = item(bot) + b"".join(item(f) for f in fragments)
    if delimited:
        out += delimiter(SEQUENCE_DELIMITER)
    return out


def encapsulated_pixel_data(*fragments: bytes, bot: bytes = b"", explicit: bool = True,
                            vr: str = "OB", tag: int = 0x7FE00010,
                            delimited: bool = True) -> bytes:
    """The whole (7FE0,0010) element with undefined length."""
    return element(tag, vr, pixel_fragments(*fragments, bot=bot, delimited=delimited),
                   explicit=explicit, length=UNDEFINED)


def deflate(data: bytes) -> bytes:
    """Raw deflate (no zlib header), as the Deflated transfer syntax stores it."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()
