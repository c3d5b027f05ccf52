"""The one timer: cases interleaved (a round calls each case in turn, so that a disturbance
on the machine hits them alike) until each has its runs and the time budget is spent;
and the progress bar of ``dicomframes bench``."""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable, Collection, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO, TypeVar

import numpy as np

from .inputs import Skip

K = TypeVar("K", bound=Hashable)
Fn = Callable[[], Any]


@dataclass
class Timing:
    """The calls of one case: wall and process-CPU seconds each, or why there are none."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    mismatch: str | None = None  # its first output differs from the reference
    error: str | None = None
    skipped: str | None = None  # why the case does not apply here

    @property
    def best(self) -> float | None:
        """Minimum wall time; None unless the case ran and its output was right."""
        return min(self.wall) if self.wall and not self.mismatch else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.wall) if self.wall else None

    @property
    def best_cpu(self) -> float | None:
        return min(self.cpu) if self.cpu and not self.mismatch else None


def failure(exc: BaseException) -> str:
    """How a failed case is reported: the exception's type and the start of its message."""
    return f"{type(exc).__name__}: {str(exc).strip()[:200]}"


def prepare(factories: Mapping[K, Callable[[], Fn]]) -> tuple[dict[K, Fn], dict[K, Timing]]:
    """Call each factory (outside any timing): the callables, and a Timing for each case,
    already holding the reason of a case that raised Skip or failed here."""
    fns: dict[K, Fn] = {}
    timings: dict[K, Timing] = {}
    for key, make in factories.items():
        try:
            fns[key] = make()
            timings[key] = Timing()
        except Skip as exc:
            timings[key] = Timing(skipped=str(exc))
        except Exception as exc:  # noqa: BLE001 - a peer's failure is a result
            timings[key] = Timing(error=failure(exc))
    return fns, timings


def compare(out: Any, truth: np.ndarray, tolerance: int = 0) -> str | None:
    """None when `out` equals `truth` (reshaped when the sizes match), or differs by at
    most `tolerance` anywhere (lossy data), else a short description of the difference."""
    a = np.asarray(out)
    if a.shape != truth.shape:
        if a.size != truth.size:
            return f"shape {a.shape} != {truth.shape}"
        a = a.reshape(truth.shape)
    if a.dtype != truth.dtype:
        return f"dtype {a.dtype} != {truth.dtype}"
    if np.array_equal(a, truth):
        return None
    if tolerance:
        diff = np.abs(a.astype(np.int64) - truth)
        if diff.max() <= tolerance:
            return None
        return f"{int(np.count_nonzero(diff > tolerance))} values differ by > {tolerance}"
    return f"{int(np.count_nonzero(a != truth))} values differ"


def interleaved(fns: Mapping[K, Fn], timings: dict[K, Timing], *, runs: int = 3,
                budget: float = 0.0, max_runs: int = 0, burst: float = 0.0, warmup: int = 0,
                slow: float = float("inf"), always: Collection[K] = (),
                check: Callable[[K, Any], str | None] | None = None,
                progress: Progress | None = None) -> dict[K, Timing]:
    """Time every case of `fns` into `timings`, interleaved: round after round, each case
    runs for `burst` seconds (at least one call, each call timed, after a garbage collection
    that is not), until every case has `runs` calls and `budget` seconds per case are spent,
    or it has `max_runs` (0: `runs`).  `warmup` untimed calls first (caches, lazy imports).
    A case whose call took over `slow` seconds is not repeated unless it is in `always`.
    `check(key, output)` judges each case's first output, warm-up included (a mismatch
    string or None); a case that raises stops with its error."""
    max_runs = max(max_runs, runs)
    active = {k: fn for k, fn in fns.items() if not timings[k].error}
    for key, fn in list(active.items()):
        try:
            for i in range(warmup):
                out = fn()
                if i == 0 and check is not None:  # the first output of all is judged
                    timings[key].mismatch = check(key, out)
                del out
        except Exception as exc:  # noqa: BLE001
            timings[key].error = failure(exc)
            del active[key]
    clock = time.perf_counter
    end = clock() + budget * len(active)
    while active:
        for key, fn in list(active.items()):
            t = timings[key]
            if progress is not None:
                progress.step(str(key))
            gc.collect()
            stop = clock() + burst
            while True:
                c0, t0 = time.process_time(), clock()
                try:
                    out = fn()
                except Exception as exc:  # noqa: BLE001 - reported, never fatal
                    t.error = failure(exc)
                    break
                t1, c1 = clock(), time.process_time()
                t.wall.append(t1 - t0)
                t.cpu.append(c1 - c0)
                if len(t.wall) == 1 and check is not None and not warmup:
                    t.mismatch = check(key, out)
                del out
                if len(t.wall) >= max_runs or t1 >= stop:
                    break
            done = len(t.wall) >= max_runs or (len(t.wall) >= runs and clock() >= end)
            if t.error or done or (key not in always and t.wall[-1] > slow):
                del active[key]
                if progress is not None and not t.error:
                    progress.skip(max(0, runs - len(t.wall)))
    return timings


class Progress:
    """A one-line progress bar on a terminal stream (stderr), drawn only once a run has
    lasted `after` seconds, so that short runs print nothing."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool | None = None,
                 after: float = 1.0, width: int = 30) -> None:
        self.stream = sys.stderr if stream is None else stream
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total, self.enabled, self.width = max(total, 1), enabled, width
        self.done, self.start, self.after, self.drawn = 0, time.perf_counter(), after, False

    def step(self, label: str = "") -> None:
        self.done += 1
        if not self.enabled or time.perf_counter() - self.start < self.after:
            return
        filled = self.width * min(self.done, self.total) // self.total
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} {label[:40]:<40}")
        self.stream.flush()
        self.drawn = True

    def skip(self, steps: int) -> None:
        """Count steps that will not run (a case skipped or stopped), without drawing."""
        self.done += steps

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r" + " " * (self.width + 55) + "\r")
            self.stream.flush()
