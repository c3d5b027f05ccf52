"""``dicomframes check``: the Pixel Data of a file checked against itself.

Without decoding: odd element lengths; the Basic / Extended Offset Table against the
fragments; the number of frames against the data; each frame's codestream header
(JPEG SOFn, JPEG-LS SOF55, JPEG 2000 SIZ, RLE header) against the Image Pixel attributes
(size, components, precision, signedness); data after the last frame.
"""

from __future__ import annotations

import struct
from typing import Any

from . import open as open_dicom
from ._core import FLAG_FRAGMENT, FLAG_ITEM, FLAG_UNDEFINED_LENGTH
from .codestream import HEADER_CHECKS, WARN
from .errors import DicomFramesError, format_tag
from .frames import TAG_EXTENDED_OFFSET_TABLE, EncapsulatedFrames, NativeFrames

__all__ = ["check_file"]

TAG_EXTENDED_OFFSET_TABLE_LENGTHS = 0x7FE00002
# Frames whose headers are read (the rest are counted, not parsed).
MAX_FRAMES_CHECKED = 10_000


def check_file(path: str) -> dict[str, Any]:
    """``{"path", "ok", "problems": [...], "warnings": [...], "notes": [...]}`` for one
    file; ``ok`` when there is no problem (warnings do not count)."""
    problems: list[str] = []
    warnings: list[str] = []
    notes: list[str] = []
    report = {"path": path, "ok": False, "problems": problems, "warnings": warnings,
              "notes": notes}
    try:
        f = open_dicom(path)
    except (DicomFramesError, OSError) as exc:
        problems.append(f"cannot be read: {exc}")
        return report
    with f:
        try:
            _check(f, problems, warnings, notes)
        except DicomFramesError as exc:
            problems.append(str(exc))
    report["ok"] = not problems
    return report


def _check(f: Any, problems: list[str], warnings: list[str], notes: list[str]) -> None:
    elements = f.elements
    odd = elements[((elements["flags"] & FLAG_UNDEFINED_LENGTH) == 0)
                   & (elements["length"] % 2 == 1)]
    for row in odd[:20]:
        kind = ("fragment" if row["flags"] & FLAG_FRAGMENT else
                "item" if row["flags"] & FLAG_ITEM else "element")
        problems.append(f"odd length: {kind} {format_tag(int(row['tag']))} at offset "
                        f"{int(row['offset'])} has {int(row['length'])} bytes")
    if len(odd) > 20:
        problems.append(f"odd length: {len(odd) - 20} more")
    if f.pixel_data_element is None:
        notes.append("no Pixel Data")
        return
    p = f.pixels
    frames = f.number_of_frames
    notes.append(f"{f.transfer_syntax.name}; {p.rows}x{p.columns}x{p.samples_per_pixel}, "
                 f"bits {p.bits_allocated}/{p.bits_stored}, "
                 f"{'signed' if p.pixel_representation else 'unsigned'}, {frames} frame(s)")
    source = f._frames()
    if isinstance(source, NativeFrames):
        _check_native(source, frames, problems)
    else:
        _check_encapsulated(f, source, frames, problems, warnings, notes)


def _check_native(source: NativeFrames, frames: int, problems: list[str]) -> None:
    bits = source.layout.frame_bits
    need = (frames * bits + 7) // 8
    have = len(source.value)
    if have < need:
        problems.append(f"frame count: Number of Frames says {frames}, the Pixel Data "
                        f"({have} bytes) holds {have * 8 // bits} whole frame(s); {need} "
                        f"bytes needed")
    elif have > need + (need % 2):
        problems.append(f"data after the frames: {have - need} bytes after the {frames} "
                        f"frame(s) ({need} bytes)")


def _table_entries(data: bytes, size: int, big_endian: bool = False) -> list[int]:
    fmt = ("Q" if size == 8 else "I")
    count = len(data) // size
    return list(struct.unpack(f"{'>' if big_endian else '<'}{count}{fmt}", data[:count * size]))


