"""The benchmark reports, printed as markdown (the tables of README.md and
benchmarks/README.md), each case's output checked against the ground truth:

    python -m benchmarks.report open      [--budget 1] [--no-rss]
    python -m benchmarks.report codecs    [--inputs ct_rle,us_jpegls] [--runs 3] [--slow 40]
                                          [--budget 2] [--peers a,b] [--skip-all] [--skip-one]
    python -m benchmarks.report parallel  [--inputs ct_rle,series_j2k] [--threads 1,2]
                                          [--runs 3] [--peers a,b] [--slow 40]
    python -m benchmarks.report batches   [--inputs ct_j2k,ct_jpegls,ct_rle] [--batch 4,16]
    python -m benchmarks.report native    [--runs 15] [--budget 2]

* open: open + header scan of CT_small and of the 500-frame file, open + frame 250 of it
  (µs; against pydicom, dicomsdl and numpy/mmap floors), peak RSS growth;
* codecs: every frame of the codec files at one thread (MB/s), and frame k = frames // 2
  with the cold open against the codec engine alone (ms);
* parallel: every frame of the codec files and series at 1, 2 and os.cpu_count() threads;
* batches: `frames(indices)` of 4 and 16 frames at 1 and 2 threads (ms, 2T / 1T);
* native: the goals of issue 14 on ct_300 (native 16-bit, Bits Stored 12), each against the
  floor (``os.open`` + ``mmap`` + numpy, no DICOM) in the same run: all frames at one and two
  threads, and one frame from a cold open as a copy and as a view.

Inputs and goals: benchmarks/inputs.py; cases: ``dicomframes.bench.PEERS``.  Cases are
timed interleaved (``dicomframes.bench.interleaved``): all-frames cases ``--runs`` times,
the short ones for ``--budget`` seconds each after 3 warm-up calls.  Goals are judged on
minimum times (this VM stalls short calls at random, which inflates medians but not
minimums); nothing fails on timing.  The load average is printed: rerun when it is high.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shlex
import subprocess
import sys
import time

# one thread wherever a library reads a knob from the environment (a peer's hidden threads
# would blur the 1-thread columns)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "OPJ_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


import dicomframes
from dicomframes.bench import MB, PEERS, case, compare
from dicomframes.bench.cli import measure
from dicomframes.bench.report import (
    Result,
    fmt_ratio,
    fmt_time,
    load,
    machine,
    markdown,
    notes,
    rate_cell,
    ratio,
    threads_table,
    versions,
)
from dicomframes.bench.timing import interleaved, prepare

from . import inputs as data

OURS = "dicomframes"


def header(title: str, found: dict) -> None:
    print(f"## dicomframes {title} benchmarks\n")
    command = [os.path.relpath(sys.executable), "-m", "benchmarks.report", *sys.argv[1:]]
    print(f"- command: `{shlex.join(command)}`")
    print(f"- machine: {machine()}; load average at start {load()}")
    print(f"- {versions()}")
    print("- inputs (benchmarks/inputs.py, cached under benchmarks/data/):\n")
    rows = [[inp.label, inp.syntax.name, len(inp.paths), inp.n_frames,
             "x".join(map(str, inp.frame_shape)), inp.dtype, inp.pixels.photometric_interpretation,
             f"{inp.decoded_bytes / MB:.1f}", f"{inp.file_bytes / MB:.1f}",
             f"{inp.decoded_bytes / inp.file_bytes:.2f}", inp.encoder] for inp in found.values()]
    for line in markdown(["input", "transfer syntax", "files", "frames", "shape", "dtype",
                          "photometric", "MB decoded", "MB on disk", "ratio", "encoder"],
                         rows, "llrrlllrrrl"):
        print(line)
    sys.stdout.flush()


def time_short(job: str, inp, names: list[str], args, k: int = 0, check=None) -> Result:
    """Cases that take micro- to milliseconds: interleaved for --budget seconds each."""
    fns, timings = prepare({(n, 1): (lambda n=n: case(n, job, inp, k=k)) for n in names})
    before = load()
    interleaved(fns, timings, runs=args.min_rounds, max_runs=args.max_rounds,
                budget=args.budget, burst=0.05, warmup=3, check=check)
    return Result(inp, timings, (before, load()))


def used(results, names: list[str]) -> list[str]:
    """The names that ran (or failed) somewhere: the columns worth printing."""
    return [n for n in names if any(not t.skipped for r in results
                                    for (m, _), t in r.timings.items() if m == n)]


# ---------------------------------------------------------------------------------------
# goals
# ---------------------------------------------------------------------------------------


def resolve(ref: str, res: Result, group: dict[str, Result]) -> tuple[str | None, float | None]:
    """(case name, minimum time) of a Goal's reference in `res` (see inputs.Goal)."""
    label, _, ref = ref.rpartition("|")
    res = group.get(label) if label else res
    name, _, at = ref.partition("@")
    if res is None:
        return None, None
    if name.startswith("fastest"):
        gil = "GIL" in name
        peers = {n for n, _ in res.timings if not n.startswith(("dicomframes", "engine"))
                 and (not gil or PEERS[n].holds_gil)}
        return res.fastest(sorted(peers), range(1, int(at) + 1) if at else None)
    return name, res.best(name, [int(at)] if at else None)


