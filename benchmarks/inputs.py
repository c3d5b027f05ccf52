"""The benchmark inputs, generated on first use with ``dicomframes.testing`` and cached
under ``benchmarks/data/`` (git-ignored; delete a file, or bump VERSION, to regenerate),
each as a ``dicomframes.bench.Input``; and the goals, as data.

* ``CT_small``: pydicom's bundled ``CT_small.dcm`` (128 x 128, 16-bit signed, 39 KB).
* ``ct_500``: 500 frames of 512 x 512 native 16-bit (BitsStored 12, unsigned), CT-like
  anatomy varying along z plus seeded noise, ~262 MB, written frame by frame.
* ``ct_300``: the CT phantom of ``ct_{codec}`` at 300 slices, native 512 x 512 signed
  16-bit with Bits Stored 12 (the file of ``report native``), ~157 MB.
* ``ct_{codec}``: a 200 x 512 x 512 signed 16-bit chest phantom (HU), and ``us_{codec}``: a
  60 x 480 x 640 RGB ultrasound-like cine, each in every lossless codec (``uids.CODECS``:
  native, rle, jpegls, j2k, htj2k), one fragment per frame with a Basic Offset Table.
  Encoders: RLE pydicom + pylibjpeg-rle, JPEG-LS pydicom + pyjpegls (CharLS), JPEG 2000
  pydicom + pylibjpeg-openjpeg, HTJ2K imagecodecs (OpenJPH; without it there is no HTJ2K
  input); colour J2K/HTJ2K with the reversible colour transform (YBR_RCT).
* JPEG (``JPEG_INPUTS``, imagecodecs' libjpeg-turbo): ``ct_jpegll`` the CT as JPEG Lossless
  SV1 (16-bit), ``ct_jpeg12`` as 12-bit JPEG Extended (HU + 2048, unsigned), ``us_jpeg8``
  the cine as 8-bit JPEG Baseline YBR_FULL_422; the lossy ones' truth is imagecodecs'
  decode, matched within ``Input.tolerance``.
* ``series_{codec}``: 300 single-frame CT files of the same phantom at 300 positions along
  z, slice j with InstanceNumber j + 1 and z = -400 + 1.25 j, names shuffled (a seeded
  permutation: name order is not slice order).

Frames are generated and encoded in a process pool (all cores).

    python -m benchmarks.inputs [--force] [LABEL ...]    # generate, and describe
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from dicomframes import uids
from dicomframes.bench import Input, make_input
from dicomframes.uids import CODECS, LOSSLESS_UID, NATIVE

DATA_DIR = Path(__file__).resolve().parent / "data"
VERSION = "v2"  # bump when a content, geometry or encoding recipe changes
SEED = 20261122
SERIES_SEED = 20261123
# the codecs every kind is written in (JPEG: JPEG_INPUTS; Deflated Image Frame Compression:
# no encoder among pydicom's, so no input)
LOSSLESS = tuple(c for c in CODECS if c not in ("jpeg", "deflate"))
PLUGIN = {"rle": "pylibjpeg", "jpegls": "pyjpegls", "j2k": "pylibjpeg"}  # pydicom's encoders
ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"
FRAME_INDEX = 250  # the frame of ct_500 that the frame benchmarks read


@dataclass(frozen=True)
class Kind:
    """One synthetic object: its frames and the attributes its files carry."""

    name: str
    frames: int
    rows: int
    columns: int
    dtype: str
    sop_class: str
    modality: str
    bits_stored: int | None = None
    extra: tuple[tuple[str, object], ...] = ()

    @property
    def samples(self) -> int:
        return 3 if self.name == "us" else 1

    def frame(self, k: int) -> np.ndarray:
        """Frame k; the series' slice j is the phantom's frame n - 1 - j (slice 0 is the
        most inferior, the phantom runs from the neck down)."""
        if self.name == "us":
            return us_frame(k, self.frames, self.rows, self.columns)
        if self.name == "series":
            return ct_frame(self.frames - 1 - k, self.frames, self.rows, self.columns)
        return ct_frame(k, self.frames, self.rows, self.columns)

    def photometric(self, codec: str) -> str:
        if codec in JPEG_INPUTS and JPEG_INPUTS[codec].photometric:
            return JPEG_INPUTS[codec].photometric
        # lossless colour J2K/HTJ2K with the reversible colour transform is YBR_RCT
        if self.samples == 3:
            return "YBR_RCT" if codec in ("j2k", "htj2k") else "RGB"
        return "MONOCHROME2"


CT_EXTRA = (("RescaleIntercept", "0"), ("RescaleSlope", "1"), ("RescaleType", "HU"),
            ("PixelPaddingValue", -2048), ("WindowCenter", "40"), ("WindowWidth", "400"))
KINDS = {
    "ct": Kind("ct", 200, 512, 512, "int16", ENHANCED_CT, "CT", extra=CT_EXTRA),
    "us": Kind("us", 60, 480, 640, "uint8", "1.2.840.10008.5.1.4.1.1.3.1", "US",
               extra=(("FrameTime", "33.3"),)),
    "series": Kind("series", 300, 512, 512, "int16", "1.2.840.10008.5.1.4.1.1.2", "CT",
                   extra=CT_EXTRA),  # CT Image Storage, one frame per file
}
SPACING, PIXEL_SPACING, Z0 = 1.25, 0.7, -400.0  # the series' geometry (mm)


@dataclass(frozen=True)
class Jpeg:
    """A JPEG version ``{kind}_{name}`` of a kind's frames (codec key "jpeg"), written with
    ``dicomframes.testing.encode_jpeg`` (imagecodecs' libjpeg-turbo)."""

    kind: str
    syntax: str
    sof: int  # the frame header marker the codestreams must carry (checked)
    level: int | None = None  # DCT quality; None: lossless
    offset: int = 0  # added to the kind's values (12-bit CT: unsigned, HU + 2048)
    bits_stored: int | None = None  # None: the kind's
    photometric: str | None = None  # None: the kind's
    extra: tuple[tuple[str, object], ...] = ()

    def stored(self, frame: np.ndarray) -> np.ndarray:
        """The kind's frame as this file stores it."""
        if not self.offset:
            return frame
        top = (1 << (self.bits_stored or 16)) - 1  # no sample reaches a bound: see below
        return np.clip(frame.astype(np.int32) + self.offset, 0, top).astype(np.uint16)


# The CT spans -2048 (padding) .. ~1010 HU, so HU + 2048 fits 12 bits unsigned (0 .. ~3060,
# nothing clipped): RescaleIntercept -2048, PixelPaddingValue 0.
JPEG_INPUTS = {
    "jpegll": Jpeg("ct", uids.JPEG_LOSSLESS_SV1, 0xC3),  # 16-bit precision (BitsStored 16)
    "jpeg12": Jpeg("ct", uids.JPEG_EXTENDED, 0xC1, level=90, offset=2048, bits_stored=12,
                   extra=(("RescaleIntercept", "-2048"), ("PixelPaddingValue", 0))),
    "jpeg8": Jpeg("us", uids.JPEG_BASELINE, 0xC0, level=90, photometric="YBR_FULL_422"),
}
JPEG_LABELS = [f"{j.kind}_{name}" for name, j in JPEG_INPUTS.items()]


# ---------------------------------------------------------------------------------------
# content (the recipes of the earlier generators, unchanged)
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


def _keyframes(rows: int, cols: int, n_key: int) -> np.ndarray:
    """CT-like anatomy (stored values, 0..4095, HU + 1024) at n_key positions along z."""
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float32)
    ny, nx = (y - rows / 2) / (rows * 0.40), (x - cols / 2) / (cols * 0.45)
    out = np.empty((n_key, rows, cols), np.int16)
    for j in range(n_key):
        z = j / max(n_key - 1, 1)  # 0..1 along the volume
        s = 0.85 + 0.15 * np.sin(np.pi * z)  # body gets wider mid-volume
        r = np.sqrt((nx / s) ** 2 + (ny / s) ** 2)
        img = np.full((rows, cols), 24, np.float32)  # air (HU -1000)
        img[r < 1.0] = 1064  # soft tissue (HU 40)
        img[(r > 0.9) & (r < 1.0)] = 924  # fat (HU -100)
        img[(r > 0.72) & (r < 0.78)] = 1900 + 400 * z  # rib/bone ring
        lung = 0.18 + 0.08 * np.sin(np.pi * z)
        for ox in (-0.33, 0.33):
            img[((nx - ox * s) ** 2 + (ny + 0.1) ** 2) < lung**2] = 200  # lungs (HU -824)
        img[(nx**2 + (ny - 0.45) ** 2) < 0.07**2] = 2400  # spine (HU 1376)
        img[((nx - 0.1) ** 2 + (ny - 0.15) ** 2) < (0.12 + 0.05 * z) ** 2] = 1090  # organ
        img += 25.0 * np.sin(x / 7.0 + 6 * z) * np.cos(y / 11.0) * (r < 0.7)  # texture
        out[j] = np.rint(img).astype(np.int16)
    return out


