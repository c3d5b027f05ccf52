"""The default sample files of ``dicomframes bench`` (when no FILES are given): one small
multi-frame CT-like phantom written in each transfer syntax an installed encoder can write."""

from __future__ import annotations

import os

import numpy as np


def _phantom(frames: int, size: int) -> np.ndarray:
    """A small CT-like volume (int16 HU): body, bone ring, a moving blob, noise."""
    rng = np.random.default_rng(20261123)
    y, x = (np.mgrid[0:size, 0:size].astype(np.float32) - size / 2) / (size / 2)
    vol = np.empty((frames, size, size), np.int16)
    for k in range(frames):
        z = k / max(frames - 1, 1)
        hu = np.full((size, size), -1000.0, np.float32)
        r2 = (x / 0.8) ** 2 + (y / 0.6) ** 2
        hu[r2 < 1.0] = 40.0
        hu[(r2 < 0.35) & (r2 > 0.25)] = 800.0
        hu[(x - 0.4 * np.cos(6 * z)) ** 2 + (y - 0.2 * np.sin(6 * z)) ** 2 < 0.02] = 150.0
        hu += rng.normal(0.0, 12.0, hu.shape).astype(np.float32)
        vol[k] = np.rint(hu)
    return vol


def default_files(directory: str | os.PathLike, frames: int = 48,
                  size: int = 256) -> tuple[list[str], list[str]]:
    """Write one small multi-frame CT-like file per syntax that an installed encoder can
    write (native, RLE, JPEG-LS, JPEG 2000, HTJ2K) into `directory`, with pydicom.
    Returns (paths, notes on the syntaxes left out).  Raises ``bench.Skip`` without
    pydicom."""
    from .bench import Skip, _need

    _need("pydicom")
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.encaps import encapsulate
    from pydicom.pixels.encoders import (
        JPEG2000LosslessEncoder,
        JPEGLSLosslessEncoder,
        RLELosslessEncoder,
    )
    from pydicom.uid import generate_uid

    vol = _phantom(frames, size)
    geometry = dict(rows=size, columns=size, samples_per_pixel=1, bits_allocated=16,
                    bits_stored=16, pixel_representation=1,
                    photometric_interpretation="MONOCHROME2", number_of_frames=1)

    def with_pydicom(encoder):
        if not encoder.is_available:
            raise Skip(f"no pydicom encoder plugin for {encoder.UID.name}")
        return lambda a: bytes(encoder.encode(a, **geometry))

    def htj2k(a):
        ic = _need("imagecodecs")
        if not ic.HTJ2K.available:
            raise Skip("imagecodecs has no HTJ2K encoder")
        return bytes(ic.htj2k_encode(a))

    syntaxes = [
        ("native", "1.2.840.10008.1.2.1", None),
        ("rle", "1.2.840.10008.1.2.5", lambda: with_pydicom(RLELosslessEncoder)),
        ("jls", "1.2.840.10008.1.2.4.80", lambda: with_pydicom(JPEGLSLosslessEncoder)),
        ("j2k", "1.2.840.10008.1.2.4.90", lambda: with_pydicom(JPEG2000LosslessEncoder)),
        ("htj2k", "1.2.840.10008.1.2.4.201", lambda: htj2k),
    ]
    paths, left_out = [], []
    for key, uid, make_encoder in syntaxes:
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = uid
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = \
            "1.2.840.10008.5.1.4.1.1.7.3"  # Multi-frame Grayscale Word SC
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.Modality = "OT"
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.NumberOfFrames = frames
        if make_encoder is None:
            ds.PixelData = vol.astype("<i2").tobytes()
            ds["PixelData"].VR = "OW"
        else:
            try:
                encode = make_encoder()
                ds.PixelData = encapsulate([encode(f) for f in vol], has_bot=True)
            except Skip as exc:
                left_out.append(f"{key}: {exc}")
                continue
            ds["PixelData"].VR = "OB"
            ds["PixelData"].is_undefined_length = True
        path = os.path.join(directory, f"ct_{key}.dcm")
        pydicom.dcmwrite(path, ds, enforce_file_format=True)
        paths.append(path)
    return paths, left_out
