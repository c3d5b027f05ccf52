#!/usr/bin/env python3
"""Inputs of the codec benchmarks (codec_cases.py, codec_report.py, test_bench_codecs.py).

Two synthetic multi-frame objects, each written in five transfer syntaxes:

* ``ct``: 200 frames of 512 x 512, BitsAllocated 16, BitsStored 16, PixelRepresentation 1
  (signed, stored values are Hounsfield units, Rescale Intercept 0).  A chest-like slice:
  circular field of view padded with -2048, air, a body ellipse with a fat layer, soft
  tissue, two lungs with vessel-like texture, mediastinum with a contrast-filled aorta,
  spine and ribs (cortical and cancellous bone), a liver appearing lower down, the table;
  the anatomy changes slowly along z, and every frame gets its own white gaussian noise
  (sigma 15 HU) inside the field of view.
* ``us``: an RGB cine, 60 frames of 480 x 640 x 3, 8-bit: inside an ultrasound-like fan
  (black outside it) a smooth, slowly drifting colour background and soft-edged shaded
  shapes moving along Lissajous paths, with mild noise (sigma 2); a small progress bar.

Transfer syntaxes and encoders (every encapsulated file has one fragment per frame and a
Basic Offset Table):

* raw: Explicit VR Little Endian, written by pydicom;
* rle: RLE Lossless, pydicom RLELosslessEncoder with plugin pylibjpeg (pylibjpeg-rle);
* jls: JPEG-LS Lossless, pydicom JPEGLSLosslessEncoder with plugin pyjpegls (CharLS);
* j2k: JPEG 2000 Lossless, pydicom JPEG2000LosslessEncoder with plugin pylibjpeg
  (OpenJPEG); colour with the reversible colour transform (Photometric YBR_RCT);
* htj2k: HTJ2K Lossless (1.2.840.10008.1.2.4.201), imagecodecs.htj2k_encode (OpenJPH),
  reversible; colour with the colour transform (YBR_RCT).

OpenJPEG 2.5 only decodes HTJ2K, so without imagecodecs' OpenJPH encoder there is no HTJ2K
file (the other four are still made).

Files are cached under ``benchmarks/data/`` (git-ignored) as
``codec_{kind}_{key}_{VERSION}.dcm`` with a ``.json`` sidecar naming the encoder; a file
that exists is reused.  Frames are generated and encoded in a process pool (all cores);
about a minute on 2 cores for the ten files.

    python benchmarks/make_codec_files.py [--force] [--kinds ct,us] [--syntaxes rle,jls]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np

DATA_DIR = Path(__file__).resolve().parent / "data"
VERSION = "v1"  # bump when the content or the encoding recipe changes
UID_PREFIX = "1.2.826.0.1.3680043.8.498."
SEED = 20261122

HTJ2K_LOSSLESS = "1.2.840.10008.1.2.4.201"
SYNTAXES: dict[str, tuple[str, str]] = {  # key -> (UID, name)
    "raw": ("1.2.840.10008.1.2.1", "Explicit VR Little Endian"),
    "rle": ("1.2.840.10008.1.2.5", "RLE Lossless"),
    "jls": ("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"),
    "j2k": ("1.2.840.10008.1.2.4.90", "JPEG 2000 Lossless"),
    "htj2k": (HTJ2K_LOSSLESS, "HTJ2K Lossless"),
}


@dataclass(frozen=True)
class Kind:
    name: str
    frames: int
    rows: int
    columns: int
    samples: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    photometric: str
    sop_class: str
    modality: str

    @property
    def dtype(self) -> np.dtype:
        if self.bits_allocated == 8:
            return np.dtype(np.uint8)
        return np.dtype(np.int16 if self.pixel_representation else np.uint16)

    @property
    def frame_shape(self) -> tuple[int, ...]:
        if self.samples == 1:
            return (self.rows, self.columns)
        return (self.rows, self.columns, self.samples)

    @property
    def frame_bytes(self) -> int:
        return self.rows * self.columns * self.samples * self.dtype.itemsize


KINDS = {
    "ct": Kind("ct", 200, 512, 512, 1, 16, 16, 1, "MONOCHROME2",
               "1.2.840.10008.5.1.4.1.1.2.1", "CT"),  # Enhanced CT Image Storage
    "us": Kind("us", 60, 480, 640, 3, 8, 8, 0, "RGB",
               "1.2.840.10008.5.1.4.1.1.3.1", "US"),  # Ultrasound Multi-frame Image Storage
}


class SyntaxFile:
    """What an input in one syntax of SYNTAXES derives from ``kind`` (a Kind), ``syntax`` (a
    key of SYNTAXES) and ``n_frames``: shared by ``CodecFile`` and make_series' ``Series``."""

    @property
    def key(self) -> str:
        return f"{self.kind.name}_{self.syntax}"

    @property
    def uid(self) -> str:
        return SYNTAXES[self.syntax][0]

    @property
    def ts_name(self) -> str:
        return SYNTAXES[self.syntax][1]

    @property
    def frame_shape(self) -> tuple[int, ...]:
        return self.kind.frame_shape

    @property
    def dtype(self) -> np.dtype:
        return self.kind.dtype

    @property
    def decoded_bytes(self) -> int:
        return self.n_frames * self.kind.frame_bytes


