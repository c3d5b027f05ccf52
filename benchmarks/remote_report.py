"""Remote reads and Dask (issue 13), printed as markdown:

1. one frame of each 200-frame benchmark file over a local Range-capable HTTP server
   (dicomframes.testing.serve_ranges): bytes moved, requests and time, dicomframes
   (``open(url)`` + ``f[k]``) against pydicom reading the same URL through fsspec
   (``fsspec.open`` + ``pydicom.pixels.pixel_array(fh, index=k)``); each file as it is
   (Basic Offset Table) and rewritten without an offset table (dicomframes walks the
   item headers);
2. a series through ``dicomframes.dask.read_series`` on a LocalCluster of 1 and 2 worker
   processes (created beforehand) against ``dicomframes.read_frames`` at 1 and 2 threads.

    python -m benchmarks.remote_report [--runs 3] [--inputs ct_rle,ct_jpegls] [--series series_rle]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import dicomframes
from benchmarks.inputs import inputs
from dicomframes.testing import reencapsulate, serve_ranges


def best(fn, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def one_frame(label: str, data: bytes, runs: int) -> list[str]:
    import fsspec
    from pydicom.pixels import pixel_array

    with dicomframes.open(data) as f:
        k = len(f) // 2
        expected = f.frame(k, copy=True)
    rows = []
    with serve_ranges(data) as (url, sent):
        def ours():
            with dicomframes.open(url, storage_options={"block_size": 0}) as f:
                return f.frame(k, copy=True)

        def theirs():
            with fsspec.open(url, "rb") as fh:
                return pixel_array(fh, index=k)

        for name, fn in (("dicomframes", ours), ("pydicom + fsspec", theirs)):
            sent[0] = sent[1] = 0
            arr = fn()
            moved, requests = sent[0], sent[1]
            assert np.array_equal(np.asarray(arr), expected), name
            seconds, _ = best(fn, runs)
            rows.append(f"| {label} | {len(data) / 1e6:.1f} | {k} | {name} | {moved:,} | "
                        f"{requests} | {seconds * 1e3:.1f} |")
    return rows


def series(label: str, paths: list[str], runs: int) -> list[str]:
    import dask
    import dicomframes.dask as dd
    from distributed import Client, LocalCluster

    rows = []
    expected = dicomframes.read_frames(paths, threads=1)
    mb = expected.nbytes / 1e6
    for threads in (1, 2):
        seconds, _ = best(lambda: dicomframes.read_frames(paths, threads=threads), runs)
        rows.append(f"| {label} | read_frames, {threads} thread(s) | {mb / seconds:.0f} |")
    with dask.config.set(scheduler="threads", num_workers=2):
        seconds, got = best(lambda: dd.read_series(paths, chunks=10).compute(), runs)
    assert np.array_equal(got, expected)
    rows.append(f"| {label} | read_series, threaded scheduler (2) | {mb / seconds:.0f} |")
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            seconds, got = best(lambda: client.compute(dd.read_series(paths, chunks=10)).result(),
                                runs)
            assert np.array_equal(got, expected)
            rows.append(f"| {label} | read_series, LocalCluster of {workers} process(es) | "
                        f"{mb / seconds:.0f} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--inputs", default="ct_rle,ct_jpegls")
    ap.add_argument("--series", default="series_rle")
    args = ap.parse_args(argv)
    labels = [s for s in args.inputs.split(",") if s]
    found = inputs(labels + [args.series])
    print("## One frame over HTTP (local server, Range requests)\n")
    print("| file | MB | frame | reader | bytes moved | GET requests | ms (best) |")
    print("|---|---:|---:|---|---:|---:|---:|")
    for label in labels:
        data = Path(found[label].paths[0]).read_bytes()
        no_table = reencapsulate(data, offset_table="none")
        for name, variant in ((label, data), (f"{label}, no offset table", no_table)):
            for row in one_frame(name, variant, args.runs):
                print(row, flush=True)
    print(f"\n## A series through Dask ({args.series}, MB/s of decoded output, best of "
          f"{args.runs})\n")
    print("| input | reader | MB/s |")
    print("|---|---|---:|")
    for row in series(args.series, list(found[args.series].paths), args.runs):
        print(row, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
