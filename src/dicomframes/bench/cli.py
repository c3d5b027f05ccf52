"""``dicomframes bench``: all frames of the user's files (or of a small generated set) at 1
and N threads, dicomframes against every installed peer, printed as markdown."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from typing import TextIO

import numpy as np

from .inputs import Skip, default_files, group
from .peers import BENCH_PEERS, thread_cases
from .report import Result, load, machine, notes, threads_table, versions
from .timing import Progress, compare, interleaved, prepare


def run(paths: Sequence[str], *, threads: int | None = None, runs: int = 3,
        peers: Sequence[str] | None = None, progress: bool | None = None,
        stream: TextIO | None = None, command: str = "dicomframes bench") -> int:
    """What ``dicomframes bench`` does: the comparison on `paths` (a default set, generated
    into a temporary directory, when empty), printed as markdown to `stream`.  Each case's
    first output is compared with dicomframes' (✗ when it differs)."""
    out = sys.stdout if stream is None else stream
    n = threads or os.cpu_count() or 1
    counts = (1, n) if n > 1 else (1,)
    names = [p for p in BENCH_PEERS if p == "dicomframes" or not peers or p in peers]
    with tempfile.TemporaryDirectory(prefix="dicomframes-bench-") as tmp:
        preface: list[str] = []
        if not paths:
            try:
                paths, left_out = default_files(tmp)
            except Skip as exc:
                print(f"no FILES given, and {exc}", file=out)
                return 2
            preface.append(f"No FILES given: a default set of {len(paths)} generated files "
                           f"(48 frames of 256x256 int16 each)"
                           + (f"; left out: {'; '.join(left_out)}" if left_out else ""))
        inputs, errors = group(paths)
        print("## dicomframes bench\n", file=out)
        print(f"- command: `{command}`", file=out)
        print(f"- machine: {machine()}; load average {load()}", file=out)
        print(f"- {versions()}", file=out)
        for line in preface:
            print(f"- {line}", file=out)
        for inp in inputs:
            print(f"- {inp.label}: {inp.describe()}", file=out)
        print(f"\nAll frames into one array, MB/s of decoded output: best (median) of {runs} "
              f"run(s); dicomframes with its own pool, peers at 1 thread in their best serial "
              f"way and from a {n}-thread pool. ✗ = output differs from dicomframes', "
              f"ERR = failed.\n", file=out)
        results = []
        with stderr_captured() as (terminal, noise):
            bar = Progress(len(inputs) * len(names) * len(counts) * runs, stream=terminal,
                           enabled=progress)
            try:
                for inp in inputs:
                    results.append(measure(inp, names, counts, runs, bar))
            finally:
                bar.close()
        for line in threads_table(results, names):
            print(line, file=out)
        lines = notes(results) + [f"- {e} (not benchmarked)" for e in errors]
        if noise:
            first = noise[0] if len(noise[0]) <= 100 else noise[0][:97] + "..."
            lines.append(f"- the peers wrote {len(noise)} line(s) to stderr while measured, "
                         f"left out of the table (first: `{first}`)")
        if lines:
            print("\n" + "\n".join(lines), file=out)
        print(f"\nLoad average at the end: {load()}", file=out)
    return 0 if results else 1


@contextlib.contextmanager
def stderr_captured() -> Iterator[tuple[TextIO, list[str]]]:
    """While the cases run, file descriptor 2 (where GDCM, OpenJPEG builds and Python warnings
    write) goes to a temporary file, so that the peers' noise does not break into the
    table or the progress bar. Yields a stream on the real stderr, for the bar, and a list
    that receives the captured lines once the block ends."""
    noise: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    terminal = os.fdopen(os.dup(saved), "w", buffering=1)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        # Python's own writes (warnings) too, whatever sys.stderr was replaced with
        python_stderr, sys.stderr = sys.stderr, os.fdopen(os.dup(2), "w", buffering=1)
        try:
            yield terminal, noise
        finally:
            sys.stderr.close()
            sys.stderr = python_stderr
            os.dup2(saved, 2)
            os.close(saved)
            terminal.close()
            sink.seek(0)
            text = sink.read().decode("utf-8", "replace")
            noise.extend(line for line in text.splitlines() if line.strip())


def measure(inp, names: Sequence[str], counts: Sequence[int], runs: int,
            progress: Progress | None = None, truth: np.ndarray | None = None,
            slow: float = 40.0) -> Result:
    """All-frames timings of `names` at each thread count on `inp`, runs interleaved; each
    case's first output is compared with `truth` (None: dicomframes' first output, which
    runs first)."""
    reference = [truth]

    def check(key, output) -> str | None:
        if reference[0] is None:
            reference[0] = np.array(output, copy=True)
        return compare(output, reference[0], inp.tolerance)

    before = load()
    with thread_cases(inp, names, counts) as factories:
        fns, timings = prepare(factories)
        if progress is not None:
            progress.skip(runs * (len(timings) - len(fns)))
        interleaved(fns, timings, runs=runs, slow=slow, check=check, progress=progress,
                    always=[("dicomframes", k) for k in counts])
    return Result(inp, timings, (before, load()))
