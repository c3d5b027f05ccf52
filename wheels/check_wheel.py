#!/usr/bin/env python3
"""Check a repaired Linux wheel of dicomframes; exit 1 with the reasons when it falls short.

    python wheels/check_wheel.py wheelhouse/dicomframes-*-manylinux_*.whl [--source src/dicomframes]

* contents: no Cython sources (.pyx/.pxd), generated C, objects or caches; py.typed and every
  src/dicomframes/*.pyi of the source tree are in it;
* bundling: each codec library an extension needs (OpenJPEG, libjpeg) is a copy inside
  dicomframes.libs/ under a hash-mangled soname (auditwheel), reached through an RPATH of
  $ORIGIN/../dicomframes.libs; nothing else is needed outside the manylinux policy's list
  (libc, libm, libz, ...);
* symbols (`nm -D --defined-only`): an extension exports PyInit_<module> and nothing else, so no
  codec symbol (opj_*, jpeg_*, jinit_*, inflate*, ...) of ours is visible to the process.
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

FORBIDDEN = ["*.pyx", "*.pxd", "*.c", "*.h", "*.o", "*.a", "*.pyc", "*/__pycache__/*",
             "*CMakeCache.txt", "*CMakeFiles/*", "*.ninja*"]
# What a manylinux wheel may take from the system (auditwheel's policy list, the part we meet).
SYSTEM_OK = re.compile(r"^(libc|libm|libz|libpthread|libdl|librt|ld-linux-x86-64|ld-linux-aarch64"
                       r"|libgcc_s)\.so(\.\d+)*$")
CODECS = {"libopenjp2": "OpenJPEG", "libjpeg": "libjpeg-turbo"}
LINKER_SYMBOLS = {"_init", "_fini", "__bss_start", "_edata", "_end"}


def readelf_dynamic(path: Path) -> tuple[list[str], list[str], str | None]:
    out = subprocess.run(["readelf", "-d", str(path)], check=True, capture_output=True,
                         text=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", out)
    rpath = re.findall(r"\((?:RPATH|RUNPATH)\)\s+Library r(?:un)?path: \[(.+?)\]", out)
    soname = re.findall(r"\(SONAME\)\s+Library soname: \[(.+?)\]", out)
    return needed, rpath, soname[0] if soname else None


def exported(path: Path) -> set[str]:
    out = subprocess.run(["nm", "-D", "--defined-only", str(path)], check=True,
                         capture_output=True, text=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()} - LINKER_SYMBOLS


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheel", type=Path)
    ap.add_argument("--source", type=Path, default=Path("src/dicomframes"))
    args = ap.parse_args()
    problems: list[str] = []
    with zipfile.ZipFile(args.wheel) as zf:
        names = zf.namelist()
        for name in names:
            if any(fnmatch.fnmatch(name, pat) for pat in FORBIDDEN):
                problems.append(f"build leftover or source in the wheel: {name}")
        wanted = [p.name for p in args.source.glob("*.pyi")]
        if (args.source / "py.typed").exists():
            wanted.append("py.typed")
        for stub in wanted:
            if f"dicomframes/{stub}" not in names:
                problems.append(f"dicomframes/{stub} is in the source tree but not in the wheel")
        print(f"{args.wheel.name}: {len(names)} files, {args.wheel.stat().st_size / 1e6:.2f} MB; "
              f"typing files: {', '.join(wanted) or 'none in the source tree yet'}")
        with tempfile.TemporaryDirectory() as tmp:
            zf.extractall(tmp)
            root = Path(tmp)
            bundled = {p.name: p for p in (root / "dicomframes.libs").glob("*.so*")}
            for name, path in sorted(bundled.items()):
                _, _, soname = readelf_dynamic(path)
                print(f"  bundled: dicomframes.libs/{name} (soname {soname}, "
                      f"{path.stat().st_size // 1024} KiB)")
                if soname != name or not re.match(r"^lib[\w+]+-[0-9a-f]{8}\.so", name):
                    problems.append(f"{name}: soname {soname} is not a mangled private name")
            codec_seen = set()
            for ext in sorted((root / "dicomframes").glob("*.so")):
                needed, rpath, _ = readelf_dynamic(ext)
                for lib in needed:
                    stem = lib.split("-")[0].split(".so")[0]
                    if lib in bundled:
                        codec_seen.add(stem)
                        if not any("$ORIGIN/../dicomframes.libs" in r for r in rpath):
                            problems.append(f"{ext.name}: needs {lib} but has no RPATH to it")
                    elif stem in CODECS:
                        problems.append(f"{ext.name}: needs the system's {lib} ({CODECS[stem]})")
                    elif not SYSTEM_OK.match(lib):
                        problems.append(f"{ext.name}: needs {lib}, neither bundled nor allowed")
                symbols = exported(ext)
                module = ext.name.split(".")[0]
                extra = sorted(symbols - {f"PyInit_{module}"})
                if extra:
                    problems.append(f"{ext.name}: exports {len(extra)} more symbols: "
                                    f"{', '.join(extra[:12])}")
                print(f"  {ext.name}: needs {', '.join(needed)}; exports {', '.join(sorted(symbols))}")
            for stem, what in CODECS.items():
                if stem not in codec_seen:
                    problems.append(f"no extension links a bundled {stem} ({what})")
    for p in problems:
        print(f"FAIL: {p}", file=sys.stderr)
    print("wheel check: " + ("FAILED" if problems else "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
