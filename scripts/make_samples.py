#!/usr/bin/env python3
"""Generate the small, fully synthetic sample DICOM files used by the demo and docs.

    python scripts/make_samples.py DIR [--check]

Every file is made from our own synthetic content (gradients, shapes and seeded noise),
with UIDs derived deterministically from a fixed prefix and fixed dates/times, so running
the script again produces byte-identical files (for the same pydicom/numpy/zlib versions).
Each file is written with a proper File Meta Information group by
:mod:`dicomframes.testing` (pydicom's ``dcmwrite(..., enforce_file_format=True)``).

With ``--check`` each written file is read back with pydicom and its ``pixel_array`` is
compared with the array it was generated from.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.pixels import pack_bits
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    generate_uid,
)

# UID_PREFIX: the fixed root of every UID we make (pydicom's registered example root + a
# fixed arc).
from dicomframes.testing import (
    UID_PREFIX,
    dicom_bytes,
    native_pixel_data,
    new_dataset,
    set_file_meta,
    set_image_pixel,
)
# Our own implementation identity, so the meta header does not depend on pydicom's version.
IMPLEMENTATION_CLASS_UID = UID("1.2.826.0.1.3680043.8.498.1")
IMPLEMENTATION_VERSION_NAME = "DICOMFRAMES_010"
STUDY_DATE = "20240101"
STUDY_TIME = "120000"

CT_IMAGE = UID("1.2.840.10008.5.1.4.1.1.2")
MR_IMAGE = UID("1.2.840.10008.5.1.4.1.1.4")
SC_IMAGE = UID("1.2.840.10008.5.1.4.1.1.7")
MF_SINGLE_BIT_SC = UID("1.2.840.10008.5.1.4.1.1.7.1")
MF_GRAY_BYTE_SC = UID("1.2.840.10008.5.1.4.1.1.7.2")
MF_TRUE_COLOR_SC = UID("1.2.840.10008.5.1.4.1.1.7.4")


def _uid(*parts: str) -> UID:
    """A deterministic UID below UID_PREFIX, derived from ``parts``."""
    return generate_uid(prefix=UID_PREFIX, entropy_srcs=["dicomframes-samples", *parts])


def _grid(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float64)
    return y, x


# --------------------------------------------------------------------------------------
# synthetic content
# --------------------------------------------------------------------------------------


def ct_slice(rows: int = 256, cols: int = 256, seed: int = 1) -> np.ndarray:
    """CT-like slice in Hounsfield units (int16): air, body ellipse, bone ring, organs, noise."""
    rng = np.random.default_rng(seed)
    y, x = _grid(rows, cols)
    cy, cx = (rows - 1) / 2, (cols - 1) / 2
    ny, nx = (y - cy) / (rows * 0.42), (x - cx) / (cols * 0.46)
    r = np.sqrt(nx**2 + ny**2)
    img = np.full((rows, cols), -1000.0)
    img[r < 1.0] = 40.0  # soft tissue
    img[(r > 0.86) & (r < 1.0)] = -100.0  # fat layer
    ring = (r > 0.70) & (r < 0.76)
    img[ring] = 700.0  # bone-like ring
    for oy, ox, rad, hu in ((-0.25, -0.3, 0.22, -800.0), (-0.25, 0.3, 0.22, -800.0),
                            (0.3, 0.0, 0.15, 60.0), (0.05, -0.05, 0.05, 1200.0)):
        img[(nx - ox) ** 2 + (ny - oy) ** 2 < rad**2] = hu  # lungs, organ, dense dot
    img += 20.0 * np.sin(x / 9.0) * (r < 0.7)  # gentle texture
    img += rng.normal(0.0, 12.0, img.shape)
    return np.clip(np.rint(img), -1024, 3071).astype(np.int16)


def gray8_frames(n: int = 16, rows: int = 64, cols: int = 64, seed: int = 2) -> np.ndarray:
    """A moving bright disc over a diagonal gradient, 8-bit, one frame per step."""
    rng = np.random.default_rng(seed)
    y, x = _grid(rows, cols)
    out = np.empty((n, rows, cols), np.uint8)
    for k in range(n):
        t = 2 * np.pi * k / n
        cy, cx = rows / 2 + rows * 0.25 * np.sin(t), cols / 2 + cols * 0.25 * np.cos(t)
        frame = (x + y) * (120.0 / (rows + cols))
        frame[(y - cy) ** 2 + (x - cx) ** 2 < (rows * 0.15) ** 2] = 230.0
        frame += rng.normal(0.0, 4.0, frame.shape)
        out[k] = np.clip(np.rint(frame), 0, 255).astype(np.uint8)
    return out


def rgb8_image(rows: int = 96, cols: int = 128, seed: int = 3) -> np.ndarray:
    """Colour bars + a hue wheel + noise, shape (rows, cols, 3) uint8."""
    rng = np.random.default_rng(seed)
    y, x = _grid(rows, cols)
    img = np.zeros((rows, cols, 3))
    img[..., 0] = 255.0 * x / (cols - 1)
    img[..., 1] = 255.0 * y / (rows - 1)
    img[..., 2] = 255.0 * (1.0 - x / (cols - 1))
    ang = np.arctan2(y - rows / 2, x - cols / 2)
    disc = (y - rows / 2) ** 2 + (x - cols / 2) ** 2 < (min(rows, cols) * 0.3) ** 2
    for c, phase in enumerate((0.0, 2 * np.pi / 3, 4 * np.pi / 3)):
        img[..., c][disc] = (127.5 + 127.5 * np.cos(ang + phase))[disc]
    img += rng.normal(0.0, 3.0, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def mr16_image(rows: int, cols: int, seed: int, max_value: int = 4095) -> np.ndarray:
    """MR-like unsigned 16-bit image: smooth head-ish blob with rings and noise."""
    rng = np.random.default_rng(seed)
    y, x = _grid(rows, cols)
    ny, nx = (y - rows / 2) / (rows * 0.4), (x - cols / 2) / (cols * 0.35)
    r = np.sqrt(nx**2 + ny**2)
    img = np.where(r < 1.0, 0.55 * max_value * (1.0 - 0.3 * r**2), 0.0)
    img += np.where(r < 0.8, 0.15 * max_value * np.cos(r * 18.0), 0.0)
    img += np.abs(rng.normal(0.0, 0.01 * max_value, img.shape))  # Rician-ish floor
    return np.clip(np.rint(img), 0, max_value).astype(np.uint16)


def bit_frames(n: int = 3, rows: int = 7, cols: int = 9) -> np.ndarray:
    """Binary masks: a growing diamond plus a diagonal line, values 0/1, shape (n, rows, cols)."""
    y, x = _grid(rows, cols)
    out = np.zeros((n, rows, cols), np.uint8)
    for k in range(n):
        diamond = np.abs(y - rows // 2) + np.abs(x - cols // 2) <= k + 1
        diag = x == (y + k) % cols
        out[k] = (diamond | diag).astype(np.uint8)
    return out


# --------------------------------------------------------------------------------------
# datasets
# --------------------------------------------------------------------------------------


def _base(name: str, sop_class: UID, modality: str, tsuid: UID) -> Dataset:
    ds = new_dataset(tsuid, sop_class=sop_class)
    set_file_meta(ds, version=b"\x00\x01", sop_instance=_uid(name, "sop"),
                  implementation_class_uid=IMPLEMENTATION_CLASS_UID,
                  implementation_version_name=IMPLEMENTATION_VERSION_NAME)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = STUDY_DATE
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = STUDY_TIME
    ds.AccessionNumber = ""
    ds.Modality = modality
    ds.Manufacturer = "dicomframes synthetic"
    ds.ReferringPhysicianName = ""
    ds.SeriesDescription = f"dicomframes sample: {name}"
    ds.PatientName = "Synthetic^Phantom"
    ds.PatientID = "DCF-SAMPLE"
    ds.PatientBirthDate = ""
    ds.PatientSex = "O"
    ds.StudyInstanceUID = _uid("study")
    ds.SeriesInstanceUID = _uid(name, "series")
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.PatientOrientation = ""
    return ds


def make_ct_int16() -> tuple[Dataset, np.ndarray]:
    arr = ct_slice()
    ds = _base("ct_int16", CT_IMAGE, "CT", ExplicitVRLittleEndian)
    set_image_pixel(ds, rows=arr.shape[0], columns=arr.shape[1], dtype=arr.dtype)
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.WindowCenter = "40"
    ds.WindowWidth = "400"
    ds.PixelSpacing = ["0.75", "0.75"]
    ds.SliceThickness = "1.0"
    native_pixel_data(ds, arr)
    return ds, arr


def make_multiframe_gray8() -> tuple[Dataset, np.ndarray]:
    arr = gray8_frames()
    ds = _base("mf_gray8", MF_GRAY_BYTE_SC, "OT", ExplicitVRLittleEndian)
    set_image_pixel(ds, rows=arr.shape[1], columns=arr.shape[2], dtype=arr.dtype,
                    frames=arr.shape[0])
    ds.FrameIncrementPointer = 0x00181063  # Frame Time
    ds.FrameTime = "40"
    native_pixel_data(ds, arr)
    return ds, arr


def make_rgb_planar() -> tuple[Dataset, np.ndarray]:
    arr = rgb8_image()
    ds = _base("rgb_planar", SC_IMAGE, "OT", ExplicitVRLittleEndian)
    ds.ConversionType = "WSD"
    set_image_pixel(ds, rows=arr.shape[0], columns=arr.shape[1], dtype=arr.dtype,
                    samples_per_pixel=3, planar_configuration=1)
    # planar configuration 1: all R, then all G, then all B
    native_pixel_data(ds, arr.transpose(2, 0, 1))
    return ds, arr


def make_big_endian() -> tuple[Dataset, np.ndarray]:
    arr = mr16_image(96, 80, seed=4)
    ds = _base("be_uint16", MR_IMAGE, "MR", ExplicitVRBigEndian)
    set_image_pixel(ds, rows=arr.shape[0], columns=arr.shape[1], dtype=arr.dtype,
                    bits_stored=12)
    ds.ScanningSequence = "SE"
    ds.SequenceVariant = "NONE"
    ds.ScanOptions = ""
    ds.MRAcquisitionType = "2D"
    ds.EchoTime = "20"
    ds.RepetitionTime = "500"
    ds.PixelSpacing = ["1.0", "1.0"]
    native_pixel_data(ds, arr)  # written big endian, as the transfer syntax says
    return ds, arr


def make_implicit() -> tuple[Dataset, np.ndarray]:
    arr = np.stack([mr16_image(64, 96, seed=5, max_value=1023),
                    mr16_image(64, 96, seed=6, max_value=1023)])
    ds = _base("implicit_uint16", MR_IMAGE, "MR", ImplicitVRLittleEndian)
    set_image_pixel(ds, rows=arr.shape[1], columns=arr.shape[2], dtype=arr.dtype,
                    bits_stored=10, frames=arr.shape[0])
    ds.ScanningSequence = "GR"
    ds.SequenceVariant = "NONE"
    ds.ScanOptions = ""
    ds.MRAcquisitionType = "2D"
    native_pixel_data(ds, arr)
    return ds, arr


def make_bits1() -> tuple[Dataset, np.ndarray]:
    arr = bit_frames()
    ds = _base("seg_bits1", MF_SINGLE_BIT_SC, "OT", ExplicitVRLittleEndian)
    set_image_pixel(ds, rows=arr.shape[1], columns=arr.shape[2], dtype=arr.dtype,
                    bits_stored=1, frames=arr.shape[0])
    ds.BitsAllocated = 1
    ds.ContentLabel = "MASK"
    # 7 x 9 = 63 bits per frame: frames are packed back to back, not byte aligned.
    native_pixel_data(ds, pack_bits(arr, pad=False))
    return ds, arr


def make_deflated() -> tuple[Dataset, np.ndarray]:
    y, x = _grid(128, 128)
    arr = np.clip(np.rint(128 + 100 * np.sin(x / 11.0) * np.cos(y / 17.0)), 0, 255)
    arr = arr.astype(np.uint8)
    arr[40:88, 40:88] = 255 - arr[40:88, 40:88]
    ds = _base("deflated_gray8", SC_IMAGE, "OT", DeflatedExplicitVRLittleEndian)
    ds.ConversionType = "WSD"
    set_image_pixel(ds, rows=arr.shape[0], columns=arr.shape[1], dtype=arr.dtype)
    native_pixel_data(ds, arr)
    return ds, arr


SAMPLES = {
    "ct_int16.dcm": make_ct_int16,
    "mf_gray8.dcm": make_multiframe_gray8,
    "rgb_planar.dcm": make_rgb_planar,
    "be_uint16.dcm": make_big_endian,
    "implicit_uint16.dcm": make_implicit,
    "seg_bits1.dcm": make_bits1,
    "deflated_gray8.dcm": make_deflated,
}


def check(path: Path, expected: np.ndarray) -> None:
    ds = pydicom.dcmread(path)
    got = ds.pixel_array
    if got.shape != expected.shape or not np.array_equal(got, expected):
        raise SystemExit(f"{path}: pixel_array mismatch: {got.shape} {got.dtype} "
                         f"vs {expected.shape} {expected.dtype}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path, help="output directory (created if missing)")
    ap.add_argument("--check", action="store_true",
                    help="read every file back with pydicom and compare pixel_array")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)

    args.dir.mkdir(parents=True, exist_ok=True)
    for name, make in SAMPLES.items():
        ds, arr = make()
        data = dicom_bytes(ds)
        path = args.dir / name
        # idempotent: leave an identical file untouched (keeps its mtime too)
        if not (path.exists() and path.read_bytes() == data):
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        if args.check:
            check(path, arr)
        if not args.quiet:
            print(f"{path}  {len(data):>7} bytes  {ds.file_meta.TransferSyntaxUID.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