def goals(report: str, results: dict[str, dict[str, Result]]) -> None:
    """The goals of `report` (inputs.GOALS) on results[job][input label]."""
    rows = []
    for goal in (g for g in data.GOALS if g.report == report):
        for label, res in results.get(goal.job, {}).items():
            if (goal.only and label != goal.only) or (goal.codecs and res.input.codec
                                                      not in goal.codecs):
                continue
            slower, t_slow = resolve(goal.slower, res, results[goal.job])
            _, t_fast = resolve(goal.faster, res, results[goal.job])
            r = ratio(t_slow, t_fast)
            target = (f">= {goal.at_least:g}x" if goal.at_least is not None else
                      f"<= {goal.at_most:g}x" if goal.at_most is not None else "-")
            if goal.at_least is None and goal.at_most is None:
                status = "info"
            elif r is None:
                status = "n/a"
            else:
                met = r >= goal.at_least if goal.at_least is not None else r <= goal.at_most
                status = "**met**" if met else "**missed**"
            who = f" {slower}" if goal.slower.startswith("fastest") and slower else ""
            rows.append([f"{label}: {goal.text}", fmt_ratio(r) + who, target, status])
    print("\n## Goals (minimum times)\n")
    print("\n".join(markdown(["goal", "measured", "target", "status"], rows, "lrrl")))


# ---------------------------------------------------------------------------------------
# open: header scans and frame 250 of native data
# ---------------------------------------------------------------------------------------

RSS_CHILD = r"""
import json, sys
import numpy as np
from dicomframes.bench import case, make_input
name, path, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
fn = case(name, "frame", make_input([path]), k=k)  # imports and set-up before the reset

def vm_hwm():
    # Peak RSS of this process's own address space.  ru_maxrss is useless here: at exec a
    # child inherits its parent's peak, which already holds hundreds of MB.
    with open("/proc/self/status") as fp:
        return next(int(line.split()[1]) * 1024 for line in fp if line.startswith("VmHWM:"))

try:  # reset the peak to the current RSS so that import-time spikes do not hide growth
    with open("/proc/self/clear_refs", "w") as fp:
        fp.write("5")
    reset = True
except OSError:
    reset = False
before = vm_hwm()
a = np.asarray(fn())
a.sum(dtype=np.uint64)  # every pixel touched
print(json.dumps({"growth": vm_hwm() - before, "reset": reset}))
"""