@dataclass(frozen=True)
class CodecFile(SyntaxFile):
    """One generated file: what it holds and how it was made."""

    kind: Kind
    syntax: str  # key of SYNTAXES
    path: Path
    encoder: str
    photometric: str  # as written (YBR_RCT for colour J2K/HTJ2K)

    @property
    def n_frames(self) -> int:
        return self.kind.frames


# ---------------------------------------------------------------------------------------
# content
# ---------------------------------------------------------------------------------------


def _ellipse(u: np.ndarray, v: np.ndarray, cu: float, cv: float, au: float,
             av: float) -> np.ndarray:
    return ((u - cu) / au) ** 2 + ((v - cv) / av) ** 2 < 1.0


def ct_frame(k: int, n: int = 200, rows: int = 512, cols: int = 512) -> np.ndarray:
    """Frame k of the CT: int16 Hounsfield units."""
    z = k / max(n - 1, 1)  # 0 (neck side) .. 1 (abdomen side)
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float32)
    u = (x - cols / 2) / (cols / 2)  # -1 .. 1
    v = (y - rows / 2) / (rows / 2)
    hu = np.full((rows, cols), -1000.0, np.float32)  # air

    # table under the patient
    hu[(v > 0.70) & (v < 0.76) & (np.abs(u) < 0.85)] = 250.0
    hu[(v >= 0.76) & (v < 0.80) & (np.abs(u) < 0.80)] = -600.0

    # body: fat shell, soft tissue inside; size breathes slowly along z
    a = 0.80 + 0.05 * np.sin(np.pi * z)
    b = 0.56 + 0.04 * np.sin(np.pi * z + 0.6)
    vc = 0.08
    hu[_ellipse(u, v, 0.0, vc, a, b)] = -95.0
    hu[_ellipse(u, v, 0.0, vc, a - 0.06, b - 0.05)] = 42.0

    # lungs: largest mid-chest, shrinking towards the abdomen, with vessel-like texture
    lz = max(0.0, np.sin(np.pi * min(1.0, 0.25 + z * 1.05)))
    if lz > 0.05:
        tex = (np.sin(u * 41.0 + 3.0 * z) * np.sin(v * 37.0 - 2.0 * z)
               + 0.5 * np.sin((u + v) * 23.0 + 5.0 * z))
        vessels = 800.0 * np.clip(tex - 0.8, 0.0, None)  # HU above the lung background
        for s in (-1.0, 1.0):
            lung = _ellipse(u, v, s * 0.36 * a, vc - 0.03, 0.30 * a * lz + 0.02,
                            0.62 * b * lz + 0.02)
            hu[lung] = -855.0 + np.minimum(vessels[lung], 880.0)

    # mediastinum, heart and contrast-filled aorta
    hu[_ellipse(u, v, 0.03, vc - 0.10, 0.16 + 0.04 * np.sin(np.pi * z), 0.22 * b)] = 38.0
    hu[_ellipse(u, v, 0.06, vc + 0.12, 0.055, 0.055 * a / b)] = 185.0

    # liver, lower in the volume
    if z > 0.55:
        s = (z - 0.55) / 0.45
        hu[_ellipse(u, v, -0.30, vc - 0.02, 0.10 + 0.30 * s, 0.08 + 0.26 * s)] = 58.0

    # spine: cortical ring around a cancellous vertebral body, plus the spinal canal
    sv = vc + b - 0.16
    hu[_ellipse(u, v, 0.0, sv, 0.11, 0.10)] = 950.0
    hu[_ellipse(u, v, 0.0, sv, 0.085, 0.075)] = 260.0
    hu[_ellipse(u, v, 0.0, sv + 0.13, 0.035, 0.03)] = 15.0

    # ribs: small bones along the inner body wall, drifting round slowly with z
    for i in range(16):  # round the wall, leaving a gap at the spine (ang = pi / 2)
        ang = np.pi / 2 + 2 * np.pi * (0.08 + 0.84 * i / 15.0) + 0.05 * np.sin(2 * np.pi * z + i)
        cu, cv = 0.9 * (a - 0.06) * np.cos(ang), vc + 0.9 * (b - 0.05) * np.sin(ang)
        hu[_ellipse(u, v, cu, cv, 0.032, 0.022)] = 780.0
        hu[_ellipse(u, v, cu, cv, 0.018, 0.011)] = 220.0

    # noise inside the circular field of view, padding value outside it
    rng = np.random.default_rng([SEED, 1, k])
    hu += rng.normal(0.0, 15.0, hu.shape).astype(np.float32)
    hu[u * u + v * v > 0.98] = -2048.0
    return np.rint(hu).astype(np.int16)


