"""Benchmark inputs, shared by conftest.py (pytest-benchmark) and report.py (plain script).

* ``ct_small_path()``: pydicom's bundled ``CT_small.dcm`` (128 x 128, 16-bit signed, 39 KB).
* ``big_file()``: a 500-frame 512 x 512 16-bit native file (Explicit VR Little Endian,
  BitsStored 12, PixelRepresentation 0, ~262 MB), generated once and cached under
  ``benchmarks/data/`` (git-ignored).  Generation is fast and memory-light: the header is
  written with pydicom (everything except Pixel Data), then the Pixel Data element header
  and the raw frames are appended chunk by chunk.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent / "data"

N_FRAMES = 500
ROWS = COLS = 512
FRAME_INDEX = 250  # the frame the frame benchmarks read
_VERSION = "v1"  # bump to force regeneration when the content recipe changes
UID_PREFIX = "1.2.826.0.1.3680043.8.498."


@dataclass(frozen=True)
class BigFile:
    path: Path
    n_frames: int
    rows: int
    cols: int
    pixel_offset: int  # file offset of the first pixel byte

    @property
    def frame_bytes(self) -> int:
        return self.rows * self.cols * 2

    def memmap(self) -> np.memmap:
        return np.memmap(self.path, dtype="<u2", mode="r", offset=self.pixel_offset,
                         shape=(self.n_frames, self.rows, self.cols))


def ct_small_path() -> Path:
    from pydicom.data import get_testdata_file

    p = get_testdata_file("CT_small.dcm")
    if p is None:
        raise FileNotFoundError("pydicom test file CT_small.dcm not found")
    return Path(p)


def _header_bytes(n_frames: int, rows: int, cols: int) -> bytes:
    """File preamble + meta + dataset up to (not including) Pixel Data, via pydicom."""
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    def uid(*parts: str) -> str:
        return generate_uid(prefix=UID_PREFIX, entropy_srcs=["dicomframes-bench", *parts])

    sop_class = "1.2.840.10008.5.1.4.1.1.2.1"  # Enhanced CT Image Storage
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = uid("sop")
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = UID_PREFIX + "1"
    meta.ImplementationVersionName = "DICOMFRAMES_010"

    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["DERIVED", "PRIMARY", "AXIAL", "NONE"]
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20240101"
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "120000"
    ds.Modality = "CT"
    ds.Manufacturer = "dicomframes synthetic"
    ds.PatientName = "Synthetic^Bench"
    ds.PatientID = "DCF-BENCH"
    ds.StudyInstanceUID = uid("study")
    ds.SeriesInstanceUID = uid("series")
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.NumberOfFrames = n_frames
    ds.Rows = rows
    ds.Columns = cols
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"

    buf = BytesIO()
    pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


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


def _write_big(path: Path, n_frames: int, rows: int, cols: int, seed: int = 12345) -> int:
    header = _header_bytes(n_frames, rows, cols)
    nbytes = n_frames * rows * cols * 2
    elem = struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, nbytes)
    rng = np.random.default_rng(seed)
    keys = _keyframes(rows, cols, n_key=25)
    pad = 64
    noise = rng.normal(0.0, 18.0, (rows + pad, cols + pad)).astype(np.int16)  # one pool
    offsets = rng.integers(0, pad, size=(n_frames, 2))
    chunk = 25
    frames = np.empty((chunk, rows, cols), np.int16)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "wb") as fp:
        fp.write(header)
        fp.write(elem)
        for start in range(0, n_frames, chunk):
            m = min(chunk, n_frames - start)
            for i in range(m):
                k = start + i
                kf = keys[k * len(keys) // n_frames]
                oy, ox = offsets[k]
                np.add(kf, noise[oy:oy + rows, ox:ox + cols], out=frames[i])
            np.clip(frames[:m], 0, 4095, out=frames[:m])
            fp.write(frames[:m].astype("<u2").tobytes())
    os.replace(tmp, path)
    return len(header) + len(elem)


def big_file(n_frames: int = N_FRAMES, rows: int = ROWS, cols: int = COLS) -> BigFile:
    """Return the cached 500-frame file, generating it first if missing or stale."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"ct_{n_frames}x{rows}x{cols}_u16_{_VERSION}.dcm"
    header_len = len(_header_bytes(n_frames, rows, cols)) + 12
    expected = header_len + n_frames * rows * cols * 2
    if not (path.exists() and path.stat().st_size == expected):
        header_len = _write_big(path, n_frames, rows, cols)
    return BigFile(path=path, n_frames=n_frames, rows=rows, cols=cols, pixel_offset=header_len)


if __name__ == "__main__":  # python benchmarks/benchdata.py: generate and describe
    import time

    t = time.perf_counter()
    bf = big_file()
    print(f"{bf.path}  {bf.path.stat().st_size / 1e6:.1f} MB  pixel offset {bf.pixel_offset}"
          f"  ({time.perf_counter() - t:.2f} s)")
    print(f"{ct_small_path()}")
