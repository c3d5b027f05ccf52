"""Small DICOM files built with pydicom for the tests: native or compressed with
pydicom's own encoders (RLE; JPEG-LS through pyjpegls; JPEG 2000 through
pylibjpeg-openjpeg), with any extra attributes."""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")
from pydicom.dataset import Dataset, FileMetaDataset  # noqa: E402
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, generate_uid  # noqa: E402


def new_dataset(syntax: str = ExplicitVRLittleEndian, *, entropy: str = "") -> Dataset:
    """An empty Secondary Capture data set with its file meta (transfer syntax
    `syntax`) and SOP Class / Instance UIDs (derived from `entropy`)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=["dcf-test", entropy])
    meta.TransferSyntaxUID = syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    return ds


def dicom_bytes(ds: Dataset) -> bytes:
    """`ds` written as a DICOM file (pydicom's warnings about odd values silenced:
    several tests write them on purpose)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def make_dicom(arr: np.ndarray, *, syntax=ExplicitVRLittleEndian, frames: int | None = None,
               photometric: str | None = None, bits_stored: int | None = None,
               extra: dict[str, Any] | None = None, compress: str | None = None) -> bytes:
    """DICOM bytes holding `arr`, shape (frames, rows, cols[, 3]) (or (rows, cols[, 3])
    with `frames` None), dtype u1/i1/u2/i2/u4/i4. `extra`: more attributes by keyword
    (a callable value gets the Dataset). `compress`: a transfer syntax UID to encode
    the pixels with, using pydicom's encoders (lossless)."""
    arr = np.asarray(arr)
    multi = frames is not None
    frame_shape = arr.shape[1:] if multi else arr.shape
    spp = 3 if len(frame_shape) == 3 else 1
    bits = arr.dtype.itemsize * 8
    ds = new_dataset(syntax, entropy=str(arr.shape))
    ds.PatientName = "Test^API"
    ds.SamplesPerPixel = spp
    ds.PhotometricInterpretation = photometric or ("RGB" if spp == 3 else "MONOCHROME2")
    if spp == 3:
        ds.PlanarConfiguration = 0
    if multi:
        ds.NumberOfFrames = frames
    ds.Rows, ds.Columns = frame_shape[0], frame_shape[1]
    ds.BitsAllocated = bits
    ds.BitsStored = bits_stored or bits
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if arr.dtype.kind == "i" else 0
    order = ">" if syntax == ExplicitVRBigEndian else "<"
    raw = arr.astype(arr.dtype.newbyteorder(order)).tobytes()
    if len(raw) % 2:
        raw += b"\0"
    ds.add_new(0x7FE00010, "OB" if bits == 8 else "OW", raw)
    for keyword, value in (extra or {}).items():
        setattr(ds, keyword, value(ds) if callable(value) else value)
    if compress is not None:
        ds.compress(compress, arr, generate_instance_uid=False)
    return dicom_bytes(ds)