def us_frame(k: int, n: int = 60, rows: int = 480, cols: int = 640) -> np.ndarray:
    """Frame k of the RGB cine: uint8 (rows, cols, 3)."""
    t = 2.0 * np.pi * k / n
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float32)
    img = np.empty((rows, cols, 3), np.float32)
    img[..., 0] = 45 + 30 * np.sin(x / 97.0 + t) * np.cos(y / 131.0)
    img[..., 1] = 35 + 25 * np.cos(y / 73.0 - 0.5 * t)
    img[..., 2] = 60 + 25 * np.sin((x + y) / 151.0 + 0.3 * t)
    shapes = [  # (colour, radius x, radius y, path amplitude x, y, frequency x, y, phase)
        ((220, 60, 50), 70, 55, 200, 120, 1, 2, 0.0),
        ((40, 200, 90), 45, 80, 220, 150, 2, 1, 1.1),
        ((70, 90, 230), 90, 40, 150, 170, 1, 1, 2.3),
        ((230, 210, 60), 35, 35, 250, 100, 3, 2, 0.7),
        ((200, 80, 200), 55, 65, 120, 180, 2, 3, 4.0),
    ]
    for colour, rx, ry, ax, ay, fx, fy, ph in shapes:
        cx = cols / 2 + ax * np.sin(fx * t + ph)
        cy = rows / 2 + ay * np.sin(fy * t + 2 * ph)
        d = np.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2)
        alpha = 1.0 / (1.0 + np.exp((d - 1.0) * 12.0))  # soft edge
        shade = 0.75 + 0.25 * np.clip(1.0 - d, 0.0, 1.0)  # brighter towards the centre
        for c in range(3):
            img[..., c] += alpha * (colour[c] * shade - img[..., c])
    rng = np.random.default_rng([SEED, 2, k])
    img += rng.normal(0.0, 2.0, img.shape).astype(np.float32)
    # an ultrasound-like scan sector: black (no noise) outside the fan, as in real cines
    r = np.hypot(x - cols / 2, y + 40.0)
    ang = np.arctan2(x - cols / 2, y + 40.0)
    img[(np.abs(ang) > 0.75) | (r < 70.0) | (r > 505.0)] = 0.0
    img[(y > 8) & (y < 20) & (x > 16) & (x < 16 + 6 * (k % 40 + 1))] = 200.0  # a progress bar
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def frame(kind: Kind, k: int) -> np.ndarray:
    if kind.name == "ct":
        return ct_frame(k, kind.frames, kind.rows, kind.columns)
    return us_frame(k, kind.frames, kind.rows, kind.columns)


# ---------------------------------------------------------------------------------------
# encoding
# ---------------------------------------------------------------------------------------


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def encoder_name(syntax: str) -> str:
    if syntax == "raw":
        return f"pydicom {_version('pydicom')} (uncompressed)"
    if syntax == "rle":
        return (f"pydicom {_version('pydicom')} RLELosslessEncoder + pylibjpeg-rle "
                f"{_version('pylibjpeg-rle')}")
    if syntax == "jls":
        return (f"pydicom {_version('pydicom')} JPEGLSLosslessEncoder + pyjpegls "
                f"{_version('pyjpegls')} (CharLS)")
    if syntax == "j2k":
        try:
            from openjpeg.utils import get_openjpeg_version

            ojv = ".".join(map(str, get_openjpeg_version()))
        except Exception:  # noqa: BLE001 - only a label
            ojv = "?"
        return (f"pydicom {_version('pydicom')} JPEG2000LosslessEncoder + pylibjpeg-openjpeg "
                f"{_version('pylibjpeg-openjpeg')} (OpenJPEG {ojv})")
    import imagecodecs

    return f"imagecodecs {imagecodecs.__version__} htj2k_encode ({imagecodecs.htj2k_version()})"