def big_frames(n: int = 500, rows: int = 512, cols: int = 512, seed: int = 12345):
    """The frames of ct_500 (uint16 stored values, 0..4095): 25 keyframes along z, each
    frame one of them plus a window of one seeded noise pool."""
    rng = np.random.default_rng(seed)
    keys = _keyframes(rows, cols, n_key=25)
    pad = 64
    noise = rng.normal(0.0, 18.0, (rows + pad, cols + pad)).astype(np.int16)  # one pool
    offsets = rng.integers(0, pad, size=(n, 2))
    frame = np.empty((rows, cols), np.int16)
    for k in range(n):
        oy, ox = offsets[k]
        np.add(keys[k * len(keys) // n], noise[oy:oy + rows, ox:ox + cols], out=frame)
        yield np.clip(frame, 0, 4095).astype(np.uint16)


# ---------------------------------------------------------------------------------------
# writing, through dicomframes.testing
# ---------------------------------------------------------------------------------------


def encoder_name(codec: str) -> str:
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "?"

    if codec == "htj2k":
        return f"imagecodecs {version('imagecodecs')} htj2k_encode (OpenJPH)"
    if codec in JPEG_INPUTS:
        import imagecodecs

        j = JPEG_INPUTS[codec]
        how = "lossless, predictor 1" if j.level is None else f"level {j.level}"
        return (f"imagecodecs {version('imagecodecs')} jpeg8_encode "
                f"({imagecodecs.jpeg8_version()}), {how}")
    plugin = {"pylibjpeg": "pylibjpeg-rle" if codec == "rle" else "pylibjpeg-openjpeg",
              "pyjpegls": "pyjpegls (CharLS)"}.get(PLUGIN.get(codec, ""), "")
    return f"pydicom {version('pydicom')}" + (f" + {plugin}" if plugin else " (uncompressed)")


def _encode_job(job: tuple[str, int, tuple[str, ...]]) -> dict[str, bytes]:
    """Worker: frame k of a kind, encoded in each codec (native: its bytes)."""
    from dicomframes.testing import encode_frame

    kind_name, k, codecs = job
    kind = KINDS[kind_name]
    arr = kind.frame(k)
    return {c: arr.astype(arr.dtype.newbyteorder("<")).tobytes() if c == NATIVE else
            _jpeg_frame(JPEG_INPUTS[c], arr) if c in JPEG_INPUTS else
            encode_frame(arr, LOSSLESS_UID[c], photometric=kind.photometric(c),
                         plugin=PLUGIN.get(c, "")) for c in codecs}


def _jpeg_frame(j: Jpeg, frame: np.ndarray) -> bytes:
    """One frame as `j` encodes it, checked with imagecodecs' decoder: the frame header
    (SOF marker; 4:2:2 sampling for YBR_FULL_422), then the values: lossless exactly,
    lossy within 2% of full scale RMS (8-bit colour: against the RGB source)."""
    import imagecodecs

    from dicomframes.testing import encode_jpeg

    stored = j.stored(frame)
    data = encode_jpeg(stored, j.syntax, bits_stored=j.bits_stored, photometric=j.photometric,
                       **({} if j.level is None else {"level": j.level}))
    sof = data.find(bytes([0xFF, j.sof]))
    sampling = data[sof + 11:sof + 18:3]  # H/V of each component (after id, before Tq)
    if sof < 0 or (j.photometric == "YBR_FULL_422" and sampling != b"\x21\x11\x11"):
        raise RuntimeError(f"jpeg8_encode: no SOF {j.sof:#x} with the expected sampling")
    decoded = imagecodecs.jpeg8_decode(data).view(stored.dtype.str.replace("i", "u"))
    unsigned = stored.view(decoded.dtype)
    if j.level is None:
        ok = np.array_equal(decoded, unsigned)
    else:
        err = decoded.astype(np.float64) - unsigned
        full_scale = (1 << (j.bits_stored or 8 * unsigned.itemsize)) - 1
        ok = np.sqrt(np.mean(err * err)) <= 0.02 * full_scale
    if not ok:
        raise RuntimeError(f"{j.syntax}: the codestream does not decode to its frame")
    return data


def _encoded(kind: Kind, codecs: tuple[str, ...]) -> list[dict[str, bytes]]:
    """Every frame of `kind` in each of `codecs`, encoded in a process pool."""
    jobs = [(kind.name, k, codecs) for k in range(kind.frames)]
    if (os.cpu_count() or 1) == 1:
        return [_encode_job(j) for j in jobs]
    with ProcessPoolExecutor() as pool:
        return list(pool.map(_encode_job, jobs, chunksize=4))


def _dataset(kind: Kind, codec: str, frames: list[bytes], entropy: str, single: bool):
    from dicomframes import testing

    j = JPEG_INPUTS.get(codec, Jpeg(kind.name, LOSSLESS_UID.get(codec, ""), 0))
    ds = testing.new_dataset(j.syntax, sop_class=kind.sop_class, entropy=entropy)
    testing.set_image_pixel(ds, rows=kind.rows, columns=kind.columns,
                            dtype="uint16" if j.offset else kind.dtype,
                            samples_per_pixel=kind.samples, photometric=kind.photometric(codec),
                            frames=None if single else kind.frames, bits_stored=j.bits_stored)
    ds.Modality, ds.Manufacturer = kind.modality, "dicomframes synthetic"
    ds.PatientName, ds.PatientID = "Synthetic^Bench", "DCF-BENCH"
    ds.StudyInstanceUID = testing.uid("bench study")
    ds.SeriesInstanceUID = testing.uid("bench series", kind.name, codec)
    ds.LossyImageCompression = "00" if j.level is None else "01"
    if j.level is not None:
        ds.LossyImageCompressionMethod = "ISO_10918_1"
    for keyword, value in kind.extra + j.extra:
        setattr(ds, keyword, value)
    if codec == NATIVE:
        data = b"".join(frames)
        ds.add_new(0x7FE00010, "OB" if kind.dtype == "uint8" else "OW", data)
    else:
        testing.encapsulated_pixel_data(ds, frames)
    return ds


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def codec_inputs(kind_name: str, codecs: Iterable[str] = LOSSLESS,
                 force: bool = False) -> dict[str, Input]:
    """``{kind}_{codec}`` inputs (multi-frame files; `codecs` may name JPEG_INPUTS too),
    generating those missing; HTJ2K and JPEG are left out when imagecodecs has no
    encoder for them.  A lossy input's truth is its own reference decode (``truth``)."""
    kind = KINDS[kind_name]
    codecs = [c for c in codecs if (c != "htj2k" or _htj2k_encoder())
              and (c not in JPEG_INPUTS or _jpeg_encoder())]
    paths = {c: DATA_DIR / f"codec_{kind.name}_{c}_{VERSION}.dcm" for c in codecs}
    todo = tuple(c for c in codecs if force or not _sidecar(paths[c]).exists())
    if todo:
        from dicomframes import testing

        DATA_DIR.mkdir(parents=True, exist_ok=True)
        encoded = _encoded(kind, todo)
        for c in todo:
            ds = _dataset(kind, c, [e[c] for e in encoded], f"bench {kind.name} {c}", False)
            testing.write(ds, paths[c])
            _sidecar(paths[c]).write_text(json.dumps({"encoder": encoder_name(c)}))
    lossy = {c for c in codecs if c in JPEG_INPUTS and JPEG_INPUTS[c].level is not None}
    return {f"{kind.name}_{c}": make_input(
        [paths[c]], f"{kind.name}_{c}", truth="" if c in lossy else f"{kind.name}_{NATIVE}",
        encoder=json.loads(_sidecar(paths[c]).read_text())["encoder"]) for c in codecs}


def series_inputs(codecs: Iterable[str] = LOSSLESS, force: bool = False) -> dict[str, Input]:
    """``series_{codec}`` inputs (300 single-frame files each, in slice order), generating
    those missing; a directory without its manifest.json (written last) is made again."""
    kind = KINDS["series"]
    codecs = [c for c in codecs if c != "htj2k" or _htj2k_encoder()]
    dirs = {c: DATA_DIR / f"series_{c}_{VERSION}" for c in codecs}
    todo = tuple(c for c in codecs if force or not (dirs[c] / "manifest.json").exists())
    perm = np.random.default_rng(SERIES_SEED).permutation(kind.frames)
    names = [f"IM{int(p):04d}.dcm" for p in perm]  # slice j's file
    if todo:
        from dicomframes import testing

        encoded = _encoded(kind, todo)
        half = PIXEL_SPACING * kind.columns / 2
        for c in todo:
            shutil.rmtree(dirs[c], ignore_errors=True)  # a half-written earlier attempt
            dirs[c].mkdir(parents=True)
            for j, name in enumerate(names):
                z = Z0 + j * SPACING
                ds = _dataset(kind, c, [encoded[j][c]], f"bench series {c} {j}", True)
                ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
                ds.InstanceNumber = j + 1
                ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
                ds.ImagePositionPatient = [-half, -half, z]
                ds.SliceLocation, ds.SliceThickness = z, SPACING
                ds.PixelSpacing = [PIXEL_SPACING, PIXEL_SPACING]
                ds.FrameOfReferenceUID = testing.uid("bench series frame of reference")
                testing.write(ds, dirs[c] / name)
            (dirs[c] / "manifest.json").write_text(json.dumps({
                "encoder": encoder_name(c),
                "slices": [{"name": n, "instance": j + 1, "z": Z0 + j * SPACING}
                           for j, n in enumerate(names)]}, indent=1))
    found = {}
    for c in codecs:
        manifest = json.loads((dirs[c] / "manifest.json").read_text())
        found[f"series_{c}"] = make_input(
            [dirs[c] / s["name"] for s in manifest["slices"]], f"series_{c}",
            encoder=manifest["encoder"], truth=f"series_{NATIVE}")
    return found


def _htj2k_encoder() -> bool:
    try:
        import imagecodecs

        return bool(imagecodecs.HTJ2K.available)
    except (ImportError, AttributeError):
        return False


def _jpeg_encoder() -> bool:
    """imagecodecs' libjpeg-turbo writes 12-bit and lossless JPEG (version 3 and later)."""
    try:
        import imagecodecs

        return bool(imagecodecs.JPEG8.available) and \
            int(imagecodecs.jpeg8_version().split()[-1].split(".")[0]) >= 3
    except (ImportError, AttributeError, ValueError):
        return False


def ct_small() -> Input:
    from pydicom.data import get_testdata_file

    return make_input([get_testdata_file("CT_small.dcm")], "CT_small")


def _native_ct_dataset(label: str, n: int, rows: int, cols: int, dtype: str):
    """The data set (no Pixel Data yet) of a native multi-frame CT benchmark file with
    Bits Stored 12; DATA_DIR made for it."""
    from dicomframes import testing

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    ds = testing.new_dataset(sop_class=ENHANCED_CT, entropy=f"bench {label}")
    testing.set_image_pixel(ds, rows=rows, columns=cols, dtype=dtype, frames=n, bits_stored=12)
    ds.Modality, ds.Manufacturer = "CT", "dicomframes synthetic"
    ds.PatientName, ds.PatientID = "Synthetic^Bench", "DCF-BENCH"
    return ds


def ct_500(force: bool = False) -> Input:
    """The 500-frame native file, written frame by frame (never whole in memory)."""
    from dicomframes import testing

    n, rows, cols = 500, 512, 512
    path = DATA_DIR / f"ct_{n}x{rows}x{cols}_u16_{VERSION}.dcm"
    if force or not path.exists():
        ds = _native_ct_dataset("ct_500", n, rows, cols, "uint16")
        ds.ImageType = ["DERIVED", "PRIMARY", "AXIAL", "NONE"]
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "-1024", "1", "HU"
        testing.write_frames(ds, big_frames(n, rows, cols), path)
    return make_input([path], "ct_500", encoder="dicomframes.testing.write_frames")


def _ct_300_frame(k: int) -> np.ndarray:
    return ct_frame(k, 300)


def ct_300(force: bool = False) -> Input:
    """The native report's file: the CT phantom at 300 slices, 512 x 512 signed 16-bit
    with Bits Stored 12 (-2048 .. ~1030 HU: every value canonical), written frame by
    frame from a process pool."""
    from dicomframes import testing

    n, rows, cols = 300, 512, 512
    path = DATA_DIR / f"ct_{n}x{rows}x{cols}_i16_bs12_{VERSION}.dcm"
    if force or not path.exists():
        ds = _native_ct_dataset("ct_300", n, rows, cols, "int16")
        for keyword, value in CT_EXTRA:
            setattr(ds, keyword, value)
        with ProcessPoolExecutor() as pool:
            testing.write_frames(ds, pool.map(_ct_300_frame, range(n), chunksize=8), path)
    return make_input([path], "ct_300", encoder="dicomframes.testing.write_frames")


# every label an input can have, and how to make it
LABELS = ["CT_small", "ct_500", "ct_300",
          *(f"{kind}_{c}" for kind in ("ct", "us", "series") for c in LOSSLESS), *JPEG_LABELS]


def inputs(labels: Iterable[str], force: bool = False) -> dict[str, Input]:
    """The inputs of `labels` (see LABELS), generated when missing, in the order given;
    a label that cannot be made here (HTJ2K without its encoder) is left out."""
    labels = list(labels)
    made: dict[str, Input] = {}
    for kind in ("ct", "us", "series"):
        codecs = [c for c in (*LOSSLESS, *JPEG_INPUTS) if f"{kind}_{c}" in labels
                  and (c not in JPEG_INPUTS or JPEG_INPUTS[c].kind == kind)]
        if codecs:
            make = series_inputs if kind == "series" else \
                (lambda cs, force, kind=kind: codec_inputs(kind, cs, force))
            made.update(make(codecs, force=force))
    if "CT_small" in labels:
        made["CT_small"] = ct_small()
    if "ct_500" in labels:
        made["ct_500"] = ct_500(force)
    if "ct_300" in labels:
        made["ct_300"] = ct_300(force)
    return {lab: made[lab] for lab in labels if lab in made}


def truth(inp: Input) -> np.ndarray | None:
    """The ground truth of `inp`, independent of dicomframes: its native twin read by
    pydicom; for a lossy input, its frames decoded by imagecodecs (libjpeg-turbo, as
    RGB for YBR_FULL_422 like pydicom's default), which peers must match within
    ``inp.tolerance`` (None when it has neither)."""
    from pydicom.pixels import pixel_array

    if inp.syntax.lossy:
        return reference_decode(inp)
    if not inp.truth:
        return None
    native = inputs([inp.truth])[inp.truth]
    if native.is_series:
        return np.stack([pixel_array(p) for p in native.paths])
    return pixel_array(native.paths[0])


def reference_decode(inp: Input) -> np.ndarray:
    """Every frame of `inp` decoded by the imagecodecs case (its codestreams taken with
    pydicom)."""
    from dicomframes.bench.cases import imagecodecs_all

    return imagecodecs_all()(inp, 1, None)()


# ---------------------------------------------------------------------------------------
# the goals, judged on minimum times (never failing anything)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Goal:
    """time(`slower`) / time(`faster`) >= `at_least` (or <= `at_most`; neither: shown for
    information) in report `report`, job `job`, on the inputs whose codec is in `codecs`
    (empty: all) or whose label is `only`.  A reference is a case name, "name@t" (at t
    threads), "fastest peer" or "fastest GIL-holding peer@t" (its best at up to t threads),
    optionally "label|..." for another input of the same job."""

    report: str
    job: str
    text: str
    slower: str
    faster: str
    at_least: float | None = None
    at_most: float | None = None
    codecs: tuple[str, ...] = ()
    only: str = ""


COMPRESSED = ("rle", "jpegls", "j2k", "htj2k")
GOALS = [
    Goal("open", "open", "open CT_small vs pydicom.dcmread(stop_before_pixels=True)",
         "pydicom", "dicomframes", at_least=50, only="CT_small"),
    Goal("open", "open", "open CT_small vs dicomsdl.open", "dicomsdl", "dicomframes",
         at_least=1, only="CT_small"),
    Goal("open", "open", "open ct_500 / open CT_small (dicomframes)", "ct_500|dicomframes",
         "CT_small|dicomframes", at_most=2, only="CT_small"),
    *(Goal("open", "frame", f"frame {FRAME_INDEX}, {name}, vs pydicom.pixels.pixel_array",
           "pydicom", name, at_least=50 if name != "dicomframes-copy" else None, only="ct_500")
      for name in ("dicomframes", "dicomframes-raw-bits", "dicomframes-opened",
                   "dicomframes-opened-cycling", "dicomframes-copy")),
    Goal("codecs", "all", "all frames vs the fastest peer", "fastest peer", "dicomframes",
         at_least=2, codecs=("rle",)),
    Goal("codecs", "all", "all frames vs the fastest peer", "fastest peer", "dicomframes",
         at_least=1, codecs=("jpegls", "j2k", "htj2k")),
    # issue 10: our own JPEG-LS decoder against CharLS 2.4.3's release build (imagecodecs)
    Goal("codecs", "all", "all frames vs imagecodecs (CharLS 2.4.3 release build)",
         "imagecodecs", "dicomframes", at_least=1.2, codecs=("jpegls",)),
    Goal("codecs", "all", "all frames vs imagecodecs (OpenJPH engine)", "imagecodecs",
         "dicomframes", codecs=("htj2k",)),
    *(Goal("codecs", "all", "all frames vs the fastest peer", "fastest peer", "dicomframes",
           at_least=at_least, only=label)
      for label, at_least in (("ct_jpegll", 1.5), ("ct_jpeg12", 1.0), ("us_jpeg8", 1.0))),
    Goal("codecs", "frame", "open + frame k vs pydicom + pylibjpeg-rle", "pydicom+pylibjpeg",
         "dicomframes", at_least=10, codecs=("rle",)),
    Goal("codecs", "frame", "open + frame k vs our engine call alone", "dicomframes",
         "engine: dicomframes._codecs", at_most=1.05, codecs=("jpegls", "j2k", "htj2k")),
    Goal("codecs", "frame", "f[k] on an open file vs our engine call", "dicomframes-opened",
         "engine: dicomframes._codecs", codecs=("jpegls", "j2k", "htj2k", "jpeg")),
    Goal("codecs", "frame", "open + frame k vs imagecodecs' engine", "dicomframes",
         "engine: imagecodecs", codecs=("jpegls", "j2k", "htj2k", "jpeg")),
    Goal("parallel", "all", "dicomframes 2T / 1T", "dicomframes@1", "dicomframes@2",
         at_least=1.8),
    Goal("parallel", "all", "dicomframes 2T vs every GIL-holding peer",
         "fastest GIL-holding peer@2", "dicomframes@2", at_least=3, codecs=("rle",)),
    Goal("parallel", "all", "dicomframes 2T vs every GIL-holding peer",
         "fastest GIL-holding peer@2", "dicomframes@2", at_least=1.8,
         codecs=("jpegls", "j2k", "htj2k")),
    Goal("parallel", "all", "dicomframes 2T vs imagecodecs from a 2-thread pool",
         "imagecodecs@2", "dicomframes@2", at_least=1, codecs=COMPRESSED),
    Goal("parallel", "all", "vs imagecodecs(openjpeg-ht), 2-thread pool (the same engine)",
         "imagecodecs(openjpeg-ht)@2", "dicomframes@2", codecs=("htj2k",)),
]

# which cases each table compares (names of dicomframes.bench.PEERS)
OPEN_PEERS = ["dicomframes", "pydicom", "dicomsdl"]
NATIVE_FRAME_PEERS = ["dicomframes", "dicomframes-copy", "dicomframes-out",
                      "dicomframes-raw-bits", "dicomframes-opened",
                      "dicomframes-opened-cycling", "pydicom", "dicomsdl", "numpy-memmap",
                      "mmap-frombuffer", "readinto"]
CODEC_FRAME_PEERS = ["dicomframes", "dicomframes-opened", "engine: dicomframes._codecs",
                     "engine: imagecodecs", "engine: imagecodecs(openjpeg-ht)", "pydicom",
                     "pydicom+pylibjpeg", "pydicom+pyjpegls", "pydicom+pillow", "pydicom+gdcm"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="generate the benchmark inputs, and describe them")
    ap.add_argument("labels", nargs="*", help=f"default: all ({', '.join(LABELS)})")
    ap.add_argument("--force", action="store_true", help="regenerate even if cached")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    for inp in inputs(args.labels or LABELS, force=args.force).values():
        print(f"{inp.label}: {inp.describe()}, {inp.file_bytes / 1e6:.1f} MB in "
              f"{Path(inp.paths[0]).parent}, {inp.encoder}")
    print(f"({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
