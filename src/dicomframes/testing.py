"""DICOM files for tests, examples, fuzz seeds and benchmark inputs (as ``numpy.testing``
is for arrays): the one place where dicomframes writes DICOM, through pydicom.

    from dicomframes.testing import make_dicom, make_dataset, write
    data = make_dicom(np.zeros((4, 64, 64), np.uint16), frames=4, compress=RLE_LOSSLESS)
    ds = make_dataset(frames_array, frames=n, encoded=codestreams, syntax=JPEG_2000_LOSSLESS)
    write(ds, "ct_j2k.dcm")

pydicom (>= 3.0) is needed (``pip install dicomframes[test]``); the library's decoding
never imports this module (only the benchmark harness, dicomframes.bench, does).
"""

from __future__ import annotations

import http.server
import io
import os
import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .uids import (
    DEFLATED_IMAGE_FRAME_COMPRESSION,
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    JPEG_2000_LOSSLESS,
)

try:
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.encaps import encapsulate, encapsulate_extended
    from pydicom.uid import generate_uid
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("dicomframes.testing writes DICOM with pydicom >= 3.0: "
                      "pip install 'dicomframes[test]'") from exc

__all__ = [
    "SECONDARY_CAPTURE",
    "UID_PREFIX",
    "dicom_bytes",
    "encapsulated_pixel_data",
    "encode_frame",
    "encode_jpeg",
    "make_dataset",
    "make_dicom",
    "native_pixel_data",
    "new_dataset",
    "reencapsulate",
    "set_file_meta",
    "set_image_pixel",
    "uid",
    "write",
    "write_frames",
]

SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
# pydicom's prefix for generated UIDs (derived from their entropy sources, so repeatable).
UID_PREFIX = "1.2.826.0.1.3680043.8.498."


def uid(*parts: str) -> str:
    """A UID derived from `parts` alone: the same parts give the same UID."""
    return generate_uid(prefix=UID_PREFIX, entropy_srcs=["dicomframes", *parts])


