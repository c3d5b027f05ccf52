"""Command line: ``dicomframes info|frames|demo|bench`` (also ``python -m dicomframes``)."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import open as open_dicom
from ._core import FLAG_ENCAPSULATED, FLAG_FRAGMENT, FLAG_TRUNCATED, EncodingSource
from .errors import DicomFramesError, format_tag
from .file import DicomFile
from .frames import TAG_EXTENDED_OFFSET_TABLE
from .pixels import PIXEL_KEYWORDS

_ENCODING_NOTES = {
    EncodingSource.GUESSED: " [no Transfer Syntax UID: inferred from the data]",
    EncodingSource.CORRECTED: " [data set encoding differs from the UID: corrected]",
}


def describe(f: DicomFile) -> dict[str, Any]:
    """A summary of `f`, as `dicomframes info` prints it (also `f.describe()`)."""
    ts = f.transfer_syntax
    elements = f.elements
    info: dict[str, Any] = {
        "path": f.path,
        "transfer_syntax": f"{ts.uid} ({ts.name}){_ENCODING_NOTES.get(f.encoding_source, '')}",
        "elements": len(elements),
    }
    row = f.pixel_data_element
    if row is None:
        info["pixel_data"] = None
        _add_damage(f, info)
        return info
    tag, flags, offset, length = (int(elements[row][field])
                                  for field in ("tag", "flags", "offset", "length"))
    info["pixel_data"] = (f"{PIXEL_KEYWORDS[tag]} {format_tag(tag)} "
                          f"at offset {offset}, {length} bytes")
    try:
        p = f.pixels
        info["pixels"] = (
            f"{p.rows}x{p.columns}x{p.samples_per_pixel} {p.photometric_interpretation}, "
            f"bits {p.bits_allocated}/{p.bits_stored}, "
            f"{'signed' if p.pixel_representation else 'unsigned'}, "
            f"planar {p.planar_configuration} -> {p.dtype.name} {p.frame_shape}")
        info["frames"] = p.number_of_frames
    except DicomFramesError as exc:
        info["pixels"] = f"not decodable: {exc}"
    if flags & FLAG_ENCAPSULATED:
        items = elements[(elements["parent"] == row) & (elements["flags"] & FLAG_FRAGMENT != 0)]
        bot_length = int(items["length"][0]) if len(items) else 0
        if TAG_EXTENDED_OFFSET_TABLE in f:
            table = "extended offset table"
        elif bot_length:
            table = f"basic offset table ({bot_length // 4} entries)"
        else:
            table = "no offset table"
        info["fragments"] = f"{max(len(items) - 1, 0)}, {table}"
        try:
            info["frame location"] = f.frame_location
        except DicomFramesError as exc:
            info["frame location"] = f"not found: {exc}"
    if flags & FLAG_TRUNCATED:
        info["warning"] = "the file ends inside the Pixel Data"
    _add_damage(f, info)
    return info


def _add_damage(f: DicomFile, info: dict[str, Any]) -> None:
    """`info["damage"]`: what is damaged after the Pixel Data, if anything (the
    index, complete here, ends before it)."""
    damage = f.damage
    if damage is not None:
        info["damage"] = f"after the Pixel Data, ignored: {damage}"


def _print_info(path: str) -> int:
    try:
        with open_dicom(path) as f:
            info = describe(f)
    except (DicomFramesError, OSError) as exc:
        print(f"{path}: error: {exc}")
        return 1
    print(path)
    for key, value in info.items():
        if key != "path":
            print(f"  {key.replace('_', ' ')}: {value}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    status = 0
    for path in args.files:
        status |= _print_info(path)
    return status


def cmd_frames(args: argparse.Namespace) -> int:
    try:
        with open_dicom(args.file) as f:
            if args.index is None:
                array = f.frames()
            else:
                array = f.frames(args.index) if len(args.index) > 1 else f.frame(args.index[0],
                                                                                 copy=True)
    except (DicomFramesError, OSError, IndexError) as exc:
        print(f"{args.file}: error: {exc}", file=sys.stderr)
        return 1
    np.save(args.out, array)
    print(f"wrote {args.out}: {array.dtype} {array.shape}")
    return 0


def _best_of(fn, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def cmd_demo(args: argparse.Namespace) -> int:
    """Print `info` for each sample file and the time to open it and decode
    every frame (best of several rounds)."""
    folder = Path(args.folder)
    files = sorted(folder.glob("*.dcm"))
    if not files:
        print(f"no .dcm files in {folder}; run scripts/make_samples.py {folder} first")
        return 1
    rows = []
    status = 0
    for path in files:
        status |= _print_info(str(path))

        def open_only(p: str = str(path)) -> None:
            open_dicom(p).close()

        def open_and_decode(p: str = str(path)) -> None:
            with open_dicom(p) as f:
                f.frames()

        try:
            t_open = _best_of(open_only, args.rounds)
            t_all = _best_of(open_and_decode, args.rounds)
            with open_dicom(str(path)) as f:
                frames = len(f)
        except DicomFramesError as exc:
            rows.append((path.name, "-", "-", f"error: {exc}"))
            status = 1
            continue
        rows.append((path.name, f"{t_open * 1e6:.1f}", f"{t_all * 1e6:.1f}", str(frames)))
    print()
    header = ("file", "open (us)", "open + all frames (us)", "frames")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
    print(f"\n(best of {args.rounds} rounds each)")
    return status


def cmd_bench(args: argparse.Namespace) -> int:
    """All-frames throughput at 1 and N threads against the installed peers."""
    from . import bench  # imports peers lazily; keeps the other commands light

    peers = args.peers.split(",") if args.peers else None
    return bench.run(args.files, threads=args.threads, runs=args.runs, peers=peers,
                     progress=args.progress, command=args.command_line)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dicomframes", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    info = sub.add_parser("info", help="describe DICOM files")
    info.add_argument("files", nargs="+")
    info.set_defaults(func=cmd_info)

    frames = sub.add_parser("frames", help="write frames to a .npy file")
    frames.add_argument("file")
    frames.add_argument("--index", type=int, nargs="+", help="frame index(es); default: all")
    frames.add_argument("--out", required=True, help="output .npy path")
    frames.set_defaults(func=cmd_frames)

    demo = sub.add_parser("demo", help="info and timings for the sample files in FOLDER")
    demo.add_argument("folder", nargs="?", default="samples")
    demo.add_argument("--rounds", type=int, default=200)
    demo.set_defaults(func=cmd_demo)

    bench = sub.add_parser("bench", help="decoding throughput, 1 and N threads, vs peers")
    bench.add_argument("files", nargs="*", help="default: a small generated set")
    bench.add_argument("--threads", type=int, default=None, help="N (default: CPU count)")
    bench.add_argument("--runs", type=int, default=3, help="runs per case (best is shown)")
    bench.add_argument("--peers", default="", help="comma-separated subset of the peers")
    bench.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="progress bar on stderr (default: when it is a terminal)")
    bench.set_defaults(func=cmd_bench)

    args = parser.parse_args(argv)
    args.command_line = shlex.join(["dicomframes", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
