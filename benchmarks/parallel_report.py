#!/usr/bin/env python3
"""Parallel-throughput benchmarks: every frame of the codec files and of the series at 1, 2
and os.cpu_count() threads, dicomframes against its peers; prints a markdown report with
ratios and goals.

    python benchmarks/parallel_report.py [--files ct_rle,series_j2k,...] [--threads 1,2]
                                         [--runs 3] [--peers a,b] [--slow 40]

Inputs: make_codec_files.py (200-frame CT, 60-frame RGB cine) and make_series.py (300
single-frame CT files), in native, RLE, JPEG-LS, JPEG 2000 and HTJ2K; cases: see
parallel_cases.py and ``dicomframes.bench``.  MB/s of decoded output (10^6 bytes), from the
minimum time over ``--runs`` interleaved runs (median in parentheses).  Every case's first
output is compared with the ground truth (the native data read by pydicom).

Goals (on the 2-core development machine; judged on minimum times, never failing):

* dicomframes at 2 threads >= 1.8x dicomframes at 1 thread, every syntax;
* dicomframes at 2 threads >= 1.8x every GIL-holding peer (pydicom + plugins, gdcm,
  dicomsdl) at its best (1 thread or a 2-thread pool) for JPEG-LS, JPEG 2000 and HTJ2K,
  and >= 3x for RLE;
* dicomframes at 2 threads >= 1.0x imagecodecs driven from a 2-thread pool over frames
  extracted with pydicom beforehand.

The load average is printed per input: other processes disturb the numbers.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# one thread wherever a library reads a knob from the environment (a peer's hidden threads
# would blur the 1-thread columns)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "OPJ_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from codec_report import versions  # noqa: E402
from parallel_cases import CASES, NOTES, inputs, truth  # noqa: E402

from dicomframes import bench  # noqa: E402

OURS = "dicomframes"
GOAL_SCALING = 1.8
GOAL_GIL = {"rle": 3.0, "jls": 1.8, "j2k": 1.8, "htj2k": 1.8}
GOAL_IMAGECODECS = 1.0


def status(ratio: float | None, target: float) -> str:
    if ratio is None:
        return "n/a"
    return "**met**" if ratio >= target else "**missed**"


def goals(found: dict, outcomes: dict, two: int) -> list[str]:
    """Goal rows (markdown) for dicomframes at `two` threads."""
    rows = []
    for key, o in outcomes.items():
        syntax = found[key].syntax
        ours2, ours1 = o.best(OURS, [two]), o.best(OURS, [1])
        ratio = ours1 / ours2 if ours1 and ours2 else None
        rows.append(f"| {key}: dicomframes {two}T / 1T | "
                    f"{'-' if ratio is None else f'{ratio:.2f}x'} | >= {GOAL_SCALING}x | "
                    f"{status(ratio, GOAL_SCALING)} |")
        if syntax in GOAL_GIL:
            target = GOAL_GIL[syntax]
            peers = [(o.best(n, [k for k in o.threads if k <= two]), n)
                     for n in bench.GIL_HOLDING]
            peers = [(t, n) for t, n in peers if t]
            if peers and ours2:
                t_peer, name = min(peers)
                worst = t_peer / ours2
                rows.append(f"| {key}: dicomframes {two}T vs every GIL-holding peer (the "
                            f"fastest: {name}) | {worst:.2f}x | >= {target:g}x | "
                            f"{status(worst, target)} |")
            ic = o.best("imagecodecs", [two])
            ratio = ic / ours2 if ic and ours2 else None
            rows.append(f"| {key}: dicomframes {two}T vs imagecodecs {two}-thread pool | "
                        f"{'-' if ratio is None else f'{ratio:.2f}x'} | >= "
                        f"{GOAL_IMAGECODECS:g}x | {status(ratio, GOAL_IMAGECODECS)} |")
            same = o.best("imagecodecs(openjpeg-ht)", [two])
            if same and ours2:
                rows.append(f"| {key}: vs imagecodecs(openjpeg-ht) {two}-thread pool (info: "
                            f"the same engine) | {same / ours2:.2f}x | - | info |")
    return rows


def summary(outcomes: dict, two: int) -> list[str]:
    """One row per input: dicomframes at 1 and `two` threads, its speed-up, and its ratio to
    the fastest GIL-holding peer and to imagecodecs' pool (the goal columns)."""
    rows = [f"| input | dicomframes 1T | dicomframes {two}T | {two}T / 1T | fastest GIL-holding "
            f"peer (its best) | ratio | imagecodecs {two}-thread pool | ratio |",
            "|---|---:|---:|---:|---|---:|---:|---:|"]
    for key, o in outcomes.items():
        one, many = o.best(OURS, [1]), o.best(OURS, [two])
        peers = [(t, n) for t, n in ((o.best(n, [k for k in o.threads if k <= two]), n)
                                     for n in bench.GIL_HOLDING) if t]
        t_peer, peer = min(peers) if peers else (None, None)
        ic = o.best("imagecodecs", [two])

        def mbs(t):
            return f"{o.rate(t):.0f}" if t else "-"

        def ratio(t):
            return f"**{t / many:.2f}x**" if t and many else "-"

        rows.append(f"| {key} | {mbs(one)} | {mbs(many)} | "
                    f"{f'{one / many:.2f}x' if one and many else '-'} | "
                    f"{f'{peer} {mbs(t_peer)}' if peer else '-'} | {ratio(t_peer)} | "
                    f"{mbs(ic)} | {ratio(ic)} |")
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", default="", help="comma-separated keys, e.g. ct_rle,series_jls")
    ap.add_argument("--threads", default="1,2",
                    help="thread counts (os.cpu_count() is always added; default 1,2)")
    ap.add_argument("--runs", type=int, default=3, help="runs per case (default 3)")
    ap.add_argument("--peers", default="", help="comma-separated case names (default all)")
    ap.add_argument("--slow", type=float, default=40.0,
                    help="a peer whose run takes longer is not repeated (default 40 s)")
    args = ap.parse_args(argv)
    threads = sorted({int(k) for k in args.threads.split(",")} | {os.cpu_count() or 1} | {1})
    two = 2 if 2 in threads else max(threads)
    names = [n for n in CASES if not args.peers or n in args.peers.split(",")
             or n == OURS]

    print("## dicomframes parallel benchmarks\n")
    print(f"- command: `{shlex.join([os.path.relpath(sys.executable), *sys.argv])}`")
    print(f"- machine: {bench.machine()}")
    for line in versions():
        print(f"- {line}")
    print(f"- load average at start {bench.load()}; thread counts {threads}")
    t0 = time.perf_counter()
    found = inputs(args.files.split(",") if args.files else None)
    print(f"- inputs (make_codec_files.py, make_series.py; ready in "
          f"{time.perf_counter() - t0:.1f} s):\n")
    print("| input | transfer syntax | files | frames | shape | dtype | MB decoded | ratio "
          "| encoder |")
    print("|---|---|---:|---:|---|---|---:|---:|---|")
    for key, inp in found.items():
        t = inp.target
        size = sum(os.path.getsize(p) for p in t.paths)
        print(f"| {key} | {t.syntax.name} | {len(t.paths)} | {t.n_frames} | "
              f"{'x'.join(map(str, t.frame_shape))} | {t.dtype} | {t.decoded_bytes / 1e6:.1f} "
              f"| {t.decoded_bytes / size:.2f} | {inp.source.encoder} |")
    sys.stdout.flush()

    outcomes: dict[str, bench.Outcome] = {}
    truths: dict[str, object] = {}
    for key, inp in found.items():
        if inp.truth_key not in truths:
            truths.clear()  # one ground truth in memory at a time (inputs come grouped)
            truths[inp.truth_key] = truth(inp.truth_key)
        start = time.perf_counter()
        o = bench.measure(inp.target, names, threads, args.runs, truth=truths[inp.truth_key],
                          cases=CASES, slow=args.slow)
        outcomes[key] = o
        print(f"<!-- {key}: {time.perf_counter() - start:.0f} s, load {o.load[0]} -> "
              f"{o.load[1]} -->", file=sys.stderr, flush=True)

    top = max(threads)
    print("\n## All frames, MB/s of decoded output, by thread count\n")
    print(f"`best (median)` over {args.runs} interleaved runs; ✗ = output differs from the "
          f"ground truth, ERR = failed, — = not applicable (see the notes). dicomframes uses "
          f"its own pool; a peer runs at 1 thread in its best serial way and at t threads "
          f"from a ThreadPoolExecutor(t) created beforehand. `{top} / 1`: the case's own "
          f"speed-up; last column: the case's best time (any thread count) / dicomframes' "
          f"at {top} threads.\n")
    for line in bench.table(list(outcomes.values()), names):
        print(line)
    print(f"\n## Summary: dicomframes at 1 and {two} threads against the goal peers (MB/s)\n")
    for line in summary(outcomes, two):
        print(line)
    print("\n## Goals (minimum times)\n")
    print("| goal | measured | target | status |")
    print("|---|---:|---:|---|")
    for row in goals(found, outcomes, two):
        print(row)
    print("\n## Notes: skipped cases, failures, wrong output\n")
    print("\n".join(bench.notes(list(outcomes.values()))) or "none")
    print("\n## Cases\n")
    for name in names:
        print(f"- **{name}**: {NOTES.get(name, '')}")
    print("\nLoad average (1, 5, 15 min) before -> after each input:\n")
    for key, o in outcomes.items():
        print(f"- {key}: {o.load[0]} -> {o.load[1]}")
    print(f"\nLoad average at the end: {bench.load()}; total {time.perf_counter() - t0:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
