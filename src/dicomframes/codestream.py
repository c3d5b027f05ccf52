"""Codestream headers read without decoding: JPEG SOFn, JPEG-LS SOF55, JPEG 2000
SIZ and the RLE header, compared with the Image Pixel attributes. Used by
``dicomframes check`` (every frame) and by ``DicomFile.frames`` (the first frame
of a batch, before the output is allocated)."""

from __future__ import annotations

import struct
from typing import Any, Callable

from .errors import DicomFramesError

__all__ = ["HEADER_CHECKS", "WARN", "header_agrees"]

WARN = "warning: "  # an issue reported but not counted as a problem
# How much of a codestream header_agrees() looks at: the SOF/SIZ of any real
# encoder comes long before (after at most a few APPn/COM segments or JP2 boxes).
HEADER_PREFIX = 16 * 1024


def _compare(got: dict[str, Any], p: Any, marker: str) -> list[str]:
    expected = {"rows": p.rows, "columns": p.columns, "components": p.samples_per_pixel}
    issues = [f"{marker} says {name} {got[name]}, the data set {value}"
              for name, value in expected.items() if got.get(name) != value]
    if "precision" in got and got["precision"] != p.bits_stored:
        # More bits in the codestream than Bits Stored is common (and decodes); fewer
        # cannot hold the data set's values.
        issues.append(f"{'' if got['precision'] < p.bits_stored else WARN}{marker} says "
                      f"precision {got['precision']}, Bits Stored is {p.bits_stored}")
    if "signed" in got and got["signed"] != bool(p.pixel_representation):
        issues.append(f"{marker} says {'signed' if got['signed'] else 'unsigned'}, Pixel "
                      f"Representation is {p.pixel_representation}")
    return issues


def _jpeg(data: bytes, p: Any) -> list[str]:
    from . import _codecs

    try:
        info = _codecs.jpeg_info(data)
    except DicomFramesError as exc:
        return [f"JPEG header unreadable: {exc}"]
    sof = f"SOF{info['sof'] - 0xC0}"
    got = {"rows": info["rows"], "columns": info["columns"], "components": info["components"]}
    issues = _compare(got, p, sof)
    precision = info["precision"]
    if info["sof"] in (0xC3, 0xC7, 0xCB, 0xCF):  # lossless: the precision is Bits Stored
        if precision != p.bits_stored:
            issues.append(f"{'' if precision < p.bits_stored else WARN}{sof} says precision {precision}, Bits Stored is {p.bits_stored}")
    elif p.bits_stored > precision:
        issues.append(f"{sof} says precision {precision}, less than Bits Stored "
                      f"{p.bits_stored}")
    return issues


def _jpegls(data: bytes, p: Any) -> list[str]:
    at = data.find(b"\xff\xf7")
    if at < 0 or len(data) < at + 10:
        return ["no JPEG-LS frame header (SOF55, 0xFFF7)"]
    precision, rows, columns, components = struct.unpack(">BHHB", data[at + 4:at + 10])
    return _compare({"rows": rows, "columns": columns, "components": components,
                     "precision": precision}, p, "SOF55")


def _j2k(data: bytes, p: Any) -> list[str]:
    at = data.find(b"\xff\x4f\xff\x51")
    if at < 0 or len(data) < at + 4 + 38:
        return ["no JPEG 2000 SIZ marker after SOC"]
    at += 4
    xsiz, ysiz, xo, yo = struct.unpack(">IIII", data[at + 4:at + 20])
    (csiz,) = struct.unpack(">H", data[at + 36:at + 38])
    if len(data) < at + 38 + 3 * csiz or csiz == 0:
        return ["JPEG 2000 SIZ marker cut short"]
    ssiz = data[at + 38]
    return _compare({"rows": ysiz - yo, "columns": xsiz - xo, "components": csiz,
                     "precision": (ssiz & 0x7F) + 1, "signed": bool(ssiz & 0x80)}, p, "SIZ")


def _rle(data: bytes, p: Any) -> list[str]:
    if len(data) < 64:
        return [f"RLE header cut short ({len(data)} bytes, 64 needed)"]
    header = struct.unpack("<16I", data[:64])
    expected = p.samples_per_pixel * p.bits_allocated // 8
    issues = []
    if header[0] != expected:
        issues.append(f"RLE header has {header[0]} segments, {p.samples_per_pixel} sample(s) "
                      f"x {p.bits_allocated} bits need {expected}")
    segments = header[1:1 + min(header[0], 15)]
    if segments and segments[0] != 64:
        issues.append(f"RLE first segment at {segments[0]}, not 64")
    if any(s > len(data) for s in segments) or any(b < a for a, b in zip(segments,
                                                                          segments[1:])):
        issues.append("RLE segment offsets out of order or past the frame")
    return issues


# Codec key -> the checker of one frame's codestream: ``checker(data, pixels)``.
HEADER_CHECKS: dict[str, Callable[[bytes, Any], list[str]]] = {
    "jpeg": _jpeg, "jpegls": _jpegls, "j2k": _j2k, "htj2k": _j2k, "rle": _rle}


def header_agrees(key: str, data: Any, pixels: Any) -> bool:
    """Does the header at the start of a frame's codestream `data` (codec `key`)
    agree with the Image Pixel attributes (size, components, at least Bits Stored
    of precision)? Read from its first 16 KiB, without decoding; False when it
    cannot tell (no checker for the codec, a header beyond that prefix)."""
    checker = HEADER_CHECKS.get(key)
    if checker is None:
        return False
    issues = checker(bytes(data[:HEADER_PREFIX]), pixels)
    return not any(not issue.startswith(WARN) for issue in issues)
