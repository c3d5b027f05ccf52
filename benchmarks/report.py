#!/usr/bin/env python3
"""Run the dicomframes-vs-peers comparisons in one process and print a markdown report.

    python benchmarks/report.py [--budget SECONDS] [--rounds N]

Each case is timed with time.perf_counter over many rounds (after a short warm-up); the
report shows min and median per call and the ratio peer / dicomframes (how many times
faster dicomframes is).  Goals are judged on MINIMUM times: this VM stalls short calls at
random, which inflates medians but not minimums.  Then, each in a fresh subprocess, the
peak-RSS growth (ru_maxrss) for opening the 500-frame file and reading one frame.

Nothing here fails on timing; the exit status is 0 unless the script itself breaks.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

import benchdata  # noqa: E402
from timing import measure  # noqa: E402
from cases import (  # noqa: E402
    FLOOR_CASES,
    FRAME_CASES,
    OPEN_CASES,
)

OURS = "dicomframes"
MB = 1024 * 1024


# ---------------------------------------------------------------------------------------
# formatting
# ---------------------------------------------------------------------------------------


def fmt_t(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def fmt_x(x: float | None) -> str:
    return "-" if x is None else (f"{x:.1f}x" if x < 100 else f"{x:.0f}x")


def run_group(title: str, cases: dict, args) -> dict:
    """cases: name -> factory() returning the callable (may raise ImportError)."""
    results: dict[str, dict] = {}
    for name, make in cases.items():
        try:
            fn = make()
        except ImportError as exc:
            results[name] = {"error": f"not installed ({exc.name or exc})"}
            continue
        except Exception as exc:  # an API problem: report it, keep going
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        try:
            results[name] = measure(fn, args.budget, args.min_rounds, args.rounds)
        except Exception as exc:
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
    print_group(title, results)
    return results


def print_group(title: str, results: dict) -> None:
    ours = results.get(OURS, {})
    print(f"\n### {title}\n")
    print("| case | min | median | rounds | dicomframes faster by (min) | (median) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        if "error" in r:
            print(f"| {name} | - | - | - | {r['error']} | |")
            continue
        if name == OURS or "min" not in ours:
            rx = rxm = "-"
        else:
            rx, rxm = fmt_x(r["min"] / ours["min"]), fmt_x(r["median"] / ours["median"])
        print(f"| {name} | {fmt_t(r['min'])} | {fmt_t(r['median'])} | {r['rounds']} "
              f"| {rx} | {rxm} |")


def ratio(results: dict, peer: str) -> float | None:
    a, b = results.get(OURS, {}), results.get(peer, {})
    if "min" in a and "min" in b:
        return b["min"] / a["min"]
    return None


# ---------------------------------------------------------------------------------------
# peak RSS, fresh subprocess per case
# ---------------------------------------------------------------------------------------

RSS_SCRIPT = r"""
import gc, json, resource, sys
import numpy as np
lib, path, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
if lib.startswith("dicomframes"):
    import dicomframes
elif lib == "pydicom":
    from pydicom.pixels import pixel_array
elif lib == "dicomsdl":
    import dicomsdl

def vm_hwm():
    # Peak RSS of this process's own address space (what ru_maxrss reports for a process
    # that did not inherit a larger peak).  ru_maxrss itself is useless here: at exec the
    # child inherits the parent's peak (signal->maxrss), i.e. report.py's, which already
    # holds hundreds of MB, so every growth would read as 0.
    with open("/proc/self/status") as fp:
        for line in fp:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

gc.collect()
try:  # reset the peak to the current RSS so import-time spikes do not hide growth
    with open("/proc/self/clear_refs", "w") as fp:
        fp.write("5")
    reset = True
except OSError:
    reset = False
before = vm_hwm()
if lib == "dicomframes":            # view, every pixel touched
    f = dicomframes.open(path)
    a = f[k]
    s = int(np.asarray(a).sum(dtype=np.uint64))
elif lib == "dicomframes-copy":     # private copy of the frame
    f = dicomframes.open(path)
    a = f.frame(k, copy=True)
    s = int(a.sum(dtype=np.uint64))
elif lib == "pydicom":
    a = pixel_array(path, index=k)
    s = int(a.sum(dtype=np.uint64))
elif lib == "dicomsdl":
    df = dicomsdl.open(path)
    a = df.pixelData(k, storedvalue=True)
    s = int(a.sum(dtype=np.uint64))