def htj2k_available() -> bool:
    try:
        import imagecodecs

        return bool(imagecodecs.HTJ2K.available)
    except (ImportError, AttributeError):
        return False


def _uses_mct(codestream: bytes) -> bool:
    """True when the COD marker segment asks for the multiple component transform."""
    pos = codestream.find(b"\xff\x52")
    return pos >= 0 and codestream[pos + 8] == 1


def _photometric(kind: Kind, syntax: str) -> str:
    # Lossless colour J2K/HTJ2K with the reversible colour transform is YBR_RCT (PS3.5 8.2.4)
    if kind.samples == 3 and syntax in ("j2k", "htj2k"):
        return "YBR_RCT"
    return kind.photometric


def _encode(kind: Kind, syntax: str, arr: np.ndarray) -> bytes:
    if syntax == "raw":
        return arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
    if syntax == "htj2k":
        import imagecodecs

        cs = bytes(imagecodecs.htj2k_encode(arr))  # reversible (lossless) by default
        if kind.samples == 3 and not _uses_mct(cs):
            raise RuntimeError("htj2k_encode did not use the colour transform; "
                               "the file would need Photometric RGB")
        return cs
    from pydicom.pixels.encoders import (
        JPEG2000LosslessEncoder,
        JPEGLSLosslessEncoder,
        RLELosslessEncoder,
    )

    encoder, plugin = {
        "rle": (RLELosslessEncoder, "pylibjpeg"),
        "jls": (JPEGLSLosslessEncoder, "pyjpegls"),
        "j2k": (JPEG2000LosslessEncoder, "pylibjpeg"),
    }[syntax]
    # for J2K, Photometric YBR_RCT makes pydicom's openjpeg plugin apply the colour transform
    kw = dict(rows=kind.rows, columns=kind.columns, samples_per_pixel=kind.samples,
              bits_allocated=kind.bits_allocated, bits_stored=kind.bits_stored,
              pixel_representation=kind.pixel_representation,
              photometric_interpretation=_photometric(kind, syntax), number_of_frames=1,
              planar_configuration=0)
    return bytes(encoder.encode(arr, encoding_plugin=plugin, **kw))


def _encode_frame(job: tuple[str, int, tuple[str, ...]]) -> dict[str, bytes]:
    """Worker: generate frame k of `kind` and encode it in each syntax."""
    kind_name, k, syntaxes = job
    kind = KINDS[kind_name]
    arr = frame(kind, k)
    return {s: _encode(kind, s, arr) for s in syntaxes}


# ---------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------


def _dataset(kind: Kind, syntax: str):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import generate_uid

    def uid(*parts: str) -> str:
        return generate_uid(prefix=UID_PREFIX, entropy_srcs=["dicomframes-codec-bench",
                                                             kind.name, *parts])

    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = kind.sop_class
    meta.MediaStorageSOPInstanceUID = uid(syntax, "sop")
    meta.TransferSyntaxUID = SYNTAXES[syntax][0]
    meta.ImplementationClassUID = UID_PREFIX + "1"
    meta.ImplementationVersionName = "DICOMFRAMES_010"

    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL" if kind.name == "ct" else "", "NONE"]
    ds.SOPClassUID = kind.sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20261122"
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "120000"
    ds.Modality = kind.modality
    ds.Manufacturer = "dicomframes synthetic"
    ds.PatientName = "Synthetic^Codec"
    ds.PatientID = "DCF-CODEC"
    ds.StudyInstanceUID = uid("study")
    ds.SeriesInstanceUID = uid(syntax, "series")
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.SamplesPerPixel = kind.samples
    ds.PhotometricInterpretation = _photometric(kind, syntax)
    if kind.samples > 1:
        ds.PlanarConfiguration = 0
    ds.NumberOfFrames = kind.frames
    ds.Rows = kind.rows
    ds.Columns = kind.columns
    ds.BitsAllocated = kind.bits_allocated
    ds.BitsStored = kind.bits_stored
    ds.HighBit = kind.bits_stored - 1
    ds.PixelRepresentation = kind.pixel_representation
    if kind.name == "ct":
        ds.RescaleIntercept = "0"
        ds.RescaleSlope = "1"
        ds.RescaleType = "HU"
        ds.PixelPaddingValue = -2048
        ds.WindowCenter = "40"
        ds.WindowWidth = "400"
    else:
        ds.FrameTime = "33.3"
    ds.LossyImageCompression = "00"
    return ds


