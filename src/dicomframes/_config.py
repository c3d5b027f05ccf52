"""What this installation of dicomframes runs with: :func:`show_config` prints it
(``dicomframes --config`` too), :func:`config` returns it as a dict.

It is what a bug report needs: the version, each decoding engine with its
version, whether its library is the one bundled in the wheel or one of the
system's (the file it was loaded from tells), the SIMD variant where known,
and Python, numpy and the platform.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, TextIO, overload

import numpy as np

__all__ = ["config", "show_config"]

# Packages whose versions matter to a report, when installed (never imported here).
_OPTIONAL_PACKAGES = ("pydicom", "pillow", "torch", "dask", "fsspec")

# Environment variables that change libjpeg-turbo's SIMD choice (its jsimd_can_* read them).
_JSIMD_VARIABLES = ("JSIMD_FORCENONE", "JSIMD_FORCEMMX", "JSIMD_FORCESSE", "JSIMD_FORCESSE2",
                    "JSIMD_FORCEAVX2", "JSIMD_FORCENEON", "JSIMD_NOHUFFENC")


def _package_dir() -> Path:
    return Path(__file__).resolve().parent


def _bundle_dirs() -> list[Path]:
    """Where a wheel's repair tool puts the libraries it bundles: auditwheel and
    delvewheel in ``dicomframes.libs`` beside the package, delocate in
    ``dicomframes/.dylibs``; a static link leaves them in the package itself."""
    package = _package_dir()
    return [package, package.parent / "dicomframes.libs", package / ".dylibs"]


def _origin(path: str, core: str) -> str:
    """'bundled' (in the package or its wheel's library folder), 'static' (linked
    into the extension module itself), 'system', or 'unknown' (no path)."""
    if not path:
        return "unknown"
    resolved = Path(path).resolve()
    if core and resolved == Path(core).resolve():
        return "static"
    for folder in _bundle_dirs():
        if resolved.is_relative_to(folder):
            return "bundled"
    return "system"


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _libjpeg_simd(compiled: str, cpu: str) -> str | None:
    """libjpeg-turbo picks its SIMD at run time and exports no way to ask which:
    this is its rule on x86-64 (AVX2 where the CPU has it, else SSE2) and ARM64
    (NEON), with the JSIMD_FORCE* overrides. None for plain libjpeg or elsewhere."""
    if "turbo" not in compiled:
        return None
    forced = [name for name in _JSIMD_VARIABLES if os.environ.get(name) == "1"]
    machine = platform.machine().lower()
    if "JSIMD_FORCENONE" in forced:
        level = "none"
    elif machine in ("x86_64", "amd64"):
        level = "avx2" if "avx2" in cpu.split() and "JSIMD_FORCESSE2" not in forced else "sse2"
    elif machine in ("aarch64", "arm64"):
        level = "neon"
    else:
        return None
    note = f"; forced by {', '.join(forced)}" if forced else ""
    return f"{level} (inferred from the CPU; libjpeg-turbo does not report it{note})"


def config() -> dict[str, Any]:
    """The configuration as a dict (JSON-serialisable): ``dicomframes``,
    ``engines`` (one entry per decoder), ``cpu``, ``python``, ``numpy``,
    ``platform`` and ``packages`` (optional packages' versions, None when absent)."""
    from . import __version__
    from ._codecs import engine_config

    raw = engine_config()
    core = raw["core"]["path"]
    simd = raw["simd"]
    cpu = simd["cpu"]
    engines: dict[str, dict[str, Any]] = {}

    opj = raw["openjpeg"]
    engines["openjpeg"] = {
        "decodes": "JPEG 2000, HTJ2K",
        "version": opj["version"],
        "compiled_against": opj["compiled"] or None,
        "library": opj["path"] or None,
        "origin": _origin(opj["path"], core),
        "simd": None,  # fixed when OpenJPEG was built; it does not report it
    }
    jpeg = raw["libjpeg"]
    engines["libjpeg"] = {
        "decodes": "8-bit DCT JPEG (baseline, extended, progressive)",
        # libjpeg has no run-time version call: this is the header's.
        "version": jpeg["compiled"],
        "compiled_against": jpeg["compiled"],
        "library": jpeg["path"] or None,
        "origin": _origin(jpeg["path"], core),
        "simd": _libjpeg_simd(jpeg["compiled"], cpu),
    }
    zlib = raw["zlib"]
    engines["zlib"] = {
        "decodes": "Deflated Explicit VR Little Endian, Deflated Image Frame Compression",
        "version": zlib["version"],
        "compiled_against": zlib["compiled"],
        "library": zlib["path"] or None,
        "origin": _origin(zlib["path"], core),
        "simd": None,
    }
    own = {"version": __version__, "compiled_against": None, "library": core or None,
           "origin": "builtin"}
    engines["rle"] = {"decodes": "RLE Lossless", **own, "simd": simd["rle_interleave"]}
    engines["jpeg-ls"] = {"decodes": "JPEG-LS lossless and near-lossless", **own,
                          "simd": None}
    engines["jpeg"] = {"decodes": "JPEG lossless (SOF3) and 12-bit DCT", **own,
                       "simd": f"12-bit IDCT: {simd['jpeg_dct12']}"}
    engines["native"] = {"decodes": "uncompressed (native) Pixel Data", **own, "simd": None}

    return {
        "dicomframes": {"version": __version__, "path": str(_package_dir())},
        "engines": engines,
        "cpu": {"machine": platform.machine(), "features": cpu.split(),
                "count": os.cpu_count()},
        "python": {"version": platform.python_version(),
                   "implementation": platform.python_implementation(),
                   "executable": sys.executable},
        "numpy": {"version": np.__version__},
        "platform": {"system": platform.system(), "release": platform.release(),
                     "platform": platform.platform(),
                     "libc": " ".join(platform.libc_ver()).strip() or None},
        "packages": {name: _version(name) for name in _OPTIONAL_PACKAGES},
    }


def format_config(info: dict[str, Any]) -> str:
    """The printed form of :func:`config`'s dict."""
    lines = [f"dicomframes {info['dicomframes']['version']}  ({info['dicomframes']['path']})",
             "", "engines:"]
    for name, engine in info["engines"].items():
        line = f"  {name:<9} {engine['version']:<24} {engine['origin']}"
        if engine["simd"]:
            line += f", SIMD {engine['simd']}"
        lines.append(line)
        detail = [engine["decodes"]]
        if engine["compiled_against"] and engine["compiled_against"] != engine["version"]:
            detail.append(f"compiled against {engine['compiled_against']}")
        if engine["library"] and engine["origin"] != "builtin":
            detail.append(engine["library"])
        lines.append("            " + "; ".join(detail))
    cpu = info["cpu"]
    py = info["python"]
    plat = info["platform"]
    packages = ", ".join(f"{name} {version}" for name, version in info["packages"].items()
                         if version) or "none"
    lines += [
        "",
        f"cpu:      {cpu['machine']}, {cpu['count']} cores, "
        f"{' '.join(cpu['features']) or 'no SIMD features known'}",
        f"python:   {py['implementation']} {py['version']} ({py['executable']})",
        f"numpy:    {info['numpy']['version']}",
        f"platform: {plat['platform']}" + (f", {plat['libc']}" if plat["libc"] else ""),
        f"optional: {packages}",
    ]
    return "\n".join(lines)


@overload
def show_config(as_dict: Literal[False] = False, *, file: TextIO | None = None) -> None: ...
@overload
def show_config(as_dict: Literal[True], *, file: TextIO | None = None) -> dict[str, Any]: ...
def show_config(as_dict: bool = False, *, file: TextIO | None = None) -> dict[str, Any] | None:
    """Print what this installation runs with (paste it into a bug report).
    With ``as_dict=True`` return :func:`config`'s dict instead of printing."""
    info = config()
    if as_dict:
        return info
    print(format_config(info), file=file if file is not None else sys.stdout)
    return None
