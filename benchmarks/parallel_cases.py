"""Parallel-throughput cases: every frame of a codec file or a series, at 1 and t threads.

Shared by ``parallel_report.py`` and ``test_bench_parallel.py``.  Inputs:

* the multi-frame codec files of make_codec_files.py (keys ``ct_rle``, ``us_j2k``, ...);
* the 300-file single-frame CT series of make_series.py (keys ``series_rle``, ...).

Each becomes a ``dicomframes.bench.Target``; the cases are ``dicomframes.bench.CASES``
(dicomframes with its own pool; each peer serially at 1 thread and from a
``ThreadPoolExecutor(t)`` made outside the timed call), plus two series-only cases here:

* ``dicomframes sort=instance``: ``read_frames(paths in directory-listing order,
  sort="instance")`` (the file names are shuffled, so this checks the sort too);
* ``torch DataLoader``: ``DataLoader(dicomframes.torch.FrameDataset(paths), batch_size=16,
  num_workers=0 at 1 thread, t at t threads, persistent workers)``, batches concatenated;
  skipped when torch or dicomframes.torch is absent.

The ground truth is independent of dicomframes: the native file (or native series) of the
same content read by pydicom.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

import make_codec_files
import make_series
from dicomframes import bench

SORTED = "dicomframes sort=instance"
TORCH = "torch DataLoader"
TORCH_BATCH = 16


@dataclass(frozen=True)
class Input:
    """One benchmark input: the bench Target, its generator's record, and where its ground
    truth comes from."""

    key: str
    target: bench.Target
    source: make_codec_files.CodecFile | make_series.Series

    @property
    def syntax(self) -> str:
        """Key of make_codec_files.SYNTAXES: raw, rle, jls, j2k, htj2k."""
        return self.source.syntax

    @property
    def truth_key(self) -> str:
        return "series" if isinstance(self.source, make_series.Series) else \
            self.source.kind.name


def inputs(keys: list[str] | None = None) -> dict[str, Input]:
    """Every input (generated on first use), or those of `keys`, in a stable order."""
    found: dict[str, Input] = {}
    want = set(keys) if keys else None
    if want is None or any(not k.startswith("series_") for k in want):
        for key, cf in make_codec_files.codec_files().items():
            if want is None or key in want:
                found[key] = Input(key, bench.target([cf.path], label=key), cf)
    if want is None or any(k.startswith("series_") for k in want):
        for key, s in make_series.series().items():
            if want is None or key in want:
                found[key] = Input(key, bench.target(s.paths, label=key), s)
    return found


def truth(truth_key: str) -> np.ndarray:
    """The native data read by pydicom: ``"ct"``, ``"us"`` (codec files) or ``"series"``."""
    from pydicom.pixels import pixel_array

    if truth_key == "series":
        raw = make_series.series(("raw",))["series_raw"]
        return np.stack([pixel_array(p) for p in raw.paths])
    return pixel_array(str(make_codec_files.file_path(truth_key, "raw")))


def _sorted(t: bench.Target, threads: int, pool: Executor | None) -> bench.Fn:
    import dicomframes

    if not t.is_series:
        raise bench.Skip("series only")
    listing = sorted(t.paths)  # name order: shuffled with respect to the slices
    return lambda: dicomframes.read_frames(listing, threads=threads, sort="instance")


def _torch(t: bench.Target, threads: int, pool: Executor | None) -> bench.Fn:
    if not t.is_series:
        raise bench.Skip("series only")
    try:
        import torch
        from torch.utils.data import DataLoader

        from dicomframes.torch import FrameDataset
    except ImportError as exc:
        raise bench.Skip(f"not installed ({exc.name or exc})") from None
    workers = 0 if threads == 1 else threads
    # workers start once (persistent) and are warmed here, outside the timed call
    loader = DataLoader(FrameDataset(list(t.paths)), batch_size=TORCH_BATCH,
                        num_workers=workers, persistent_workers=workers > 0)
    next(iter(loader))

    def run():
        return torch.cat(list(loader)).numpy()

    return run


CASES: dict[str, Callable[[bench.Target, int, Executor | None], bench.Fn]] = {
    "dicomframes": bench.CASES["dicomframes"],
    SORTED: _sorted,
    **{k: v for k, v in bench.CASES.items() if k != "dicomframes"},
    TORCH: _torch,
}

NOTES = {
    **bench.PEER_NOTES,
    SORTED: "series only: `read_frames(paths in directory-listing order, threads=t, "
            "sort=\"instance\")` (file names are shuffled)",
    TORCH: f"series only: `DataLoader(dicomframes.torch.FrameDataset(paths), "
           f"batch_size={TORCH_BATCH}, num_workers=0 | t, persistent_workers=True)`, batches "
           f"concatenated (workers started and warmed outside the timed call)",
}
