"""Command line: ``dicomframes info|frames|convert|check|demo|bench`` (also
``python -m dicomframes``)."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

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
        if ts.codec is None:
            info["decoder"] = f"no decoder for {ts.name}"
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


def _pillow():
    """PIL.Image, or a clear error for the user (Pillow is the optional extra ``image``)."""
    try:
        from PIL import Image
    except ImportError:
        raise CliError("writing PNG needs Pillow: pip install 'dicomframes[image]'") from None
    return Image


class CliError(Exception):
    """A usage error reported as ``dicomframes: error: ...`` with exit status 2."""


def _save_png(array: np.ndarray, path: str) -> None:
    Image = _pillow()
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.dtype == np.uint16:
        if array.ndim != 2:
            raise CliError(f"{path}: Pillow cannot write 16-bit colour PNG; use --bits 8")
        image = Image.fromarray(np.ascontiguousarray(array))  # mode I;16
    elif array.dtype == np.uint8 and (array.ndim == 2 or array.shape[2] in (3, 4)):
        image = Image.fromarray(np.ascontiguousarray(array))
    else:
        raise CliError(f"{path}: a {array.dtype} {array.shape} frame cannot be written as PNG "
                       f"as stored; use `dicomframes convert` (display values) or .npy")
    image.save(path, format="PNG")


def cmd_frames(args: argparse.Namespace) -> int:
    suffix = Path(args.out).suffix.lower()
    if suffix not in (".npy", ".png"):
        raise CliError(f"--out {args.out}: the extension says the format: .npy (any frames) "
                       f"or .png (one frame, values as stored)")
    if suffix == ".png":
        if args.index is None or len(args.index) != 1:
            raise CliError(f"--out {args.out}: a .png holds one frame; give one --index K "
                           f"(or write .npy)")
        _pillow()
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
    if suffix == ".png":
        _save_png(array, args.out)
    else:
        with open(args.out, "wb") as fp:  # np.save(path) would append .npy to other names
            np.save(fp, array)
    print(f"wrote {args.out}: {array.dtype} {array.shape}")
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise CliError(f"{args.out}: convert writes .png (use `frames --out x.npy` for values)")
    _pillow()
    window = None
    if args.window:
        from .display import parse_window

        try:
            window = parse_window(args.window)
        except ValueError as exc:
            raise CliError(f"--window: {exc}") from None
    try:
        with open_dicom(args.file) as f:
            if args.index == "all":
                indices = list(range(len(f)))
                targets = [out.with_name(f"{out.stem}_{k:04d}{out.suffix}") for k in indices]
            else:
                try:
                    indices = [int(args.index)]
                except ValueError:
                    raise CliError(f"--index {args.index!r}: a frame number or 'all'") from None
                targets = [out]
            for k, target in zip(indices, targets):
                image = f.display(k, window=window, bits=args.bits)
                _save_png(image, str(target))
                print(f"wrote {target}: frame {f._frame_index(k)}, {image.dtype} {image.shape}")
    except (DicomFramesError, OSError, IndexError, ValueError) as exc:
        print(f"{args.file}: error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    import json

    from .check import check_file, format_report

    reports = [check_file(path) for path in args.files]
    if args.json:
        print(json.dumps(reports, indent=2))
    else:
        for report in reports:
            print(format_report(report))
    return 0 if all(r["ok"] for r in reports) else 1


def _best_of(fn, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dicomframes" / "samples"


def make_demo_samples(folder: Path) -> list[str]:
    """One small two-frame file per codec dicomframes decodes, written into `folder` where
    missing (needs pydicom; the encoders of dicomframes.testing). Returns notes on the
    codecs left out because their encoder is not installed."""
    import zlib

    from . import uids
    from .testing import encode_frame, encode_jpeg, make_dicom, write

    y, x = np.mgrid[0:64, 0:64]
    gray12 = ((np.sin(x / 7.0) * np.cos(y / 11.0) + 1) * 1900 + x * 3).astype(np.uint16)
    frames12 = np.stack([gray12, gray12[::-1]])
    frames8 = (frames12 >> 4).astype(np.uint8)

    def deflate(frame: np.ndarray, syntax: str, bits_stored: int) -> bytes:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        return packer.compress(frame.astype(frame.dtype.newbyteorder("<")).tobytes()) + \
            packer.flush()

    def encoded(frames: np.ndarray, syntax: str, bits: int, encode=encode_frame) -> dict:
        return {"syntax": syntax, "bits_stored": bits,
                "encoded": [encode(frame, syntax, bits_stored=bits) for frame in frames]}

    specs: list[tuple[str, np.ndarray, Callable[[], dict[str, Any]]]] = [
        ("native_u16.dcm", frames12, lambda: {"bits_stored": 12}),
        ("deflated_dataset.dcm", frames8,
         lambda: {"syntax": uids.DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN}),
        ("rle.dcm", frames12, lambda: encoded(frames12, uids.RLE_LOSSLESS, 12)),
        ("jpegls.dcm", frames12, lambda: encoded(frames12, uids.JPEG_LS_LOSSLESS, 12)),
        ("j2k.dcm", frames12, lambda: encoded(frames12, uids.JPEG_2000_LOSSLESS, 12)),
        ("htj2k.dcm", frames12, lambda: encoded(frames12, uids.HTJ2K_LOSSLESS, 12)),
        ("jpeg_baseline.dcm", frames8, lambda: encoded(frames8, uids.JPEG_BASELINE, 8, encode_jpeg)),
        ("jpeg_extended.dcm", frames12, lambda: encoded(frames12, uids.JPEG_EXTENDED, 12,
                                                             encode_jpeg)),
        ("jpeg_lossless.dcm", frames12, lambda: encoded(frames12, uids.JPEG_LOSSLESS_SV1, 12)),
        ("deflate_frames.dcm", frames12,
         lambda: encoded(frames12, uids.DEFLATED_IMAGE_FRAME_COMPRESSION, 12, deflate)),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    notes = []
    for name, frames, options in specs:
        path = folder / name
        if path.exists():
            continue
        try:
            write(make_dicom(frames, frames=len(frames), **options()), path)
        except NotImplementedError as exc:  # no encoder for it here
            notes.append(f"{name} not made: {exc}")
        except (ValueError, RuntimeError) as exc:
            notes.append(f"{name} not made: the encoder failed: {exc}")
    return notes


def _cell(text: str, notes: list[str], width: int = 60) -> str:
    """`text` cut to `width` for the table; the full text goes to `notes` (numbered)."""
    if len(text) <= width:
        return text
    notes.append(text)
    return f"{text[:width - 6]}... [{len(notes)}]"


def cmd_demo(args: argparse.Namespace) -> int:
    """Print `info` for each sample file and the time to open it and decode
    every frame (best of several rounds)."""
    given = args.dir or args.folder
    folder = Path(given) if given else _cache_dir()
    made: list[str] = []
    if not given or not sorted(folder.glob("*.dcm")):
        try:
            made = make_demo_samples(folder)
        except ImportError as exc:
            print(f"no .dcm files in {folder}, and the samples cannot be made here: {exc}")
            return 1
        print(f"samples in {folder}")
        for note in made:
            print(f"  {note}")
    files = sorted(folder.glob("*.dcm"))
    if not files:
        print(f"no .dcm files in {folder}")
        return 1
    rows = []
    notes: list[str] = []
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
            rows.append((path.name, "-", "-", _cell(f"error: {exc}", notes)))
            status = 1
            continue
        rows.append((path.name, f"{t_open * 1e6:.1f}", f"{t_all * 1e6:.1f}", str(frames)))
    print()
    header = ("file", "open (us)", "open + all frames (us)", "frames")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    for number, text in enumerate(notes, 1):
        print(f"\n[{number}] {text}")
    print(f"\n(best of {args.rounds} rounds each)")
    return status


def cmd_bench(args: argparse.Namespace) -> int:
    """All-frames throughput at 1 and N threads against the installed peers."""
    from . import bench  # imports peers lazily; keeps the other commands light

    from .bench.peers import BENCH_PEERS

    peers = [p.strip() for p in args.peers.split(",") if p.strip()] if args.peers else None
    unknown = [p for p in peers or () if p not in BENCH_PEERS]
    if unknown:
        raise CliError(f"--peers: unknown {', '.join(unknown)}; known: "
                       f"{', '.join(BENCH_PEERS)}")
    return bench.run(args.files, threads=args.threads, runs=args.runs, peers=peers,
                     progress=args.progress, command=args.command_line)


class _ConfigAction(argparse.Action):
    """``--config``: like ``--version``, prints and exits before any subcommand."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: Any = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        from ._config import show_config

        show_config()
        parser.exit()


