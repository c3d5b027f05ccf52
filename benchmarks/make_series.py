#!/usr/bin/env python3
"""Input of the parallel benchmarks: a CT series of single-frame files, one per syntax.

300 files of one 512 x 512 slice each (CT Image Storage, BitsAllocated 16, BitsStored 16,
PixelRepresentation 1: stored values are Hounsfield units), in each of the syntaxes of
make_codec_files.py (raw, rle, jls, j2k, htj2k), encoded by the same encoders.  The content
is make_codec_files' chest phantom (``ct_frame``) sampled at 300 positions along z.

The geometry is consistent so that sorting can be tested: slice j (0 = most inferior) has
InstanceNumber j + 1 and ImagePositionPatient z = Z0 + j * SPACING (z grows towards the head,
ImageOrientationPatient axial), so sorting by instance number and sorting by position along
the slice normal (ascending) give the same order.  File names are shuffled (a seeded
permutation: ``IM{perm[j]:04d}.dcm``), so a directory listing is NOT slice order.

Files are cached under ``benchmarks/data/series_{syntax}_{VERSION}/`` (git-ignored) with a
``manifest.json`` written last (a directory without one is regenerated), which lists the file
names in slice order with their InstanceNumber and z.  Slices are generated and encoded in a
process pool; about a minute on 2 cores for the five series.

    python benchmarks/make_series.py [--force] [--syntaxes rle,jls] [--workers N]
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import make_codec_files
from make_codec_files import (
    DATA_DIR,
    SYNTAXES,
    Kind,
    SyntaxFile,
    arguments,
    ct_frame,
    encoder_name,
    htj2k_available,
    in_processes,
)

VERSION = "v1"  # bump when the content, the geometry or the encoding recipe changes
SLICES = 300
SPACING = 1.25  # mm between slices (and SliceThickness)
PIXEL_SPACING = 0.7  # mm
Z0 = -400.0  # z of slice 0 (mm)
SEED = 20261123

# one slice of the series: the CT kind of make_codec_files, one frame per file
KIND = Kind("series", 1, 512, 512, 1, 16, 16, 1, "MONOCHROME2",
            "1.2.840.10008.5.1.4.1.1.2", "CT")  # CT Image Storage


@dataclass(frozen=True)
class Series(SyntaxFile):
    """One generated series: its files in slice order, and how they were made."""

    syntax: str  # key of SYNTAXES
    directory: Path
    names: tuple[str, ...]  # file names in slice (= instance = ascending position) order
    encoder: str

    @property
    def kind(self) -> Kind:
        """One slice (``KIND``, named "series": the key is ``series_{syntax}``)."""
        return KIND

    @property
    def paths(self) -> list[str]:
        """Paths in slice order."""
        return [str(self.directory / n) for n in self.names]

    @property
    def listing(self) -> list[str]:
        """Paths in directory-listing (sorted name) order: shuffled with respect to slices."""
        return sorted(self.paths)

    @property
    def n_frames(self) -> int:
        return len(self.names)

    @property
    def encoded_bytes(self) -> int:
        return sum((self.directory / n).stat().st_size for n in self.names)


def slice_z(j: int) -> float:
    return Z0 + j * SPACING


def file_names(n: int = SLICES) -> list[str]:
    """Name of slice j's file: a seeded permutation, so that name order is not slice order."""
    perm = np.random.default_rng(SEED).permutation(n)
    return [f"IM{int(p):04d}.dcm" for p in perm]


def slice_pixels(j: int, n: int = SLICES) -> np.ndarray:
    """Slice j (0 = most inferior): the phantom runs from the neck (its frame 0) down to the
    abdomen, so the most inferior slice is its last frame."""
    return ct_frame(n - 1 - j, n, KIND.rows, KIND.columns)


def _encode_slice(job: tuple[int, int, tuple[str, ...]]) -> dict[str, bytes]:
    """Worker: generate slice j and encode it in each syntax."""
    j, n, syntaxes = job
    arr = slice_pixels(j, n)
    return {s: make_codec_files._encode(KIND, s, arr) for s in syntaxes}