def _write(path: Path, kind: Kind, syntax: str, frames: list[bytes]) -> None:
    import pydicom
    from pydicom.encaps import encapsulate

    ds = _dataset(kind, syntax)
    if syntax == "raw":
        ds.PixelData = b"".join(frames)
        ds["PixelData"].VR = "OW" if kind.bits_allocated > 8 else "OB"
    else:
        ds.PixelData = encapsulate(frames, has_bot=True)  # one fragment per frame + BOT
        ds["PixelData"].VR = "OB"
        ds["PixelData"].is_undefined_length = True
    buf = BytesIO()
    pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_bytes(buf.getvalue())
    os.replace(tmp, path)


def in_processes(fn: Callable[[Any], Any], jobs: list, workers: int | None = None,
                 ) -> tuple[list, int]:
    """``[fn(job) for job in jobs]`` in a pool of `workers` processes (default: one per
    CPU; one: in this process), and the number of processes."""
    nproc = workers or os.cpu_count() or 1
    if nproc > 1:
        with ProcessPoolExecutor(max_workers=nproc) as pool:
            return list(pool.map(fn, jobs, chunksize=4)), nproc
    return [fn(j) for j in jobs], nproc


def arguments(doc: str) -> argparse.ArgumentParser:
    """The options every generator takes: --force, --syntaxes, --workers."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--force", action="store_true", help="regenerate even if cached")
    ap.add_argument("--syntaxes", default=",".join(SYNTAXES))
    ap.add_argument("--workers", type=int, default=None)
    return ap


def file_path(kind: str, syntax: str) -> Path:
    return DATA_DIR / f"codec_{kind}_{syntax}_{VERSION}.dcm"


def _sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def _load(kind: Kind, syntax: str) -> CodecFile | None:
    path = file_path(kind.name, syntax)
    side = _sidecar(path)
    if not (path.exists() and side.exists()):
        return None
    info = json.loads(side.read_text())
    return CodecFile(kind, syntax, path, info["encoder"], info["photometric"])


def codec_files(kinds: tuple[str, ...] = tuple(KINDS), syntaxes: tuple[str, ...] = tuple(SYNTAXES),
                force: bool = False, workers: int | None = None,
                verbose: bool = False) -> dict[str, CodecFile]:
    """The benchmark files, keyed ``"{kind}_{syntax}"`` (e.g. ``"ct_jls"``), generating any
    that are missing.  HTJ2K is left out when imagecodecs has no HTJ2K encoder."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    if "htj2k" in syntaxes and not htj2k_available():
        if verbose:
            print("imagecodecs.htj2k_encode unavailable: no HTJ2K files "
                  "(OpenJPEG 2.5 cannot encode HTJ2K)")
        syntaxes = tuple(s for s in syntaxes if s != "htj2k")
    out: dict[str, CodecFile] = {}
    for kind_name in kinds:
        kind = KINDS[kind_name]
        todo = []
        for s in syntaxes:
            cf = None if force else _load(kind, s)
            if cf is None:
                todo.append(s)
            else:
                out[cf.key] = cf
        if not todo:
            continue
        t0 = time.perf_counter()
        jobs = [(kind.name, k, tuple(todo)) for k in range(kind.frames)]
        results, nproc = in_processes(_encode_frame, jobs, workers)
        encode_s = time.perf_counter() - t0
        for s in todo:
            path = file_path(kind.name, s)
            frames = [r[s] for r in results]
            _write(path, kind, s, frames)
            cf = CodecFile(kind, s, path, encoder_name(s), _photometric(kind, s))
            _sidecar(path).write_text(json.dumps({
                "encoder": cf.encoder, "photometric": cf.photometric,
                "encoded_bytes": sum(len(f) for f in frames)}, indent=1))
            out[cf.key] = cf
        if verbose:
            print(f"{kind.name}: generated {', '.join(todo)} in {encode_s:.1f} s "
                  f"({nproc} processes)")
    return {k: out[k] for k in sorted(out, key=lambda k: (k.split("_")[0] != "ct",
                                                         list(SYNTAXES).index(k.split("_")[1])))}


def main(argv=None) -> int:
    ap = arguments(__doc__)
    ap.add_argument("--kinds", default=",".join(KINDS))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    files = codec_files(tuple(args.kinds.split(",")), tuple(args.syntaxes.split(",")),
                        force=args.force, workers=args.workers, verbose=True)
    for cf in files.values():
        size = cf.path.stat().st_size
        print(f"{cf.path}  {size / 1e6:6.1f} MB  ratio {cf.decoded_bytes / size:5.2f}  "
              f"{cf.photometric:11s} {cf.encoder}")
    print(f"({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