def main(argv: Sequence[str] | None = None) -> int:
    from . import __version__

    parser = argparse.ArgumentParser(prog="dicomframes", description=__doc__)
    parser.add_argument("--version", action="version", version=f"dicomframes {__version__}")
    parser.add_argument("--config", action=_ConfigAction,
                        help="print the version, engines, SIMD, Python, numpy and platform "
                             "(for a bug report) and exit")
    sub = parser.add_subparsers(dest="command", required=True)

    info = sub.add_parser("info", help="describe DICOM files")
    info.add_argument("files", nargs="+")
    info.set_defaults(func=cmd_info)

    frames = sub.add_parser("frames", help="write frames as stored to .npy (or one to .png)")
    frames.add_argument("file")
    frames.add_argument("--index", type=int, nargs="+", help="frame index(es); default: all")
    frames.add_argument("--out", required=True,
                        help="output path, written exactly: .npy (any frames) or .png (one "
                             "frame, values as stored; needs Pillow)")
    frames.set_defaults(func=cmd_frames)

    convert = sub.add_parser(
        "convert", help="write frames as a viewer shows them to PNG",
        description="Modality LUT, VOI LUT (window or VOI LUT Sequence), MONOCHROME1 "
                    "inverted, PALETTE COLOR to RGB, scaled to 8 or 16 bits (needs Pillow).")
    convert.add_argument("file")
    convert.add_argument("out", help="output .png; with --index all: OUT_0000.png, "
                                     "OUT_0001.png, ... (frame number in 4 digits)")
    convert.add_argument("--index", default="0", help="frame number or 'all' (default: 0)")
    convert.add_argument("--window", help="CENTER,WIDTH in place of the file's VOI LUT")
    convert.add_argument("--bits", type=int, choices=(8, 16), default=8)
    convert.set_defaults(func=cmd_convert)

    check = sub.add_parser(
        "check", help="validate the Pixel Data (exit status 1 when anything is wrong)",
        description="Without decoding: odd lengths, the Basic / Extended Offset Table against "
                    "the fragments, the frame count against the data, each frame's codestream "
                    "header (JPEG, JPEG-LS, JPEG 2000, RLE) against the Image Pixel "
                    "attributes, data after the frames.")
    check.add_argument("files", nargs="+")
    check.add_argument("--json", action="store_true", help="one JSON list of reports")
    check.set_defaults(func=cmd_check)

    demo = sub.add_parser(
        "demo", help="info and timings for sample files, one per codec",
        description="Info and open/decode timings for the .dcm files of FOLDER; without "
                    "FOLDER (or --dir), a sample per codec is made (where missing) in "
                    "$XDG_CACHE_HOME/dicomframes/samples (~/.cache/dicomframes/samples); "
                    "a FOLDER with no .dcm file gets the samples too.")
    demo.add_argument("folder", nargs="?", default=None)
    demo.add_argument("--dir", help="where the samples are made / read (same as FOLDER)")
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
    try:
        return args.func(args)
    except CliError as exc:
        print(f"dicomframes: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
