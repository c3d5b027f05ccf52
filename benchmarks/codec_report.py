#!/usr/bin/env python3
"""Codec benchmarks: dicomframes against its peers on RLE, JPEG-LS, JPEG 2000 and HTJ2K
(and native data for scale), single-threaded; prints a markdown report with ratios and goals.

    python benchmarks/codec_report.py [--runs 3] [--slow 40] [--budget 2] [--files ct_rle,...]

Two measurements (see codec_cases.py for exactly what each case calls):

* **all frames**: open the file and decode every frame into one array, in MB/s of decoded
  output (MB = 10^6 bytes).  Runs are interleaved (run 1 of every case, then run 2, ...) so
  that a disturbance hits them alike; the table shows the rate from the MINIMUM time over
  the runs and, in parentheses, from the median.  A case whose single run takes longer than
  ``--slow`` seconds is not repeated (marked n=1).  Each case's first output is compared
  with the ground truth (the native file of the same content, read by pydicom): ✗ marks a
  mismatch, ERR a failure, — a library without a decoder for that syntax.
* **one frame** (the middle one, k = frames // 2), cold open included: ``open`` + ``f[k]``
  against pydicom and against the engine alone (the codec called on frame k's codestream,
  taken beforehand, into a preallocated array): our own C call
  ``dicomframes._codecs.decode_*`` and imagecodecs' builds of the codec libraries.  Timed
  like report.py (perf_counter, ``--budget`` seconds per case after 3 warm-up calls);
  min and median in ms.

Goals (judged on minimum times): RLE all frames >= 2x the fastest peer; JPEG-LS, J2K and HTJ2K
all frames >= 1.0x the fastest peer; one RLE frame >= 10x pydicom + pylibjpeg-rle; one
JPEG-LS/J2K/HTJ2K frame, open included, within 5% of the engine's decode of that frame.
The load average is printed before and after each file: other processes on the machine
disturb the numbers (rerun when it is high).  Nothing fails on timing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# one thread wherever a library reads a knob from the environment (OpenBLAS would otherwise
# leave spinning threads that count in the process CPU time)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "OPJ_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import make_codec_files  # noqa: E402
from timing import measure  # noqa: E402
from codec_cases import (  # noqa: E402
    ALL_CASES,
    ONE_CASES,
    PEER_NOTES,
    NotApplicable,
    make_all,
    make_one,
)

from dicomframes.bench import MB, compare, failure, load, timed  # noqa: E402

OURS = "dicomframes"
OPENED = "dicomframes (already open)"
ENGINE = "engine: dicomframes._codecs"
CODEC_SYNTAXES = ("jls", "j2k", "htj2k")


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> list[str]:
    out = [f"Python {platform.python_version()}, numpy {np.__version__}"]
    try:
        import dicomframes
        from dicomframes import _codecs

        cv = _codecs.codec_versions()
        out.append(f"dicomframes {dicomframes.__version__} (OpenJPEG {cv['openjpeg']}, "
                   f"CharLS {cv['charls']}, system libraries)")
    except Exception as exc:  # noqa: BLE001
        out.append(f"dicomframes: {exc}")
    out.append(", ".join(f"{d} {_version(d)}" for d in (
        "pydicom", "pylibjpeg", "pylibjpeg-rle", "pylibjpeg-libjpeg", "pylibjpeg-openjpeg",
        "pyjpegls", "python-gdcm", "dicomsdl", "imagecodecs")))
    try:
        from openjpeg.utils import get_openjpeg_version

        out.append("pylibjpeg-openjpeg bundles OpenJPEG "
                   + ".".join(map(str, get_openjpeg_version())))
    except Exception:  # noqa: BLE001
        pass
    try:
        import imagecodecs

        out.append(f"imagecodecs bundles {imagecodecs.jpeg2k_version()}, "
                   f"{imagecodecs.htj2k_version()}, {imagecodecs.jpegls_version()}")
    except Exception:  # noqa: BLE001
        pass
    try:
        import gdcm

        out.append(f"GDCM {gdcm.Version.GetVersion()}")
    except Exception:  # noqa: BLE001
        pass
    return out


# ---------------------------------------------------------------------------------------
# all frames
# ---------------------------------------------------------------------------------------


def run_all(files, truths, names, args) -> dict:
    """results[file key][case] = {"wall": [...], "cpu": [...], "mismatch": str|None} or
    {"na": msg} / {"error": msg}."""
    results: dict[str, dict] = {}
    for key, cf in files.items():
        truth = truths[cf.kind.name]
        res: dict[str, dict] = {}
        fns = {}
        for name in names:
            try:
                fns[name] = make_all(name, cf)
                res[name] = {"wall": [], "cpu": [], "mismatch": None}
            except NotApplicable as exc:
                res[name] = {"na": str(exc)}
            except ImportError as exc:
                res[name] = {"na": f"not installed ({exc.name or exc})"}
            except Exception as exc:  # noqa: BLE001
                res[name] = {"error": f"{type(exc).__name__}: {exc}"}
        load_before = load()
        t_file = time.perf_counter()
        for r in range(args.runs):
            for name, fn in fns.items():
                rec = res[name]
                if "error" in rec:
                    continue
                if rec["wall"] and (r >= 1 and max(rec["wall"]) > args.slow) and name != OURS:
                    continue
                try:
                    out, wall, cpu = timed(fn)
                except Exception as exc:  # noqa: BLE001
                    rec["error"] = failure(exc)
                    continue
                rec["wall"].append(wall)
                rec["cpu"].append(cpu)
                if r == 0:
                    rec["mismatch"] = compare(out, truth)
                del out
        res["_meta"] = {"load_before": load_before, "load_after": load(),
                        "seconds": time.perf_counter() - t_file}
        results[key] = res
        print(f"<!-- {key}: {res['_meta']['seconds']:.0f} s, load {load_before} -> "
              f"{res['_meta']['load_after']} -->", file=sys.stderr, flush=True)
    return results


def rate(cf, seconds: float) -> float:
    return cf.decoded_bytes / MB / seconds


def best(rec: dict) -> float | None:
    return min(rec["wall"]) if rec.get("wall") else None


def cell_all(cf, rec: dict) -> str:
    if "na" in rec:
        return "—"
    if "error" in rec and not rec.get("wall"):
        return "ERR"
    w = rec["wall"]
    s = f"{rate(cf, min(w)):.1f} ({rate(cf, statistics.median(w)):.1f})"
    if len(w) < 3:
        s += f" n={len(w)}"
    cpu_ratio = statistics.median(rec["cpu"]) / statistics.median(w)
    if cpu_ratio > 1.15:
        s += f" [{cpu_ratio:.2f}]"
    if rec.get("mismatch"):
        s += " ✗"
    if "error" in rec:
        s += " ERR"
    return s


def fastest_peer(res: dict, exclude=(), key: str = "wall") -> tuple[str | None, float | None]:
    """(name, min seconds) of the fastest correct peer, by wall or CPU time."""
    cands = [(min(r[key]), n) for n, r in res.items()
             if n not in (OURS, "_meta", *exclude) and r.get("wall") and not r.get("mismatch")
             and "error" not in r]
    if not cands:
        return None, None
    t, n = min(cands)
    return n, t


def print_all(files, results, names, args) -> None:
    used = [n for n in names if any(n in results[k] and "na" not in results[k][n]
                                    for k in results)]
    print("\n## Decode all frames, one thread (MB/s of decoded output)\n")
    print(f"Open the file and decode every frame into one array. `best (median)` over "
          f"n={args.runs} interleaved runs: best = from the minimum time, the value the "
          f"ratios use. n=1: one run took over {args.slow:g} s, not repeated. "
          f"[x] = process CPU time / wall time when > 1.15. ✗ = output differs from the "
          f"ground truth, ERR = failed, — = no decoder for that syntax. "
          f"Last columns: the fastest correct peer and dicomframes' rate / that peer's.\n")
    print("| file | MB | ratio | " + " | ".join(used)
          + " | fastest peer | dicomframes / fastest |")
    print("|---|---:|---:|" + "---:|" * len(used) + "---|---:|")
    for key, cf in files.items():
        res = results[key]
        size = cf.path.stat().st_size
        cells = [cell_all(cf, res[n]) for n in used]
        peer, t_peer = fastest_peer(res)
        t_ours = best(res[OURS]) if OURS in res else None
        ratio = f"**{t_peer / t_ours:.2f}x**" if t_peer and t_ours else "-"
        print(f"| {key} | {cf.decoded_bytes / MB:.1f} | {cf.decoded_bytes / size:.2f} | "
              + " | ".join(cells) + f" | {peer or '-'} | {ratio} |")
    print("\nThe same runs as MB per CPU-second (decoded MB / minimum process CPU time; less "
          "sensitive to other load on the machine than wall time):\n")
    print("| file | " + " | ".join(used) + " | fastest peer | dicomframes / fastest |")
    print("|---|" + "---:|" * len(used) + "---|---:|")
    for key, cf in files.items():
        res = results[key]
        cells = []
        for n in used:
            rec = res[n]
            if "na" in rec:
                cells.append("—")
            elif not rec.get("cpu"):
                cells.append("ERR")
            else:
                cells.append(f"{rate(cf, min(rec['cpu'])):.1f}"
                             + (" ✗" if rec.get("mismatch") else ""))
        peer, t_peer = fastest_peer(res, key="cpu")
        t_ours = min(res[OURS]["cpu"]) if res.get(OURS, {}).get("cpu") else None
        ratio = f"**{t_peer / t_ours:.2f}x**" if t_peer and t_ours else "-"
        print(f"| {key} | " + " | ".join(cells) + f" | {peer or '-'} | {ratio} |")
    print("\nLoad average (1, 5, 15 min) before -> after each file, and its wall time:\n")
    for key in files:
        m = results[key]["_meta"]
        print(f"- {key}: {m['load_before']} -> {m['load_after']} ({m['seconds']:.0f} s)")


# ---------------------------------------------------------------------------------------
# one frame
# ---------------------------------------------------------------------------------------


def run_one(files, truths, names, args) -> dict:
    results: dict[str, dict] = {}
    for key, cf in files.items():
        if cf.syntax == "raw":
            continue
        k = cf.n_frames // 2
        expected = truths[cf.kind.name][k]
        res: dict[str, dict] = {}
        for name in names:
            try:
                fn = make_one(name, cf, k)
            except NotApplicable as exc:
                res[name] = {"na": str(exc)}
                continue
            except ImportError as exc:
                res[name] = {"na": f"not installed ({exc.name or exc})"}
                continue
            except Exception as exc:  # noqa: BLE001
                res[name] = {"error": f"{type(exc).__name__}: {exc}"}
                continue
            try:
                mismatch = compare(fn(), expected)
                res[name] = measure(fn, args.budget, args.min_rounds, args.max_rounds)
                res[name]["mismatch"] = mismatch
            except Exception as exc:  # noqa: BLE001
                res[name] = {"error": failure(exc)}
        res["_meta"] = {"k": k, "load": load()}
        results[key] = res
    return results


SWAPPED = "engine: dicomframes._codecs on imagecodecs' builds"
# soname our extension links -> glob of the same library among imagecodecs' bundled ones
SWAP_LIBS = {"libcharls.so.2": "libcharls-*.so.*", "libopenjp2.so.7": "libopenjp2-*.so.*"}


def swapped_engine(files, args) -> dict:
    """Our C decode call timed again in a child process whose dynamic loader finds
    imagecodecs' bundled CharLS and OpenJPEG builds (LD_LIBRARY_PATH) in place of the system
    libraries: the same wrapper on a different build of the engine.  {} when not possible."""
    import subprocess
    import tempfile

    try:
        import imagecodecs
    except ImportError:
        return {}
    libdir = Path(imagecodecs.__file__).resolve().parent.parent / "imagecodecs.libs"
    keys = [k for k, cf in files.items() if cf.syntax in CODEC_SYNTAXES]
    if not keys or not libdir.is_dir():
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        for soname, pattern in SWAP_LIBS.items():
            found = sorted(libdir.glob(pattern))
            if found:
                os.symlink(found[0], os.path.join(tmp, soname))
        env = dict(os.environ, LD_LIBRARY_PATH=tmp)
        cmd = [sys.executable, __file__, "--engine-child", ",".join(keys),
               "--budget", str(args.budget), "--min-rounds", str(args.min_rounds),
               "--max-rounds", str(args.max_rounds)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def engine_child(keys: list[str], args) -> int:
    from dicomframes import _codecs

    from codec_cases import one_engine

    files = make_codec_files.codec_files()
    out: dict = {"versions": _codecs.codec_versions()}
    for key in keys:
        cf = files[key]
        out[key] = measure(one_engine(cf, cf.n_frames // 2), args.budget, args.min_rounds,
                           args.max_rounds)
    print(json.dumps(out))
    return 0


def fmt_ms(s: float) -> str:
    return f"{s * 1e3:.2f}" if s < 0.1 else f"{s * 1e3:.1f}"


def cell_one(rec: dict) -> str:
    if "na" in rec:
        return "—"
    if "error" in rec:
        return "ERR"
    s = f"{fmt_ms(rec['min'])} ({fmt_ms(rec['median'])})"
    return s + (" ✗" if rec.get("mismatch") else "")


def print_one(files, results, names, args) -> None:
    used = [n for n in names if any(n in r and "na" not in r[n] for r in results.values())]
    print("\n## One frame from the middle of the file, cold open included (ms)\n")
    print(f"`min (median)` ms over >= {args.min_rounds} calls ({args.budget:g} s per case, "
          f"after 3 warm-up calls; page cache warm). dicomframes and pydicom: path -> frame k "
          f"(k = frames // 2) each call; `{OPENED}`: `f[k]` on a file opened beforehand. "
          f"engine: the codec alone on frame k's codestream (bytes from `f.encoded_frame(k)`, "
          f"taken once) into a preallocated array: our C call `dicomframes._codecs.decode_*`, "
          f"and imagecodecs (its own CharLS / OpenJPEG / "
          f"OpenJPH builds). Ratios: min times.\n")
    print("| file | k | " + " | ".join(used)
          + " | dicomframes / engine (ours) | dicomframes / engine (imagecodecs) "
            "| pydicom+pylibjpeg / dicomframes |")
    print("|---|---:|" + "---:|" * len(used) + "---:|---:|---:|")
    for key, res in results.items():
        ours = res.get(OURS, {})

        def r(name, inverse=False):
            o = res.get(name, {})
            if "min" not in ours or "min" not in o:
                return "-"
            return f"{o['min'] / ours['min']:.2f}" if inverse else f"{ours['min'] / o['min']:.2f}"

        print(f"| {key} | {res['_meta']['k']} | " + " | ".join(cell_one(res[n]) for n in used)
              + f" | {r(ENGINE)} | {r('engine: imagecodecs')} | "
                f"{r('pydicom+pylibjpeg', inverse=True)}x |")


# ---------------------------------------------------------------------------------------
# goals
# ---------------------------------------------------------------------------------------


def print_goals(files, all_res, one_res) -> list[str]:
    rows = []

    def status(ok: bool | None) -> str:
        return "n/a" if ok is None else ("**met**" if ok else "**missed**")

    for key, cf in files.items():
        if cf.syntax == "raw" or key not in all_res:
            continue
        res = all_res[key]
        t_ours = best(res.get(OURS, {})) if OURS in res else None
        peer, t_peer = fastest_peer(res)
        target = 2.0 if cf.syntax == "rle" else 1.0
        ratio = t_peer / t_ours if t_peer and t_ours else None
        ok = None if ratio is None else (ratio >= target and not res[OURS].get("mismatch"))
        meas = "-" if ratio is None else f"{ratio:.2f}x {peer}"
        cpu_peer, c_peer = fastest_peer(res, key="cpu")
        if c_peer and res[OURS].get("cpu"):
            meas += f" (CPU time: {c_peer / min(res[OURS]['cpu']):.2f}x {cpu_peer})"
        rows.append(f"| {key}: all frames vs fastest peer | {meas} | >= {target:g}x "
                    f"| {status(ok)} |")
        if cf.syntax == "htj2k" and ratio is not None:
            peer2, t2 = fastest_peer(res, exclude=("imagecodecs",))
            if peer2:
                rows.append(f"| {key}: all frames vs fastest OpenJPEG-HT peer (info; "
                            f"imagecodecs uses OpenJPH) | {t2 / t_ours:.2f}x {peer2} | - "
                            f"| info |")
            if "imagecodecs" in res and best(res["imagecodecs"]):
                gap = best(res["imagecodecs"]) / t_ours
                rows.append(f"| {key}: gap to imagecodecs (OpenJPH engine) | {gap:.2f}x | - "
                            f"| info |")
    for key, res in one_res.items():
        cf = files[key]
        ours = res.get(OURS, {})
        if cf.syntax == "rle":
            peer = res.get("pydicom+pylibjpeg", {})
            ratio = peer["min"] / ours["min"] if "min" in ours and "min" in peer else None
            ok = None if ratio is None else ratio >= 10 and not ours.get("mismatch")
            rows.append(f"| {key}: open + frame {res['_meta']['k']} vs pydicom + pylibjpeg-rle "
                        f"| {'-' if ratio is None else f'{ratio:.1f}x'} | >= 10x "
                        f"| {status(ok)} |")
        else:
            eng = res.get(ENGINE, {})
            ratio = ours["min"] / eng["min"] if "min" in ours and "min" in eng else None
            ok = None if ratio is None else ratio <= 1.05 and not ours.get("mismatch")
            rows.append(f"| {key}: open + frame {res['_meta']['k']} vs our engine call alone "
                        f"| {'-' if ratio is None else f'{(ratio - 1) * 100:+.1f}%'} | <= +5% "
                        f"| {status(ok)} |")
            opened = res.get(OPENED, {})
            if "min" in opened and "min" in eng:
                rows.append(f"| {key}: f[k] on an already open file vs our engine call (info) "
                            f"| {(opened['min'] / eng['min'] - 1) * 100:+.1f}% | - | info |")
            ic = res.get("engine: imagecodecs", {})
            if "min" in ours and "min" in ic:
                rows.append(f"| {key}: open + frame vs imagecodecs engine (info) "
                            f"| {(ours['min'] / ic['min'] - 1) * 100:+.1f}% | - | info |")
    print("\n## Goals (minimum times)\n")
    print("| goal | measured | target | status |")
    print("|---|---:|---:|---|")
    for row in rows:
        print(row)
    return rows


def print_problems(files, all_res, one_res) -> None:
    lines = []
    for group, results in (("all", all_res), ("one", one_res)):
        for key, res in results.items():
            for name, rec in res.items():
                if name == "_meta":
                    continue
                if rec.get("error"):
                    lines.append(f"- `{group}|{key}|{name}`: {rec['error']}")
                if rec.get("mismatch"):
                    lines.append(f"- `{group}|{key}|{name}`: MISMATCH {rec['mismatch']}")
    print("\n## Failures and wrong output\n")
    print("\n".join(lines) if lines else "none")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="all-frames runs per case (default 3)")
    ap.add_argument("--slow", type=float, default=40.0,
                    help="a peer whose run takes longer is not repeated (default 40 s)")
    ap.add_argument("--budget", type=float, default=2.0,
                    help="seconds of timing per one-frame case (default 2)")
    ap.add_argument("--min-rounds", type=int, default=5)
    ap.add_argument("--max-rounds", type=int, default=2000)
    ap.add_argument("--files", default="", help="comma-separated keys, e.g. ct_rle,us_jls")
    ap.add_argument("--peers", default="", help="comma-separated case names (default all)")
    ap.add_argument("--skip-all", action="store_true", help="skip the all-frames runs")
    ap.add_argument("--skip-one", action="store_true", help="skip the one-frame runs")
    ap.add_argument("--no-swap", action="store_true",
                    help="skip timing our engine on imagecodecs' CharLS/OpenJPEG builds")
    ap.add_argument("--engine-child", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.engine_child:
        return engine_child(args.engine_child.split(","), args)

    print("## dicomframes codec benchmarks\n")
    print(f"- command: `{shlex.join([os.path.relpath(sys.executable), *sys.argv])}`")
    for line in versions():
        print(f"- {line}")
    print(f"- {platform.machine()}, {platform.platform()}, {os.cpu_count()} CPUs; "
          f"load average at start {load()}")
    t0 = time.perf_counter()
    files = make_codec_files.codec_files()
    gen = time.perf_counter() - t0
    if args.files:
        wanted = args.files.split(",")
        files = {k: v for k, v in files.items() if k in wanted}
    print(f"- inputs (make_codec_files.py, ready in {gen:.1f} s):\n")
    print("| file | transfer syntax | frames | shape | dtype | photometric | MB | ratio "
          "| encoder |")
    print("|---|---|---:|---|---|---|---:|---:|---|")
    for key, cf in files.items():
        size = cf.path.stat().st_size
        print(f"| {key} (`{cf.path.name}`) | {cf.ts_name} | {cf.n_frames} | "
              f"{'x'.join(map(str, cf.frame_shape))} | {cf.dtype} | {cf.photometric} | "
              f"{size / MB:.1f} | {cf.decoded_bytes / size:.2f} | {cf.encoder} |")
    sys.stdout.flush()

    from pydicom.pixels import pixel_array

    truths = {}
    for kind in {cf.kind.name for cf in files.values()}:
        truths[kind] = pixel_array(str(make_codec_files.file_path(kind, "raw")))

    all_names = [n for n in ALL_CASES if not args.peers or n in args.peers.split(",")
                 or n == OURS]
    one_names = [n for n in ONE_CASES if not args.peers or n in args.peers.split(",")
                 or n == OURS or n.startswith("engine")]
    all_res = {} if args.skip_all else run_all(files, truths, all_names, args)
    one_res = {} if args.skip_one else run_one(files, truths, one_names, args)
    swapped = {} if args.skip_one or args.no_swap else swapped_engine(files, args)
    if swapped and "error" not in swapped:
        one_names.insert(one_names.index(ENGINE) + 1, SWAPPED)
        for key, res in one_res.items():
            res[SWAPPED] = swapped.get(key, {"na": "not a JPEG-LS/J2K/HTJ2K file"})
    if all_res:
        print_all(files, all_res, all_names, args)
    if one_res:
        print_one(files, one_res, one_names, args)
        if swapped and "error" not in swapped:
            v = swapped["versions"]
            print(f"\n`{SWAPPED}`: the same C call, run in a child process with "
                  f"LD_LIBRARY_PATH pointing at imagecodecs' bundled libraries (it then "
                  f"reports OpenJPEG {v['openjpeg']}, CharLS {v['charls']}): the difference "
                  f"to our engine column is the build of the codec library, not our wrapper.")
        elif swapped:
            print(f"\n(library swap failed: {swapped['error']})")
    print_goals(files, all_res, one_res)
    print_problems(files, all_res, one_res)
    print("\n## Peers\n")
    for name in all_names:
        print(f"- **{name}**: {PEER_NOTES.get(name, '')}")
    print(f"\nLoad average at the end: {load()}; total {time.perf_counter() - t0:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