after = vm_hwm()
print(json.dumps({"growth": after - before, "reset": reset, "nbytes": int(a.nbytes)}))
"""


def rss_growth(lib: str, path: Path, k: int) -> dict:
    proc = subprocess.run([sys.executable, "-c", RSS_SCRIPT, lib, str(path), str(k)],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": last}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------


def versions() -> str:
    out = [f"Python {platform.python_version()}", f"numpy {np.__version__}"]
    for mod in ("dicomframes", "pydicom", "dicomsdl"):
        try:
            m = __import__(mod)
            out.append(f"{mod} {getattr(m, '__version__', '?')}")
        except ImportError:
            out.append(f"{mod} (not installed)")
    return ", ".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=1.0,
                    help="seconds of timing per case (default 1.0)")
    ap.add_argument("--min-rounds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=20000, help="max rounds per case")
    ap.add_argument("--no-rss", action="store_true", help="skip the peak-RSS subprocesses")
    args = ap.parse_args(argv)

    small = benchdata.ct_small_path()
    t0 = time.perf_counter()
    big = benchdata.big_file()
    gen = time.perf_counter() - t0
    k = benchdata.FRAME_INDEX
    floor_kw = dict(offset=big.pixel_offset, shape=(big.n_frames, big.rows, big.cols))

    print("## dicomframes benchmark report\n")
    print(f"- {versions()}")
    print(f"- {platform.machine()}, {platform.platform()}")
    print(f"- CT_small: `{small}` ({small.stat().st_size} bytes)")
    print(f"- 500-frame file: `{big.path.relative_to(HERE.parent)}` "
          f"({big.path.stat().st_size / 1e6:.1f} MB, {big.n_frames} x {big.rows} x {big.cols} "
          f"u16, ready in {gen:.2f} s)")
    print(f"- timing: perf_counter, {args.budget:g} s per case (min {args.min_rounds} rounds, "
          f"max {args.rounds}), 3 warm-up calls; ratios = peer time / dicomframes time")

    open_small = run_group("open + header scan: CT_small.dcm", {
        name: (lambda f=f: f(small)) for name, f in OPEN_CASES.items()}, args)
    open_big = run_group("open + header scan: 500-frame 512x512 file (262 MB)", {
        name: (lambda f=f: f(big.path)) for name, f in OPEN_CASES.items()}, args)
    frame = run_group(f"open + frame {k} of 500 -> ndarray", {
        name: (lambda f=f, name=name: f(big.path, k, **(floor_kw if name in FLOOR_CASES
                                                         else {})))
        for name, f in FRAME_CASES.items()}, args)

    # ---- goals ----
    def status(val, ok):
        if val is None:
            return "n/a"
        return "**met**" if ok(val) else "**missed**"

    r_pyd = ratio(open_small, "pydicom")
    r_sdl = ratio(open_small, "dicomsdl")
    r_frame = ratio(frame, "pydicom")
    r_frame_copy = None
    if "min" in frame.get("dicomframes-copy", {}) and "min" in frame.get("pydicom", {}):
        r_frame_copy = frame["pydicom"]["min"] / frame["dicomframes-copy"]["min"]
    big_vs_small = None
    if "min" in open_big.get(OURS, {}) and "min" in open_small.get(OURS, {}):
        big_vs_small = open_big[OURS]["min"] / open_small[OURS]["min"]

    print("\n### goals (minimum times)\n")
    print("| goal | measured | target | status |")
    print("|---|---:|---:|---|")
    print(f"| open CT_small vs pydicom.dcmread(stop_before_pixels=True) | {fmt_x(r_pyd)} faster "
          f"| >= 50x | {status(r_pyd, lambda v: v >= 50)} |")
    print(f"| open CT_small vs dicomsdl.open | {fmt_x(r_sdl)} faster | > 1x "
          f"| {status(r_sdl, lambda v: v > 1)} |")
    print(f"| frame {k} (view) vs pydicom.pixels.pixel_array(path, index={k}) "
          f"| {fmt_x(r_frame)} faster | >= 50x | {status(r_frame, lambda v: v >= 50)} |")
    for variant, label in (("dicomframes-raw-bits", "open(correct_unused_bits=False) + view"),
                           ("dicomframes-opened", "f[k] on an open file"),
                           ("dicomframes-opened-cycling", "f[k] on an open file, k cycling")):
        if "min" in frame.get(variant, {}) and "min" in frame.get("pydicom", {}):
            r = frame["pydicom"]["min"] / frame[variant]["min"]
            print(f"| frame {k}, {label}, vs pydicom.pixels.pixel_array | {fmt_x(r)} faster "
                  f"| >= 50x | {status(r, lambda v: v >= 50)} |")
    print(f"| frame {k} (copy) vs pydicom.pixels.pixel_array (info) "
          f"| {fmt_x(r_frame_copy)} faster | - | info |")
    print(f"| open 500-frame / open CT_small (dicomframes) | "
          f"{'-' if big_vs_small is None else f'{big_vs_small:.2f}x'} | <= 2x "
          f"| {status(big_vs_small, lambda v: v <= 2)} |")

    # ---- peak RSS ----
    if not args.no_rss:
        budget = 2 * big.frame_bytes + 4 * MB
        print(f"\n### peak RSS growth: open the 500-frame file + read frame {k} "
              f"(fresh subprocess, peak RSS = VmHWM, reset after imports)\n")
        print(f"One frame = {big.frame_bytes / MB:.2f} MiB; goal for dicomframes: "
              f"< 2 x frame + 4 MiB = {budget / MB:.2f} MiB.\n")
        print("| case | peak RSS growth | vs goal |")
        print("|---|---:|---|")
        for lib, what in (("dicomframes", "open + f[k] view, all pixels touched (sum)"),
                          ("dicomframes-copy", "open + f.frame(k, copy=True)"),
                          ("pydicom", "pixel_array(path, index=k)"),
                          ("dicomsdl", "open + pixelData(k)")):
            r = rss_growth(lib, big.path, k)
            if "error" in r:
                print(f"| {lib}: {what} | {r['error']} | |")
                continue
            g = r["growth"]
            verdict = ("**met**" if g < budget else "**missed**") if lib.startswith(OURS) \
                else "(peer)"
            note = "" if r["reset"] else " (peak not reset)"
            print(f"| {lib}: {what} | {g / MB:.2f} MiB{note} | {verdict} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