def new_dataset(syntax: str = EXPLICIT_VR_LITTLE_ENDIAN, *, sop_class: str = SECONDARY_CAPTURE,
                entropy: str = "") -> Dataset:
    """An empty data set with its file meta (transfer syntax `syntax`) and SOP Class /
    Instance UIDs (the instance derived from `entropy`)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = uid("sop", entropy)
    meta.TransferSyntaxUID = syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    return ds


def set_image_pixel(ds: Dataset, *, rows: int, columns: int, dtype: Any,
                    samples_per_pixel: int = 1, frames: int | None = None,
                    bits_stored: int | None = None, photometric: str | None = None,
                    planar_configuration: int = 0) -> None:
    """The Image Pixel module attributes for frames of `dtype` (u1/i1/u2/i2/u4/i4);
    Number of Frames only when `frames` is given."""
    dtype = np.dtype(dtype)
    bits = dtype.itemsize * 8
    ds.SamplesPerPixel = samples_per_pixel
    ds.PhotometricInterpretation = photometric or (
        "RGB" if samples_per_pixel == 3 else "MONOCHROME2")
    if samples_per_pixel > 1:
        ds.PlanarConfiguration = planar_configuration
    if frames is not None:
        ds.NumberOfFrames = frames
    ds.Rows, ds.Columns = rows, columns
    ds.BitsAllocated = bits
    ds.BitsStored = bits_stored or bits
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if dtype.kind == "i" else 0


def encapsulated_pixel_data(ds: Dataset, encoded: Sequence[bytes], *,
                            offset_table: str = "basic", fragments_per_frame: int = 1) -> None:
    """Pixel Data as encapsulated `encoded` frames, `fragments_per_frame` fragments
    each, with a Basic Offset Table (`offset_table` "basic"), an empty one plus an
    Extended Offset Table ("extended", one fragment per frame), or an empty one
    ("none"). An Extended Offset Table already in `ds` goes unless asked for."""
    frames = [bytes(frame) for frame in encoded]
    if offset_table == "extended":
        if fragments_per_frame != 1:
            raise ValueError("an Extended Offset Table here places one fragment per frame")
        value, offsets, lengths = encapsulate_extended(frames)
        ds.ExtendedOffsetTable = offsets
        ds.ExtendedOffsetTableLengths = lengths
    elif offset_table in ("basic", "none"):
        value = encapsulate(frames, has_bot=offset_table == "basic",
                            fragments_per_frame=fragments_per_frame)
        for keyword in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
            if keyword in ds:
                delattr(ds, keyword)
    else:
        raise ValueError(f"offset_table {offset_table!r}: 'basic', 'extended' or 'none'")
    ds.PixelData = value
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True


def reencapsulate(data: bytes, *, offset_table: str = "none",
                  fragments_per_frame: int = 1) -> bytes:
    """DICOM bytes `data` (encapsulated Pixel Data) written again with each frame's
    codestream, as dicomframes locates it, in `fragments_per_frame` fragments and
    `offset_table` (see :func:`encapsulated_pixel_data`); every other element kept."""
    import io

    from pydicom import dcmread

    from .file import open as open_dicom

    with open_dicom(data) as f:
        encoded = [bytes(f.encoded_frame(k)) for k in range(len(f))]
    ds = dcmread(io.BytesIO(data))
    encapsulated_pixel_data(ds, encoded, offset_table=offset_table,
                            fragments_per_frame=fragments_per_frame)
    return dicom_bytes(ds)


def make_dataset(arr: np.ndarray, *, syntax: str = EXPLICIT_VR_LITTLE_ENDIAN,
                 frames: int | None = None, photometric: str | None = None,
                 bits_stored: int | None = None, extra: Mapping[str, Any] | None = None,
                 compress: str | None = None, encoded: Sequence[bytes] | None = None,
                 offset_table: str = "basic", sop_class: str = SECONDARY_CAPTURE,
                 entropy: str | None = None) -> Dataset:
    """A data set holding `arr`, shape (frames, rows, cols[, 3]) (or (rows, cols[, 3]) with
    `frames` None), dtype u1/i1/u2/i2/u4/i4, as native Pixel Data in `syntax`.

    `compress`: a transfer syntax UID to encode `arr` with pydicom's encoders (RLE; JPEG-LS
    through pyjpegls; JPEG 2000 through pylibjpeg-openjpeg), losslessly. `encoded`: frames
    already encoded in `syntax` (by any encoder; `arr` then gives the image attributes and
    the values they decode to). Either is written with `offset_table`. `extra`: more attributes by
    keyword; a callable value is called with the data set."""
    arr = np.asarray(arr)
    frame_shape = arr.shape[1:] if frames is not None else arr.shape
    samples = 3 if len(frame_shape) == 3 else 1
    ds = new_dataset(syntax, sop_class=sop_class,
                     entropy=entropy if entropy is not None else f"{arr.shape}{arr.dtype}")
    ds.PatientName = "Test^DicomFrames"
    set_image_pixel(ds, rows=frame_shape[0], columns=frame_shape[1], dtype=arr.dtype,
                    samples_per_pixel=samples, frames=frames, bits_stored=bits_stored,
                    photometric=photometric)
    if encoded is not None:
        encapsulated_pixel_data(ds, encoded, offset_table=offset_table)
    else:
        native_pixel_data(ds, arr)
    for keyword, value in (extra or {}).items():
        setattr(ds, keyword, value(ds) if callable(value) else value)
    if compress is not None:
        ds.compress(compress, arr, generate_instance_uid=False)
        if offset_table != "basic":  # pydicom writes a Basic Offset Table
            from pydicom.encaps import generate_frames

            count = frames if frames is not None else 1
            encapsulated_pixel_data(ds, list(generate_frames(ds.PixelData,
                                                             number_of_frames=count)),
                                    offset_table=offset_table)
    return ds


def dicom_bytes(ds: Dataset) -> bytes:
    """`ds` written as a DICOM file (preamble, file meta); pydicom's warnings about odd
    values are silenced, since tests write them on purpose. A transfer syntax that the
    installed pydicom does not know (Deflated Image Frame Compression before pydicom
    3.1) is written through a stand-in of the same encoding and padded length."""
    syntax = ds.file_meta.get("TransferSyntaxUID")
    stand_in = None
    if syntax is not None and not pydicom.uid.UID(syntax).is_transfer_syntax:
        stand_in = _STAND_INS.get(str(syntax))
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if stand_in is None:
            pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
        else:
            ds.file_meta.TransferSyntaxUID = stand_in
            try:
                pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
            finally:
                ds.file_meta.TransferSyntaxUID = syntax
    data = buffer.getvalue()
    if stand_in is not None:
        old, new = _padded(stand_in), _padded(str(syntax))
        at = data.index(old, 132)  # in the file meta: the first occurrence
        data = data[:at] + new + data[at + len(old):]
    return data


def _padded(uid: str) -> bytes:
    return uid.encode("ascii") + b"\0" * (len(uid) % 2)


# Unknown syntax -> a known one with the same encoding (explicit VR little endian,
# encapsulated) and the same padded length.
_STAND_INS = {DEFLATED_IMAGE_FRAME_COMPRESSION: JPEG_2000_LOSSLESS}


def make_dicom(arr: np.ndarray, **options: Any) -> bytes:
    """:func:`make_dataset` written as DICOM bytes."""
    return dicom_bytes(make_dataset(arr, **options))


def write(ds: Dataset | bytes, path: str | os.PathLike) -> Path:
    """Write `ds` (a data set or DICOM bytes) to `path` atomically: a reader never sees
    half a file, even when several processes make the same inputs."""
    path = Path(path)
    data = ds if isinstance(ds, (bytes, bytearray)) else dicom_bytes(ds)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def native_pixel_data(ds: Dataset, pixels: np.ndarray | bytes, *, vr: str | None = None,
                      tag: int = 0x7FE00010) -> None:
    """Native (uncompressed) Pixel Data: `pixels` as bytes, verbatim, or an array written
    in the byte order of the data set's transfer syntax (big endian for Explicit VR Big
    Endian); padded to an even length. `vr`: by default OB for bytes and 1-byte arrays,
    OW otherwise. `tag`: another pixel element (Float / Double Float Pixel Data)."""
    if isinstance(pixels, (bytes, bytearray, memoryview)):
        raw = bytes(pixels)
        vr = vr or "OB"
    else:
        arr = np.asarray(pixels)
        syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
        order = ">" if syntax == EXPLICIT_VR_BIG_ENDIAN else "<"
        raw = arr.astype(arr.dtype.newbyteorder(order)).tobytes()
        vr = vr or ("OB" if arr.dtype.itemsize == 1 else "OW")
    if len(raw) % 2:
        raw += b"\0"
    ds.add_new(tag, vr, raw)


def set_file_meta(ds: Dataset, *, sop_instance: str | None = None,
                  implementation_class_uid: str | None = None,
                  implementation_version_name: str | None = None,
                  version: bytes | None = None) -> None:
    """Fix file meta values that pydicom would otherwise fill in (and that would then
    depend on its version), for files that must be byte-identical from one run to the
    next: the SOP Instance UID (the data set's and the meta's), the Implementation Class
    UID / Version Name, the File Meta Information Version."""
    meta = ds.file_meta
    if version is not None:
        meta.FileMetaInformationVersion = version
    if sop_instance is not None:
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = sop_instance
    if implementation_class_uid is not None:
        meta.ImplementationClassUID = implementation_class_uid
    if implementation_version_name is not None:
        meta.ImplementationVersionName = implementation_version_name



def encode_frame(arr: np.ndarray, syntax: str, *, bits_stored: int | None = None,
                 photometric: str | None = None, plugin: str = "") -> bytes:
    """One frame, shape (rows, cols[, 3]), encoded losslessly in `syntax`: RLE, JPEG-LS and
    JPEG 2000 with pydicom's encoders (`plugin`: one of theirs; default: pydicom's choice),
    HTJ2K with imagecodecs (OpenJPH), JPEG lossless (Process 14, SV1) with imagecodecs
    (:func:`encode_jpeg`). `photometric`: as the file will say (YBR_RCT for
    colour J2K/HTJ2K with the reversible colour transform). Raises NotImplementedError,
    with the reason, when no encoder for `syntax` is installed."""
    from .uids import HTJ2K_LOSSLESS, JPEG_LOSSLESS, JPEG_LOSSLESS_SV1

    if syntax in (JPEG_LOSSLESS, JPEG_LOSSLESS_SV1):
        return encode_jpeg(arr, syntax, bits_stored=bits_stored, photometric=photometric)
    arr = np.ascontiguousarray(arr)
    samples = 3 if arr.ndim == 3 else 1
    if syntax == HTJ2K_LOSSLESS:
        try:
            import imagecodecs
        except ImportError:
            raise NotImplementedError("no HTJ2K encoder (imagecodecs not installed)") from None
        if not imagecodecs.HTJ2K.available:
            raise NotImplementedError("imagecodecs has no HTJ2K encoder")
        codestream = bytes(imagecodecs.htj2k_encode(arr))  # reversible by default
        cod = codestream.find(b"\xff\x52")  # COD marker: byte 8 asks for the colour transform
        if samples == 3 and not (cod >= 0 and codestream[cod + 8] == 1):
            raise RuntimeError("htj2k_encode did not use the colour transform")
        return codestream
    from pydicom.pixels.encoders.base import get_encoder

    try:
        encoder = get_encoder(syntax)
    except NotImplementedError:
        raise NotImplementedError(f"pydicom has no encoder for {syntax}") from None
    if not encoder.is_available or (plugin and plugin not in encoder.available_plugins):
        raise NotImplementedError(f"no pydicom encoder plugin {plugin or ''} for "
                                  f"{encoder.UID.name}".replace("  ", " "))
    bits = arr.dtype.itemsize * 8
    options: dict[str, Any] = {
        "rows": arr.shape[0], "columns": arr.shape[1], "samples_per_pixel": samples,
        "bits_allocated": bits, "bits_stored": bits_stored or bits,
        "pixel_representation": 1 if arr.dtype.kind == "i" else 0,
        "photometric_interpretation": photometric or ("RGB" if samples == 3 else "MONOCHROME2"),
        "number_of_frames": 1, "planar_configuration": 0}
    if plugin:
        options["encoding_plugin"] = plugin
    return bytes(encoder.encode(arr, **options))


def write_frames(ds: Dataset, frames: Iterable[np.ndarray], path: str | os.PathLike) -> Path:
    """`ds` (no Pixel Data in it) written to `path` with native little-endian Pixel Data
    made of `frames`, appended as they come: for files too large to hold in memory twice.
    Atomic like :func:`write`. The frames must fill exactly the Rows x Columns x Samples
    x Number of Frames that `ds` declares."""
    import struct

    path = Path(path)
    bytes_per_sample = ds.BitsAllocated // 8
    nbytes = (int(ds.get("NumberOfFrames", 1)) * ds.Rows * ds.Columns * ds.SamplesPerPixel
              * bytes_per_sample)
    vr = b"OB" if bytes_per_sample == 1 else b"OW"
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    written = 0
    with open(tmp, "wb") as fp:
        fp.write(dicom_bytes(ds))
        fp.write(struct.pack("<HH2sHI", 0x7FE0, 0x0010, vr, 0, nbytes))
        for frame in frames:
            data = np.asarray(frame)
            data = data.astype(data.dtype.newbyteorder("<"), copy=False).tobytes()
            written += len(data)
            fp.write(data)
    if written != nbytes:
        tmp.unlink()
        raise ValueError(f"frames hold {written} bytes, the data set declares {nbytes}")
    os.replace(tmp, path)
    return path


def encode_jpeg(arr: np.ndarray, syntax: str, *, bits_stored: int | None = None,
                photometric: str | None = None, level: int = 90) -> bytes:
    """One frame, shape (rows, cols[, 3]), as a JPEG codestream with imagecodecs'
    ``jpeg8_encode`` (libjpeg-turbo >= 3: 8-bit, 12-bit and lossless). `syntax`: JPEG
    Baseline (8-bit DCT, SOF0), JPEG Extended (12-bit DCT when `bits_stored` > 8, SOF1),
    JPEG Lossless (Process 14, predictor 1, at `bits_stored` bits, SOF3; signed samples
    are stored as their two's complement in those bits, as DICOM says). `level`: the DCT
    quality. `photometric` for colour DCT: YBR_FULL_422 (YCbCr, chroma subsampled 2:1
    horizontally), YBR_FULL (YCbCr 4:4:4) or RGB (no colour transform). Raises
    NotImplementedError when imagecodecs (with JPEG) is not installed."""
    from .uids import JPEG_BASELINE, JPEG_EXTENDED, JPEG_LOSSLESS, JPEG_LOSSLESS_SV1

    try:
        import imagecodecs
    except ImportError:
        raise NotImplementedError("no JPEG encoder (imagecodecs not installed)") from None
    if not imagecodecs.JPEG8.available:
        raise NotImplementedError("imagecodecs has no JPEG encoder")
    arr = np.ascontiguousarray(arr)
    bits = bits_stored or arr.dtype.itemsize * 8
    if syntax in (JPEG_LOSSLESS, JPEG_LOSSLESS_SV1):
        unsigned = arr.view(arr.dtype.str.replace("i", "u"))
        if bits < unsigned.dtype.itemsize * 8:  # two's complement in `bits` bits
            unsigned = unsigned & np.array((1 << bits) - 1, unsigned.dtype)
        return bytes(imagecodecs.jpeg8_encode(unsigned, lossless=True, predictor=1,
                                              bitspersample=bits))
    if syntax not in (JPEG_BASELINE, JPEG_EXTENDED) or arr.dtype.kind != "u" or \
            bits > (8 if syntax == JPEG_BASELINE else 12):
        raise ValueError(f"encode_jpeg: {syntax} with {bits}-bit {arr.dtype} samples")
    options: dict[str, Any] = {}
    if arr.ndim == 3:
        photometric = photometric or "YBR_FULL_422"
        options = {"colorspace": "RGB", "subsampling": (2, 1) if photometric.endswith("422")
                   else (1, 1), "outcolorspace": "RGB" if photometric == "RGB" else "YCbCr"}
    return bytes(imagecodecs.jpeg8_encode(arr, level=level,
                                          bitspersample=12 if bits > 8 else 8, **options))


# ---- a local HTTP server with Range support (tests and benchmarks of remote reads) ----


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    data = b""
    ranges = True
    token: str | None = None  # the Authorization header required, if any
    sent = [0, 0]  # bytes of bodies sent and GET requests answered, shared by the handlers

    def log_message(self, *args: object) -> None:
        pass

    def _head(self) -> tuple[int, int, int] | None:
        if self.token is not None and self.headers.get("Authorization") != self.token:
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        size = len(self.data)
        spec = self.headers.get("Range")
        if spec and self.ranges and spec.startswith("bytes="):
            first, _, last = spec[6:].partition("-")
            start = int(first)
            end = min(int(last) + 1, size) if last else size
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
        else:
            start, end = 0, size
            self.send_response(200)
        self.send_header("Content-Length", str(end - start))
        self.send_header("Accept-Ranges", "bytes" if self.ranges else "none")
        self.end_headers()
        return start, end, size

    def do_HEAD(self) -> None:
        self._head()

    def do_GET(self) -> None:
        head = self._head()
        if head is None:
            return
        start, end, _ = head
        body = self.data[start:end]
        self.sent[0] += len(body)
        self.sent[1] += 1
        self.wfile.write(body)


@contextmanager
def serve_ranges(data: bytes, ranges: bool = True,
                 token: str | None = None) -> Iterator[tuple[str, list[int]]]:
    """Serve `data` over HTTP on 127.0.0.1 (a thread, stopped on exit), honouring Range
    requests unless `ranges` is False (then 200 and the whole body); yields the URL and a
    list counting the body bytes sent and the GET requests answered. `token`: answer 403 to requests without
    this Authorization header. For tests and benchmarks of remote reads."""
    handler = type("Handler", (_RangeHandler,), {"data": data, "ranges": ranges, "sent": [0, 0],
                                                 "token": token})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/f.dcm", handler.sent
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
