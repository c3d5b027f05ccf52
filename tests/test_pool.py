"""The C worker pool (csrc/dcf_pool.c) and batch decoder (csrc/dcf_batch.c) under
ThreadSanitizer: tests/c/stress_pool.c runs jobs from four threads at once with 1-9
workers, sleeps longer than the workers spin, prewakes, and batches of RLE frames with
corrupt ones, checking every part ran once, every write is visible after the job, and
the failure reported is the first corrupt frame's.

The pool and the batch decoder are built with -fsanitize=thread; the codecs they call
are built plain (TSan instruments the JPEG kernels' ifunc resolvers, which run before it
starts, and crashes), so TSan sees every synchronisation the pool makes and the writes
of the test's own tasks. Skipped where no C compiler with TSan is found."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CSRC = ROOT / "csrc"
SANITIZED = {"dcf_pool.c", "dcf_batch.c"}


def _compiler() -> str:
    for cc in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if cc and shutil.which(cc):
            return cc
    pytest.skip("no C compiler")


def _openjpeg_flags() -> list[str]:
    try:
        out = subprocess.run(["pkg-config", "--cflags", "libopenjp2"], capture_output=True,
                             text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        out = [f"-I{p}" for p in sorted(Path("/usr/include").glob("openjpeg-2*"))]
    return out


# `make asan` preloads ASan into the interpreter: a TSan program must not inherit it
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS")}


def test_pool_and_batch_under_thread_sanitizer(tmp_path):
    cc = _compiler()
    probe = tmp_path / "probe.c"
    probe.write_text("int main(void) { return 0; }\n")
    built = subprocess.run([cc, "-fsanitize=thread", str(probe), "-o", str(tmp_path / "probe")],
                           capture_output=True, env=CLEAN_ENV)
    if built.returncode or subprocess.run([str(tmp_path / "probe")], env=CLEAN_ENV).returncode:
        pytest.skip(f"{cc} cannot build with -fsanitize=thread")
    common = ["-std=c11", "-D_GNU_SOURCE", "-g", "-O1", f"-I{CSRC}", *_openjpeg_flags()]
    objects = []
    for source in sorted(CSRC.glob("*.c")):
        obj = tmp_path / (source.stem + ".o")
        flags = ["-fsanitize=thread"] if source.name in SANITIZED else []
        subprocess.run([cc, *common, *flags, "-c", str(source), "-o", str(obj)], check=True,
                       env=CLEAN_ENV)
        objects.append(str(obj))
    exe = tmp_path / "stress_pool"
    linked = subprocess.run([cc, *common, "-fsanitize=thread", str(ROOT / "tests/c/stress_pool.c"),
                             *objects, "-lopenjp2", "-ljpeg", "-lz", "-ldl", "-lpthread", "-o",
                             str(exe)], capture_output=True, text=True, env=CLEAN_ENV)
    if linked.returncode and "cannot find -l" in linked.stderr:
        pytest.skip(f"codec libraries to link the stress test against: {linked.stderr[-300:]}")
    assert linked.returncode == 0, linked.stderr[-4000:]
    # halt_on_error: a data race fails the run instead of being printed and forgotten
    env = dict(CLEAN_ENV, TSAN_OPTIONS="halt_on_error=1 exitcode=66")
    result = subprocess.run([str(exe)], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0 and result.stdout.strip() == "ok", (
        result.returncode, result.stdout[-2000:], result.stderr[-4000:])