def _check_encapsulated(f: Any, source: EncapsulatedFrames, frames: int, problems: list[str],
                        warnings: list[str], notes: list[str]) -> None:
    offsets, lengths = f._index.fragments(f.pixel_data_element)
    offsets, lengths = [int(o) for o in offsets], [int(n) for n in lengths]
    fragment_count = len(offsets) - 1
    first_item = offsets[0] + lengths[0]  # after the Basic Offset Table's value
    starts = {offsets[i] - 8 - first_item: i for i in range(1, len(offsets))}
    notes.append(f"{fragment_count} fragment(s)")
    if fragment_count < frames:
        problems.append(f"frame count: Number of Frames says {frames}, the Pixel Data has "
                        f"only {fragment_count} fragment(s)")
    bot = bytes(f._buffer[offsets[0]:offsets[0] + lengths[0]])
    tables: list[tuple[str, list[int], list[int] | None]] = []
    if bot:
        tables.append(("Basic Offset Table", _table_entries(bot, 4), None))
    if TAG_EXTENDED_OFFSET_TABLE in f:
        eot = f.value(TAG_EXTENDED_OFFSET_TABLE)
        eot_lengths = f.value(TAG_EXTENDED_OFFSET_TABLE_LENGTHS, None)
        to_list = (lambda v: _table_entries(bytes(v), 8) if isinstance(
            v, (bytes, bytearray, memoryview)) else (v if isinstance(v, list) else [v]))
        tables.append(("Extended Offset Table", [int(v) for v in to_list(eot)],
                       None if eot_lengths is None else [int(v) for v in to_list(eot_lengths)]))
        if bot:
            problems.append("offset table: both a Basic and an Extended Offset Table (the "
                            "Basic one must be empty)")
    for name, entries, table_lengths in tables:
        wrong = []
        if len(entries) != frames:
            wrong.append(f"{len(entries)} entries for {frames} frame(s)")
        if entries and entries[0] != 0:
            wrong.append(f"the first entry is {entries[0]}, not 0")
        bad = [(k, e) for k, e in enumerate(entries) if e not in starts]
        if bad:
            k, e = bad[0]
            wrong.append(f"entry {k} ({e}) is not the start of a fragment"
                         + (f" ({len(bad) - 1} more)" if len(bad) > 1 else ""))
        if any(b <= a for a, b in zip(entries, entries[1:])):
            wrong.append("entries do not increase")
        if table_lengths is not None and not bad and len(table_lengths) == len(entries):
            for k, start in enumerate(entries):
                end = entries[k + 1] if k + 1 < len(entries) else None
                i = starts[start]
                span = 0
                while i < len(offsets) and (end is None or offsets[i] - 8 - first_item < end):
                    span += lengths[i]
                    i += 1
                if table_lengths[k] != span:
                    wrong.append(f"length {k} is {table_lengths[k]}, the fragments hold {span}")
                    break
        elif table_lengths is not None and len(table_lengths) != len(entries):
            wrong.append(f"{len(table_lengths)} lengths for {len(entries)} offsets")
        if wrong:
            problems.append(f"offset table: the {name} is wrong: " + "; ".join(wrong))
    try:
        rule = source.rule
    except DicomFramesError as exc:
        problems.append(f"frames not located: {exc}")
        return
    notes.append(f"frames located by: {rule}")
    located = source._locate_all()
    last = located.first[-1] + located.count[-1] if located.first else 1
    if last < len(offsets):
        problems.append(f"data after the frames: {len(offsets) - last} fragment(s) after the "
                        f"last frame")
    key = f.transfer_syntax.key
    checker = HEADER_CHECKS.get(key)
    if checker is None:
        if f.transfer_syntax.codec is None or key not in ("deflate",):
            notes.append(f"frame headers not checked ({f.transfer_syntax.name})")
        return
    p = f.pixels
    bad_frames = 0
    warned: dict[str, int] = {}
    for k in range(min(frames, MAX_FRAMES_CHECKED)):
        data = bytes(source.encoded(k))
        issues = checker(data, p)
        for issue in issues:
            if issue.startswith(WARN):
                warned[issue[len(WARN):]] = warned.get(issue[len(WARN):], 0) + 1
        issues = [issue for issue in issues if not issue.startswith(WARN)]
        if issues:
            bad_frames += 1
            if bad_frames <= 5:
                problems.append(f"frame {k}: " + "; ".join(issues))
    if bad_frames > 5:
        problems.append(f"{bad_frames - 5} more frame(s) with header problems")
    for text, count in warned.items():
        warnings.append(f"{text} ({count} frame(s))")
    if frames > MAX_FRAMES_CHECKED:
        notes.append(f"headers of the first {MAX_FRAMES_CHECKED} frames checked")


def format_report(report: dict[str, Any]) -> str:
    lines = [f"{report['path']}: {'ok' if report['ok'] else 'PROBLEMS'}"]
    lines += [f"  problem: {line}" for line in report["problems"]]
    lines += [f"  warning: {line}" for line in report["warnings"]]
    lines += [f"  note: {line}" for line in report["notes"]]
    return "\n".join(lines)