def _write_series(directory: Path, syntax: str, frames: list[bytes], names: list[str]) -> None:
    """Write one file per slice; the dataset is make_codec_files' with per-instance values."""
    import pydicom
    from pydicom.encaps import encapsulate
    from pydicom.uid import generate_uid

    ds = make_codec_files._dataset(KIND, syntax)
    del ds.NumberOfFrames  # CT Image Storage: single frame
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [PIXEL_SPACING, PIXEL_SPACING]
    ds.SliceThickness = SPACING
    ds.FrameOfReferenceUID = generate_uid(prefix=make_codec_files.UID_PREFIX,
                                          entropy_srcs=["dicomframes-series", "for"])
    half = PIXEL_SPACING * KIND.columns / 2
    for j, (data, name) in enumerate(zip(frames, names)):
        uid = generate_uid(prefix=make_codec_files.UID_PREFIX,
                           entropy_srcs=["dicomframes-series", syntax, str(j)])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = uid
        ds.InstanceNumber = j + 1
        ds.ImagePositionPatient = [-half, -half, slice_z(j)]
        ds.SliceLocation = slice_z(j)
        if syntax == "raw":
            ds.PixelData = data
            ds["PixelData"].VR = "OW"
        else:
            ds.PixelData = encapsulate([data], has_bot=True)
            ds["PixelData"].VR = "OB"
            ds["PixelData"].is_undefined_length = True
        pydicom.dcmwrite(directory / name, ds, enforce_file_format=True)


def series_dir(syntax: str) -> Path:
    return DATA_DIR / f"series_{syntax}_{VERSION}"


def _load(syntax: str) -> Series | None:
    directory = series_dir(syntax)
    manifest = directory / "manifest.json"
    if not manifest.exists():
        return None
    info = json.loads(manifest.read_text())
    return Series(syntax, directory, tuple(s["name"] for s in info["slices"]), info["encoder"])


def series(syntaxes: tuple[str, ...] = tuple(SYNTAXES), force: bool = False,
           workers: int | None = None, verbose: bool = False) -> dict[str, Series]:
    """The series, keyed ``"series_{syntax}"``, generating any that are missing.  HTJ2K is
    left out when imagecodecs has no HTJ2K encoder (as in make_codec_files)."""
    if "htj2k" in syntaxes and not htj2k_available():
        syntaxes = tuple(s for s in syntaxes if s != "htj2k")
    out: dict[str, Series] = {}
    todo = []
    for s in syntaxes:
        found = None if force else _load(s)
        if found is None:
            todo.append(s)
        else:
            out[found.key] = found
    if todo:
        t0 = time.perf_counter()
        jobs = [(j, SLICES, tuple(todo)) for j in range(SLICES)]
        results, nproc = in_processes(_encode_slice, jobs, workers)
        names = file_names(SLICES)
        for s in todo:
            directory = series_dir(s)
            shutil.rmtree(directory, ignore_errors=True)  # a half-written earlier attempt
            directory.mkdir(parents=True)
            _write_series(directory, s, [r[s] for r in results], names)
            found = Series(s, directory, tuple(names), encoder_name(s))
            slices = [{"name": n, "instance": j + 1, "z": slice_z(j)}
                      for j, n in enumerate(names)]
            (directory / "manifest.json").write_text(json.dumps(
                {"encoder": found.encoder, "slices": slices}, indent=1))
            out[found.key] = found
        if verbose:
            print(f"series: generated {', '.join(todo)} in {time.perf_counter() - t0:.1f} s "
                  f"({nproc} processes)")
    order = list(SYNTAXES)
    return {k: out[k] for k in sorted(out, key=lambda k: order.index(out[k].syntax))}


def main(argv=None) -> int:
    args = arguments(__doc__).parse_args(argv)
    t0 = time.perf_counter()
    found = series(tuple(args.syntaxes.split(",")), force=args.force, workers=args.workers,
                   verbose=True)
    for s in found.values():
        size = s.encoded_bytes
        print(f"{s.directory}  {s.n_frames} files  {size / 1e6:6.1f} MB  "
              f"ratio {s.decoded_bytes / size:5.2f}  {s.encoder}")
    print(f"({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
