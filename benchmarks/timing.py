"""The one-call timing loop shared by the benchmark reports."""

from __future__ import annotations

import gc
import statistics
import time
from typing import Callable


def measure(fn: Callable[[], object], budget: float, min_rounds: int, max_rounds: int) -> dict:
    """Time `fn` after 3 warm-up calls (caches, lazy imports, page cache): at least
    `min_rounds` calls, then more until `budget` seconds or `max_rounds`. Returns
    min, median (seconds) and rounds."""
    for _ in range(3):
        fn()
    gc.collect()
    times = []
    clock = time.perf_counter
    t_end = clock() + budget
    while len(times) < max_rounds and (len(times) < min_rounds or clock() < t_end):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return {"min": min(times), "median": statistics.median(times), "rounds": len(times)}
