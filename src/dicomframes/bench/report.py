"""The report writer: markdown tables of timings, the machine, the one ``versions()``."""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np

from .inputs import MB, Input
from .timing import Timing

PEER_DISTRIBUTIONS = ("pydicom", "pylibjpeg", "pylibjpeg-rle", "pylibjpeg-libjpeg",
                      "pylibjpeg-openjpeg", "pyjpegls", "python-gdcm", "dicomsdl",
                      "imagecodecs", "torch")


def load() -> str:
    """The load average (1, 5, 15 min): other processes disturb the figures."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    return (f"{cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def _bundled(dist: str) -> str:
    """The codec library versions a peer bundles ("" when unknown or not importable)."""
    try:
        if dist == "pylibjpeg-openjpeg":
            from openjpeg.utils import get_openjpeg_version

            return "OpenJPEG " + ".".join(map(str, get_openjpeg_version()))
        if dist == "imagecodecs":
            import imagecodecs

            return (f"{imagecodecs.jpeg2k_version()}, {imagecodecs.htj2k_version()}, "
                    f"{imagecodecs.jpegls_version()}")
    except Exception:  # noqa: BLE001 - only a label
        return ""
    return ""


def versions() -> str:
    """dicomframes with its codec libraries, numpy, and every installed peer (with the
    codec libraries it bundles, where it says)."""
    import dicomframes

    parts = [f"dicomframes {dicomframes.__version__}"]
    try:
        from .._codecs import codec_versions

        cv = codec_versions()
        parts[0] += f" (OpenJPEG {cv['openjpeg']}, libjpeg {cv['libjpeg']})"
    except (ImportError, AttributeError, KeyError):
        pass
    parts.append(f"numpy {np.__version__}")
    for dist in PEER_DISTRIBUTIONS:
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
        bundled = _bundled(dist)
        parts.append(f"{dist} {version}" + (f" ({bundled})" if bundled else ""))
    return ", ".join(parts)


@dataclass
class Result:
    """The timings of one input, keyed (case name, threads), and the load around them."""

    input: Input
    timings: dict[tuple[str, int], Timing] = field(default_factory=dict)
    load: tuple[str, str] = ("", "")

    @property
    def threads(self) -> list[int]:
        return sorted({t for _, t in self.timings})

    def best(self, name: str, threads: Iterable[int] | None = None, cpu: bool = False,
             ) -> float | None:
        """Minimum time of a case over the given thread counts (all by default), counting
        only correct runs; process CPU time with `cpu`."""
        allowed = None if threads is None else set(threads)
        times = [(t.best_cpu if cpu else t.best) for (n, k), t in self.timings.items()
                 if n == name and (allowed is None or k in allowed)]
        times = [x for x in times if x is not None]
        return min(times) if times else None

    def rate(self, seconds: float | None) -> float | None:
        """MB/s of decoded output."""
        return None if not seconds else self.input.decoded_bytes / MB / seconds

    def fastest(self, names: Iterable[str], threads: Iterable[int] | None = None,
                cpu: bool = False) -> tuple[str | None, float | None]:
        """(name, time) of the fastest correct case among `names`."""
        found = [(t, n) for n in names if (t := self.best(n, threads, cpu)) is not None]
        if not found:
            return None, None
        t, n = min(found)
        return n, t


def markdown(header: Sequence[str], rows: Iterable[Sequence[object]],
             align: str = "") -> list[str]:
    """A markdown table; `align` has one letter per column, "l" or "r" (default: the first
    column left, the others right)."""
    align = align or "l" + "r" * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if a == "l" else "---:" for a in align) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def fmt_time(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    return f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


def fmt_ratio(x: float | None) -> str:
    return "-" if x is None else (f"{x:.2f}x" if x < 10 else f"{x:.1f}x" if x < 100
                                  else f"{x:.0f}x")


def ratio(slower: float | None, faster: float | None) -> float | None:
    return slower / faster if slower and faster else None


def rate_cell(res: Result, t: Timing | None, runs: int = 0, cpu_note: bool = False) -> str:
    """`best (median)` MB/s of one case; n=... when it has fewer than `runs` runs, [x] the
    CPU / wall ratio above 1.15 (`cpu_note`), ✗ a wrong output, ERR a failure, — none."""
    if t is None or t.skipped:
        return "—"
    if not t.wall:
        return "ERR"
    s = f"{res.rate(min(t.wall)):.1f}"
    if len(t.wall) > 1:
        s += f" ({res.rate(t.median):.1f})"
    if len(t.wall) < runs:
        s += f" n={len(t.wall)}"
    if cpu_note:
        load = float(np.median(t.cpu)) / t.median
        s += f" [{load:.2f}]" if load > 1.15 else ""
    return s + (" ✗" if t.mismatch else "") + (" ERR" if t.error else "")


def threads_table(results: Sequence[Result], names: Sequence[str]) -> list[str]:
    """One row per (input, case) that ran: MB/s at each thread count, the case's own
    speed-up, and its best time / dicomframes' at the most threads."""
    threads = sorted({k for r in results for k in r.threads})
    top = max(threads)
    rows = []
    for r in results:
        ours = r.best("dicomframes", [top])
        for name in names:
            if all(r.timings.get((name, k), Timing(skipped="-")).skipped for k in threads):
                continue
            speedup = ratio(r.best(name, [1]), r.best(name, [top]))
            theirs = r.best(name) if name != "dicomframes" else None
            rows.append([r.input.label, name,
                         *(rate_cell(r, r.timings.get((name, k))) for k in threads),
                         "-" if speedup is None else f"{speedup:.2f}x",
                         "" if ratio(theirs, ours) is None else f"{theirs / ours:.2f}x"])
    head = [f"{k} thread{'s' * (k > 1)}" for k in threads]
    return markdown(["target", "decoder", *head, f"{top} / 1", f"dicomframes {top}T / this"],
                    rows, "ll" + "r" * (len(threads) + 2))


def notes(results: Sequence[Result]) -> list[str]:
    """One line per skipped case, failure and wrong output."""
    lines = []
    for r in results:
        said = set()
        for (name, k), t in r.timings.items():
            if t.skipped and name not in said:
                said.add(name)
                at = "" if k == min(r.threads) else f"at {k} threads: "
                lines.append(f"- {r.input.label}: {name} skipped ({at}{t.skipped})")
            if t.error:
                lines.append(f"- {r.input.label}: {name} {k}T failed: {t.error}")
            if t.mismatch:
                lines.append(f"- {r.input.label}: {name} {k}T output differs: {t.mismatch}")
    return lines
