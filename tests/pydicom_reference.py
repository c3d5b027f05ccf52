"""pydicom's own pixel reference checks (``tests/pixels/pixels_reference.py``), offline.

pydicom's wheel has no tests, so the reference module is taken from the source
distribution of the *installed* pydicom version, fetched once with pip into a
cache folder::

    pip download --no-binary :all: --no-deps pydicom==<version> -d <cache>

Only ``tests/pixels/pixels_reference.py`` is extracted and imported. Each of
its ``PixelReference`` objects names a test file and carries pydicom's own
check of the decoded array (``ref.test(arr, index=...)``). The files come from
``pydicom.data.get_testdata_file``, which would download the pydicom-data ones
from GitHub; here nothing but PyPI is used, so the module's
``get_testdata_file`` is replaced by :class:`TestDataResolver`, which looks in

1. pydicom's bundled test files and installed external data sources
   (``get_testdata_file(name, download=False)``),
2. pydicom's download cache (``~/.pydicom/data``),
3. the conformance corpus (``<repo>/../shared/corpus``, or ``$DCF_CORPUS``),

taking a file from 2 or 3 only when its SHA-256 matches pydicom's
``hashes.json`` (so it is the pydicom-data file). Entries whose files are
found nowhere are reported as unavailable, never downloaded.

Set ``DCF_NO_SDIST=1`` to skip the download (the checks are then skipped). A
failed download is not retried for an hour (``DCF_RETRY_SDIST=1`` forces it).
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = REPO / "tests" / ".cache" / "pydicom-sdist"
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
REFERENCE_MEMBER = "tests/pixels/pixels_reference.py"
PIP_TIMEOUT_S = 180
RETRY_AFTER_S = 3600


@dataclass
class Loaded:
    """The outcome of :func:`load_reference`: the module, or why there is none."""

    module: ModuleType | None
    reason: str
    resolver: "TestDataResolver | None" = None


def pydicom_version() -> str:
    import pydicom

    return pydicom.__version__


def _sdist_in(cache: Path, version: str) -> Path | None:
    for name in (f"pydicom-{version}.tar.gz", f"pydicom-{version}.zip"):
        path = cache / name
        if path.is_file() and path.stat().st_size > 0:
            return path
    return None


def fetch_sdist(cache: Path, version: str | None = None) -> tuple[Path | None, str]:
    """The pydicom sdist of `version` (default: installed) in `cache`,
    downloaded with pip when absent. Returns (path, "") or (None, reason)."""
    version = version or pydicom_version()
    cache.mkdir(parents=True, exist_ok=True)
    found = _sdist_in(cache, version)
    if found is not None:
        return found, ""
    if os.environ.get("DCF_NO_SDIST"):
        return None, "DCF_NO_SDIST is set: the pydicom sdist is not downloaded"
    # After a failed download (offline CI) pip is not tried again for a while,
    # so that each test run does not wait for it; DCF_RETRY_SDIST=1 forces it.
    failed = cache / f"pydicom-{version}.download-failed"
    if (failed.is_file() and not os.environ.get("DCF_RETRY_SDIST")
            and time.time() - failed.stat().st_mtime < RETRY_AFTER_S):
        return None, failed.read_text(encoding="utf-8", errors="replace").strip()
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:",
               "--no-deps", "--timeout", "20", "--retries", "1", f"pydicom=={version}",
               "-d", str(cache)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S,
                              check=False)
        reason = ""
    except (OSError, subprocess.TimeoutExpired) as exc:
        done, reason = None, f"cannot download the pydicom {version} sdist with pip: {exc}"
    found = _sdist_in(cache, version)
    if found is None:
        if done is not None:
            tail = (done.stderr or done.stdout).strip().splitlines()[-2:]
            reason = (f"cannot download the pydicom {version} sdist with pip "
                      f"(exit {done.returncode}): {' | '.join(tail)}")
        reason += f" (not retried for {RETRY_AFTER_S // 60} min; DCF_RETRY_SDIST=1 forces it)"
        failed.write_text(reason, encoding="utf-8")
        return None, reason
    failed.unlink(missing_ok=True)
    return found, ""


def extract_reference(sdist: Path, dest: Path) -> Path:
    """Write the sdist's tests/pixels/pixels_reference.py to `dest` (only that
    member is read; nothing else of the archive is unpacked)."""
    target = dest / f"{sdist.name.split('.tar')[0].split('.zip')[0]}_pixels_reference.py"
    if target.is_file() and target.stat().st_size > 0:
        return target
    with tarfile.open(sdist, "r:*") as archive:
        member = next((m for m in archive.getmembers()
                       if m.isfile() and m.name.split("/", 1)[-1] == REFERENCE_MEMBER), None)
        if member is None:
            raise FileNotFoundError(f"{REFERENCE_MEMBER} is not in {sdist}")
        data = archive.extractfile(member).read()  # type: ignore[union-attr]
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


class TestDataResolver:
    """``get_testdata_file(name, read=False, download=True)`` without network."""

    __test__ = False  # not a pytest test class

    def __init__(self, corpus: Path | None = None) -> None:
        import pydicom.data

        data_root = Path(pydicom.data.__file__).parent
        try:
            self.hashes: dict[str, str] = json.loads((data_root / "hashes.json").read_text())
        except (OSError, ValueError):
            self.hashes = {}
        env = os.environ.get("DCF_CORPUS")
        self.corpus = Path(env) if env else (corpus or DEFAULT_CORPUS)
        self.cache = Path.home() / ".pydicom" / "data"
        self.missing: set[str] = set()
        self.where: dict[str, str] = {}

    def _verified(self, path: Path, name: str) -> bool:
        expected = self.hashes.get(name)
        if expected is None or not path.is_file():
            return False
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return digest == expected

    def path(self, name: str) -> str | None:
        from pydicom.data import get_testdata_file

        found = get_testdata_file(name, download=False)
        if found is not None:
            self.where[name] = "pydicom"
            return os.fspath(found)
        for label, folder in (("pydicom cache", self.cache), ("corpus", self.corpus)):
            candidate = folder / name
            if self._verified(candidate, name):
                self.where[name] = label
                return os.fspath(candidate)
        self.missing.add(name)
        return None

    def __call__(self, name: str, read: bool = False, download: bool = True) -> Any:
        path = self.path(name)
        if read and path is not None:
            from pydicom import dcmread

            return dcmread(path, force=True)
        return path


def load_reference(cache: Path | None = None) -> Loaded:
    """Fetch, extract and import pixels_reference.py for the installed pydicom."""
    try:
        version = pydicom_version()
    except ImportError:
        return Loaded(None, "pydicom is not installed")
    cache = cache or DEFAULT_CACHE
    sdist, reason = fetch_sdist(cache, version)
    if sdist is None:
        return Loaded(None, reason)
    try:
        source = extract_reference(sdist, cache)
    except (OSError, tarfile.TarError) as exc:
        return Loaded(None, f"cannot read {REFERENCE_MEMBER} from {sdist}: {exc}")
    name = f"_pydicom_{version.replace('.', '_')}_pixels_reference"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, source)
        if spec is None or spec.loader is None:
            return Loaded(None, f"cannot import {source}")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # an incompatible reference file: report, don't crash
            return Loaded(None, f"cannot import {source}: {exc!r}")
        sys.modules[name] = module
    resolver = TestDataResolver()
    module.get_testdata_file = resolver  # used by PixelReference.ds and the checks
    return Loaded(module, f"pydicom {version} {REFERENCE_MEMBER}", resolver)


def required_files(ref: Any) -> list[str]:
    """The test files a reference entry needs: its own and those its check
    reads (e.g. the uncompressed twin it compares with)."""
    names = [ref.name]
    try:
        source = inspect.getsource(ref._test)
    except (OSError, TypeError):
        return names
    names += [n for n in re.findall(r"get_testdata_file\(\s*[\"']([^\"']+)[\"']", source)
              if n not in names]
    return names


def reference_entries(module: ModuleType, uids: list[str]) -> list[tuple[str, str, Any]]:
    """[(transfer syntax UID, variable name, PixelReference)] for `uids`, in
    the order of the module's PIXEL_REFERENCE lists."""
    names = {id(value): key for key, value in vars(module).items()
             if type(value).__name__ == "PixelReference"}
    entries = []
    for uid in uids:
        for ref in module.PIXEL_REFERENCE.get(uid, []):
            entries.append((uid, names.get(id(ref), ref.name), ref))
    return entries
