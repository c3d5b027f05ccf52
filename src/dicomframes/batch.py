"""Running many tasks at once on a Python thread pool owned by the library.

A batch of frames of one file as stored (``frames()`` of native data, or of a
codec of csrc/dcf_batch.h) is decoded wholly in C on the C pool (csrc/dcf_pool.c);
this pool runs the rest: frames that need Python between them (rescale, colour,
reduce, remote fetches), series of files, header reads. The codecs and the native
converter release the GIL, so Python threads decode in parallel. One pool serves
every call: created on first use, grown when a call asks for more threads,
replaced after a fork (its threads do not exist in the child: data-loader workers
fork) and shut down at exit. The calling thread works too, so ``threads=2`` is
the caller plus one pool thread.
"""

from __future__ import annotations

import atexit
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

__all__ = ["resolve_threads", "run_parallel"]

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
# Set in pool threads: a decode that itself asks for threads runs serially
# there rather than waiting on the pool it occupies.
_inside = threading.local()


def resolve_threads(threads: int | None) -> int:
    """`threads` as a count: None means os.cpu_count()."""
    if threads is None:
        return os.cpu_count() or 1
    if isinstance(threads, bool) or not isinstance(threads, int):
        raise TypeError(f"threads must be an int or None, not {type(threads).__name__}")
    if threads < 1:
        raise ValueError(f"threads must be at least 1, not {threads}")
    return threads


def _mark_worker() -> None:
    _inside.active = True


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size < workers:
            old = _pool
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dicomframes",
                                       initializer=_mark_worker)
            _pool_size = workers
            if old is not None:
                old.shutdown(wait=False)  # its running tasks finish; new work goes to the new one
        return _pool


def _shutdown() -> None:
    global _pool, _pool_size
    with _lock:
        pool, _pool, _pool_size = _pool, None, 0
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _forget_after_fork() -> None:
    global _pool, _pool_size, _lock
    _lock = threading.Lock()
    _pool, _pool_size = None, 0


atexit.register(_shutdown)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


class _Blocks:
    """Positions 0..count-1 split into one contiguous block per worker. A worker
    takes its own block in order, then steals from the far end of the block
    with the most left. Contiguous blocks keep each thread's output writes
    together: interleaved frames would have two threads faulting in the same
    (huge) pages of a fresh output array, which the kernel serialises.

    After a failure at position p, only positions below p are handed out, so
    that the failure raised is the one of the first failing position."""

    def __init__(self, count: int, workers: int) -> None:
        bounds = [count * w // workers for w in range(workers + 1)]
        self.next = bounds[:-1]
        self.end = bounds[1:]
        self.limit = count
        self.lock = threading.Lock()

    def take(self, worker: int) -> int | None:
        with self.lock:
            if self.next[worker] < min(self.end[worker], self.limit):
                position = self.next[worker]
                self.next[worker] += 1
                return position
            victim = max(range(len(self.end)),
                         key=lambda w: min(self.end[w], self.limit) - self.next[w])
            if min(self.end[victim], self.limit) > self.next[victim]:
                self.end[victim] = min(self.end[victim], self.limit) - 1
                return self.end[victim]
            return None

    def failed(self, position: int) -> None:
        with self.lock:
            self.limit = min(self.limit, position)


def run_parallel(task: Callable[[int], None], count: int, threads: int) -> None:
    """Call ``task(i)`` for i in range(count) on up to `threads` threads (the
    caller's included), each working through its own contiguous block and then
    helping the others. When a task fails, positions after it are no longer
    started; once every thread has stopped, the failure of the lowest position
    is raised. Nothing is raised while work is still running."""
    workers = min(threads, count)
    if workers <= 1 or getattr(_inside, "active", False):
        for i in range(count):
            task(i)
        return
    blocks = _Blocks(count, workers)
    failures: list[tuple[int, BaseException]] = []
    # The task reaches the pool threads through this list, emptied once the work is
    # done: a pool thread may still hold its work item (and so `work`) for a moment
    # after the caller returns, and must not keep the task's data (a file's mapping,
    # through its frame source) alive with it.
    tasks = [task]

    def work(worker: int) -> None:
        run = tasks[0]
        while True:
            position = blocks.take(worker)
            if position is None:
                return
            try:
                run(position)
            except BaseException as exc:  # re-raised in the caller below
                failures.append((position, exc))
                blocks.failed(position)

    pool = _executor(workers - 1)
    futures = [pool.submit(work, worker) for worker in range(1, workers)]
    try:
        work(0)
        for future in futures:
            if not future.cancel():  # still queued: its block was taken over, drop it
                future.result()
    finally:
        tasks.clear()
    if failures:
        raise min(failures, key=lambda failure: failure[0])[1]