def rss_growth(name: str, inp, k: int, limit: int) -> list[str]:
    """[peak RSS growth, verdict] of frame k by case `name`, in a fresh subprocess."""
    proc = subprocess.run([sys.executable, "-c", RSS_CHILD, name, inp.paths[0], str(k)],
                          capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        return [(proc.stderr.strip().splitlines() or ["?"])[-1], ""]
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    verdict = ("**met**" if r["growth"] < limit else "**missed**") \
        if name.startswith(OURS) else "(peer)"
    return [f"{r['growth'] / 2**20:.2f} MiB" + ("" if r["reset"] else " (peak not reset)"),
            verdict]


def print_short(title: str, res: Result) -> None:
    """min / median / rounds per case, and how many times faster dicomframes is."""
    ours = res.timings.get((OURS, 1))
    rows = []
    for (name, _), t in res.timings.items():
        if t.skipped or not t.wall:
            rows.append([name, "-", "-", "-", t.skipped or t.error, ""])
            continue
        faster = [fmt_ratio(ratio(t.best, ours.best)), fmt_ratio(ratio(t.median, ours.median))] \
            if name != OURS and ours and ours.wall else ["-", "-"]
        rows.append([name, fmt_time(t.best) + (" ✗" if t.mismatch else ""),
                     fmt_time(t.median), len(t.wall), *faster])
    print(f"\n### {title}\n")
    print("\n".join(markdown(["case", "min", "median", "rounds",
                              "dicomframes faster by (min)", "(median)"], rows)))


def open_report(args) -> None:
    found = data.inputs(["CT_small", "ct_500"])
    header("open and native frame", found)
    small, big = found["CT_small"], found["ct_500"]
    k = data.FRAME_INDEX

    def header_check(inp):
        expected = (inp.pixels.rows, inp.pixels.columns, inp.n_frames)
        return lambda key, out: None if tuple(int(x or 1) for x in out) == expected \
            else f"{out} != {expected}"

    opens = {inp.label: time_short("open", inp, data.OPEN_PEERS, args, check=header_check(inp))
             for inp in (small, big)}
    print_short("open + header scan: CT_small.dcm", opens["CT_small"])
    print_short(f"open + header scan: 500-frame 512x512 file "
                f"({big.file_bytes / MB:.0f} MB)", opens["ct_500"])
    from pydicom.pixels import pixel_array

    expected = pixel_array(big.paths[0], index=k)  # the truth, read by pydicom
    frame = time_short("frame", big, data.NATIVE_FRAME_PEERS, args, k,
                       check=lambda key, out: compare(out, expected))
    print_short(f"open + frame {k} of 500 -> ndarray", frame)
    goals("open", {"open": opens, "frame": {"ct_500": frame}})
    if args.no_rss:
        return
    limit = 2 * big.frame_bytes + 4 * 2**20
    print(f"\n### Peak RSS growth: open the 500-frame file + read frame {k} (fresh "
          f"subprocess, VmHWM reset after the imports)\n")
    print(f"One frame = {big.frame_bytes / 2**20:.2f} MiB; goal for dicomframes: < 2 x frame "
          f"+ 4 MiB = {limit / 2**20:.2f} MiB.\n")
    print("\n".join(markdown(["case", "peak RSS growth", "vs goal"], [
        [name, *rss_growth(name, big, k, limit)]
        for name in ("dicomframes", "dicomframes-copy", "pydicom", "dicomsdl")])))


# ---------------------------------------------------------------------------------------
# codecs: all frames at one thread, and one frame against the engine
# ---------------------------------------------------------------------------------------


def codecs_report(args) -> None:
    labels = args.inputs.split(",") if args.inputs else \
        [f"{kind}_{c}" for kind in ("ct", "us") for c in data.LOSSLESS] + data.JPEG_LABELS
    found = data.inputs(labels)
    header("codec", found)
    all_names = select([n for n, p in PEERS.items() if p.all and not p.series_only], args)
    one_names = select(data.CODEC_FRAME_PEERS, args, keep=("dicomframes", "engine"))
    whole: dict[str, Result] = {}
    one: dict[str, Result] = {}
    for inp in found.values():
        truth = data.truth(inp)
        if not args.skip_all:
            whole[inp.label] = measure(inp, all_names, [1], args.runs, truth=truth,
                                       slow=args.slow)
            print(f"<!-- {inp.label}: load {whole[inp.label].load[0]} -> "
                  f"{whole[inp.label].load[1]} -->", file=sys.stderr, flush=True)
        if not args.skip_one and inp.codec != "native":
            k = inp.n_frames // 2
            one[inp.label] = time_short("frame", inp, one_names, args, k,
                                        check=lambda key, out, frame=truth[k], inp=inp:
                                        compare(out, frame, inp.tolerance))
        del truth  # one ground truth in memory at a time (100-160 MB)
    if whole:
        print_all_frames(list(whole.values()), all_names, args)
    if one:
        print_one_frame(list(one.values()), one_names, args)
    goals("codecs", {"all": whole, "frame": one})
    print("\n## Failures, wrong output, skipped cases\n")
    print("\n".join(notes([*whole.values(), *one.values()])) or "none")
    print_peers(sorted({*all_names, *one_names}, key=list(PEERS).index))


def select(names: list[str], args, keep: tuple[str, ...] = ("dicomframes",)) -> list[str]:
    """`names` limited to --peers (those starting with `keep` always stay)."""
    wanted = args.peers.split(",") if args.peers else None
    return [n for n in names if wanted is None or n in wanted or n.startswith(keep)]


def print_all_frames(results: list[Result], names: list[str], args) -> None:
    cols = used(results, names)
    others = [n for n in cols if n != OURS]
    print("\n## Decode all frames, one thread (MB/s of decoded output)\n")
    print(f"Open the file and decode every frame into one array. `best (median)` over "
          f"{args.runs} interleaved runs: best = from the minimum time, the value the ratios "
          f"use. n=1: one run took over {args.slow:g} s, not repeated. [x] = process CPU time "
          f"/ wall time when > 1.15. ✗ = output differs from the ground truth, ERR = failed, "
          f"— = no decoder for that syntax. Last columns: the fastest correct peer and "
          f"dicomframes' rate / that peer's.\n")
    rows, cpu_rows = [], []
    for r in results:
        peer, t_peer = r.fastest(others)
        cpu_peer, c_peer = r.fastest(others, cpu=True)
        rows.append([r.input.label, f"{r.input.decoded_bytes / MB:.1f}",
                     f"{r.input.decoded_bytes / r.input.file_bytes:.2f}",
                     *(rate_cell(r, r.timings.get((n, 1)), args.runs, cpu_note=True)
                       for n in cols), peer or "-", bold(ratio(t_peer, r.best(OURS)))])
        cpu_rows.append([r.input.label, *(cpu_cell(r, r.timings.get((n, 1))) for n in cols),
                         cpu_peer or "-", bold(ratio(c_peer, r.best(OURS, cpu=True)))])
    print("\n".join(markdown(["file", "MB", "ratio", *cols, "fastest peer",
                              "dicomframes / fastest"], rows, "lrr" + "r" * len(cols) + "lr")))
    print("\nThe same runs as MB per CPU-second (decoded MB / minimum process CPU time; less "
          "sensitive to other load on the machine than wall time):\n")
    print("\n".join(markdown(["file", *cols, "fastest peer", "dicomframes / fastest"],
                             cpu_rows, "l" + "r" * len(cols) + "lr")))
    print("\nLoad average (1, 5, 15 min) before -> after each file:\n")
    print("\n".join(f"- {r.input.label}: {r.load[0]} -> {r.load[1]}" for r in results))


def bold(x: float | None) -> str:
    return "-" if x is None else f"**{x:.2f}x**"


def cpu_cell(r: Result, t) -> str:
    if t is None or t.skipped:
        return "—"
    return "ERR" if not t.cpu else f"{r.rate(min(t.cpu)):.1f}" + (" ✗" if t.mismatch else "")


def print_one_frame(results: list[Result], names: list[str], args) -> None:
    cols = used(results, names)

    def ms(t) -> str:
        if t is None or t.skipped:
            return "—"
        if not t.wall:
            return "ERR"
        return (f"{min(t.wall) * 1e3:.2f} ({t.median * 1e3:.2f})"
                + (" ✗" if t.mismatch else ""))

    print("\n## One frame from the middle of the file, cold open included (ms)\n")
    print(f"`min (median)` ms over >= {args.min_rounds} calls ({args.budget:g} s per case, "
          f"interleaved, after 3 warm-up calls; page cache warm): path -> frame k = frames // "
          f"2 each call; `dicomframes-opened`: `f[k]` on a file opened beforehand; engine: "
          f"the codec alone on frame k's codestream (taken once) into a preallocated array. "
          f"Ratios: min times.\n")
    rows = []
    for r in results:
        best = {n: r.best(n) for n in cols}
        rows.append([r.input.label, r.input.n_frames // 2,
                     *(ms(r.timings.get((n, 1))) for n in cols),
                     fmt_ratio(ratio(best.get(OURS), best.get("engine: dicomframes._codecs"))),
                     fmt_ratio(ratio(best.get(OURS), best.get("engine: imagecodecs"))),
                     fmt_ratio(ratio(best.get("pydicom+pylibjpeg"), best.get(OURS)))])
    print("\n".join(markdown(["file", "k", *cols, "dicomframes / engine (ours)",
                              "dicomframes / engine (imagecodecs)",
                              "pydicom+pylibjpeg / dicomframes"], rows)))


def print_peers(names: list[str]) -> None:
    print("\n## Cases\n")
    print("\n".join(f"- **{n}**: {PEERS[n].how}" for n in names))
    print(f"\nLoad average at the end: {load()}")


# ---------------------------------------------------------------------------------------
# parallel: all frames at 1, 2 and os.cpu_count() threads
# ---------------------------------------------------------------------------------------


def parallel_report(args) -> None:
    labels = args.inputs.split(",") if args.inputs else \
        [f"{kind}_{c}" for kind in ("ct", "us", "series") for c in data.LOSSLESS] \
        + data.JPEG_LABELS
    threads = sorted({int(k) for k in args.threads.split(",")} | {os.cpu_count() or 1, 1})
    two = 2 if 2 in threads else max(threads)
    found = data.inputs(labels)
    header("parallel", found)
    names = select([n for n, p in PEERS.items() if p.all], args)
    results: dict[str, Result] = {}
    for inp in found.values():
        results[inp.label] = measure(inp, names, threads, args.runs, truth=data.truth(inp),
                                     slow=args.slow)
        print(f"<!-- {inp.label}: load {results[inp.label].load[0]} -> "
              f"{results[inp.label].load[1]} -->", file=sys.stderr, flush=True)
    top = max(threads)
    print("\n## All frames, MB/s of decoded output, by thread count\n")
    print(f"`best (median)` over {args.runs} interleaved runs; ✗ = output differs from the "
          f"ground truth, ERR = failed, — = not applicable (see the notes). dicomframes uses "
          f"its own pool; a peer runs at 1 thread in its best serial way and at t threads "
          f"from a ThreadPoolExecutor(t) created beforehand. `{top} / 1`: the case's own "
          f"speed-up; last column: the case's best time (any thread count) / dicomframes' "
          f"at {top} threads.\n")
    print("\n".join(threads_table(list(results.values()), names)))
    print(f"\n## Summary: dicomframes at 1 and {two} threads against the goal peers (MB/s)\n")
    rows = []
    for label, r in results.items():
        one, many = r.best(OURS, [1]), r.best(OURS, [two])
        gil = [n for n, _ in r.timings if PEERS[n].holds_gil]
        peer, t_peer = r.fastest(sorted(set(gil)), range(1, two + 1))
        ic = r.best("imagecodecs", [two])

        def mbs(t: float | None, r: Result = r) -> str:
            return f"{r.rate(t):.0f}" if t else "-"

        rows.append([label, mbs(one), mbs(many), fmt_ratio(ratio(one, many)),
                     f"{peer} {mbs(t_peer)}" if peer else "-", bold(ratio(t_peer, many)),
                     mbs(ic), bold(ratio(ic, many))])
    print("\n".join(markdown(["input", "dicomframes 1T", f"dicomframes {two}T",
                              f"{two}T / 1T", "fastest GIL-holding peer (its best)", "ratio",
                              f"imagecodecs {two}-thread pool", "ratio"], rows,
                             "lrrrlrrr")))
    goals("parallel", {"all": results})
    print("\n## Notes: skipped cases, failures, wrong output\n")
    print("\n".join(notes(list(results.values()))) or "none")
    print_peers(names)


# ---------------------------------------------------------------------------------------
# batches: a few frames at a time (what AI loaders ask for), 1 and 2 threads
# ---------------------------------------------------------------------------------------


def batches_report(args) -> None:
    from dicomframes.bench.timing import Timing

    labels = args.inputs.split(",") if args.inputs else ["ct_j2k", "ct_jpegls", "ct_rle"]
    found = data.inputs(labels)
    header("batches", found)
    sizes = [int(n) for n in args.batch.split(",")]
    print(f"\n## Batches of frames: `f.frames(indices, threads=t)`, ms (best of "
          f"{args.budget:g} s of interleaved calls per case, each call the next batch of the "
          f"file), the first batch checked against the ground truth; goal 2T/1T >= 1.7\n")
    rows = []
    for inp in found.values():
        truth = data.truth(inp)
        f = dicomframes.open(inp.paths[0])
        for size in sizes:
            # Each call reads the next batch of the file, as a loader would: no batch is
            # decoded twice in a row from warm caches. The first batch is checked.
            expected = truth[:size] if truth is not None else None
            batches = [list(range(b, b + size)) for b in range(0, len(f) - size + 1, size)]
            fns = {t: (lambda t=t, next_batch=itertools.cycle(batches).__next__:
                       f.frames(next_batch(), threads=t)) for t in (1, 2)}
            timings = {t: Timing() for t in fns}

            def check(t, out, expected=expected):
                return None if expected is None else compare(out, expected)

            interleaved(fns, timings, runs=args.min_rounds, budget=args.budget, warmup=2,
                        max_runs=args.max_rounds, check=check)
            one, two = timings[1].best, timings[2].best
            bad = [t for t in fns if timings[t].mismatch or timings[t].error]
            rows.append([inp.label, str(size), f"{one * 1e3:.2f}", f"{two * 1e3:.2f}",
                         bold(one / two) if one and two else "-",
                         ", ".join(f"{t}T: {timings[t].mismatch or timings[t].error}"
                                   for t in bad) or "ok"])
        f.close()
    print("\n".join(markdown(["input", "frames", "1T ms", "2T ms", "2T / 1T", "output"],
                             rows, "lrrrrl")))
# native: all frames and one cold frame of native 12-bit-in-16 data against the floor
# ---------------------------------------------------------------------------------------


def native_cases(inp, k: int) -> dict[str, object]:
    """The cases of the native report: name -> callable. Floors: the same bytes with no
    DICOM (``os.open`` + ``mmap`` + ``np.frombuffer``, copied with numpy where a copy is
    made). Every case releases what it maps before returning (``with``; the floors' mapping
    goes with its last reference), except the views, whose mapping lives as long as they
    do, in both."""
    import mmap

    import numpy as np

    import dicomframes as dcf

    path, offset, n = inp.paths[0], inp.pixel_offset, inp.n_frames
    dt, shape = inp.dtype.newbyteorder("<"), inp.frame_shape
    count = inp.frame_bytes // dt.itemsize
    start = offset + k * inp.frame_bytes

    def mapped():
        fd = os.open(path, os.O_RDONLY)
        try:
            return mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        finally:
            os.close(fd)

    def floor_all(threads: int):
        def run():
            stored = np.frombuffer(mapped(), dt, count * n, offset).reshape(inp.shape)
            out = np.empty(inp.shape, dt)
            if threads == 1:
                np.copyto(out, stored)
            else:
                # the floor's own scaling: the same copy in `threads` contiguous blocks
                edges = [n * i // threads for i in range(threads + 1)]
                parts = [pool.submit(np.copyto, out[a:b], stored[a:b])
                         for a, b in zip(edges[1:-1], edges[2:])]
                np.copyto(out[:edges[1]], stored[:edges[1]])
                for part in parts:
                    part.result()
            return out
        return run

    def ours_all(threads: int):
        def run():
            with dcf.open(path) as f:
                return f.frames(threads=threads)
        return run

    def floor_view():
        return np.frombuffer(mapped(), dt, count, start).reshape(shape)

    def floor_copy():
        return np.frombuffer(mapped(), dt, count, start).reshape(shape).copy()

    def ours_open():
        with dcf.open(path) as f:
            return f.has_pixel_data

    def ours_copy():
        with dcf.open(path) as f:
            return f.frame(k, copy=True)

    def ours_view(**options):
        def run():
            with dcf.open(path, **options) as f:
                return f[k]
        return run

    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1)
    return {
        "floor: all frames, 1 thread": floor_all(1),
        "dicomframes: all frames, 1 thread": ours_all(1),
        "floor: all frames, 2 threads": floor_all(2),
        "dicomframes: all frames, 2 threads": ours_all(2),
        "floor: open + frame k, view": floor_view,
        "floor: open + frame k, copy": floor_copy,
        "dicomframes: open": ours_open,
        "dicomframes: open + frame(k, copy=True)": ours_copy,
        "dicomframes: open + f[k], view (bits checked)": ours_view(),
        "dicomframes: open(correct_unused_bits=False) + f[k], view": ours_view(
            correct_unused_bits=False),
    }


def native_report(args) -> None:
    import numpy as np
    from pydicom.pixels import pixel_array

    found = data.inputs(["ct_300"])
    inp = found["ct_300"]
    header("native frames against the floor", found)
    k = inp.n_frames // 2
    fns = native_cases(inp, k)
    frame = pixel_array(inp.paths[0], index=k)  # the truth, read by pydicom
    truth = np.frombuffer(open(inp.paths[0], "rb").read(), inp.dtype.newbyteorder("<"),
                          inp.n_frames * frame.size, inp.pixel_offset).reshape(inp.shape)
    if not np.array_equal(truth[k], frame):
        raise SystemExit("the input is not canonical: its stored bytes differ from pydicom's")

    def check(name, out):
        if name == "dicomframes: open":
            return None if out is True else "no Pixel Data found"
        return compare(out, truth if "all frames" in name else frame)

    big = {name: fn for name, fn in fns.items() if "all frames" in name}
    small = {name: fn for name, fn in fns.items() if name not in big}
    loads = [load()]
    timings = {}
    for group, options in ((big, dict(runs=args.runs, warmup=1)),
                           (small, dict(runs=args.min_rounds, max_runs=args.max_rounds,
                                        budget=args.budget, burst=0.05, warmup=3))):
        got, timings_group = prepare({name: (lambda fn=fn: fn) for name, fn in group.items()})
        interleaved(got, timings_group, check=check, **options)
        timings.update(timings_group)
        loads.append(load())
    best = {name: t.best for name, t in timings.items()}
    print(f"\n### Times (minimum over interleaved calls; frame k = {k})\n")
    print("\n".join(markdown(["case", "min", "median", "calls", "note"], [
        [name, fmt_time(t.best), fmt_time(t.median), len(t.wall),
         t.error or t.skipped or (f"✗ {t.mismatch}" if t.mismatch else "")]
        for name, t in timings.items()], "lrrrl")))
    gb = inp.decoded_bytes / 1e9
    speed = {name: f"{gb / t:.2f} GB/s" for name, t in best.items() if t and "all" in name}
    view_extra = {name: (best[name] - best["dicomframes: open"])
                  if best.get(name) and best.get("dicomframes: open")
                  else None for name in small if "view" in name and "dicomframes" in name}

    def row(goal, measured, target, met):
        return [goal, measured, target, "-" if met is None else
                ("**met**" if met else "**missed**")]

    one = best["dicomframes: all frames, 1 thread"]
    two = best["dicomframes: all frames, 2 threads"]
    f1, f2 = best["floor: all frames, 1 thread"], best["floor: all frames, 2 threads"]
    copy, floor_copy = best["dicomframes: open + frame(k, copy=True)"], \
        best["floor: open + frame k, copy"]
    r_all, r_two, r_floor_two = ratio(f1, one), ratio(one, two), ratio(f1, f2)
    r_copy = ratio(copy, floor_copy)
    checked = view_extra.get("dicomframes: open + f[k], view (bits checked)")
    raw = view_extra.get("dicomframes: open(correct_unused_bits=False) + f[k], view")
    rows = [
        row("all frames, 1 thread: speed / the floor's",
            f"{fmt_ratio(r_all)} ({speed.get('dicomframes: all frames, 1 thread', '-')} vs "
            f"{speed.get('floor: all frames, 1 thread', '-')})", ">= 0.85x",
            None if r_all is None else r_all >= 0.85),
        row("all frames: 2 threads / 1 thread",
            f"{fmt_ratio(r_two)} (the floor's own: {fmt_ratio(r_floor_two)})", ">= 1.6x",
            None if r_two is None else r_two >= 1.6),
        row("open + one frame, copy: time / the floor's",
            f"{fmt_ratio(r_copy)} ({fmt_time(copy)} vs {fmt_time(floor_copy)})", "<= 1.5x",
            None if r_copy is None else r_copy <= 1.5),
        row("open + one canonical frame, view: time - open (bits checked)",
            fmt_time(checked), "<= 5 µs", None if checked is None else checked <= 5e-6),
        row("the same, correct_unused_bits=False (nothing to check)", fmt_time(raw),
            "<= 5 µs", None if raw is None else raw <= 5e-6),
    ]
    print("\n### Goals (issue 14)\n")
    print("\n".join(markdown(["goal", "measured", "target", "status"], rows, "lrrl")))
    print(f"\nLoad average: before {loads[0]}, after the all-frames cases {loads[1]}, "
          f"at the end {loads[2]}.")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="report", required=True)
    for name, helptext in (("open", "open + header scan, frame 250 of native data"),
                           ("codecs", "all frames at one thread; one frame vs the engine"),
                           ("parallel", "all frames at 1, 2 and os.cpu_count() threads"),
                           ("batches", "batches of 4 and 16 frames at 1 and 2 threads"),
                           ("native", "native 12-bit frames against the floor (issue 14)")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--budget", type=float, default=2.0 if name == "codecs" else 1.0,
                       help="seconds of timing per short case")
        p.add_argument("--min-rounds", type=int, default=5)
        p.add_argument("--max-rounds", type=int, default=20000)
        p.add_argument("--runs", type=int, default=15 if name == "native" else 3,
                       help="runs per all-frames case")
        p.add_argument("--slow", type=float, default=40.0,
                       help="an all-frames case slower than this (s) is not repeated")
        p.add_argument("--inputs", default="", help="comma-separated labels, e.g. ct_rle")
        p.add_argument("--peers", default="", help="comma-separated case names")
        p.add_argument("--threads", default="1,2", help="thread counts (parallel)")
        p.add_argument("--skip-all", action="store_true", help="codecs: no all-frames runs")
        p.add_argument("--skip-one", action="store_true", help="codecs: no one-frame runs")
        p.add_argument("--no-rss", action="store_true", help="open: no peak-RSS subprocesses")
        p.add_argument("--batch", default="4,16", help="batches: frames per batch")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    {"open": open_report, "codecs": codecs_report, "parallel": parallel_report,
     "batches": batches_report, "native": native_report}[args.report](args)
    print(f"\n(total {time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
