"""What a benchmark decodes: ``Input`` (one file, or a series of single-frame files decoded
into one stack), made by one factory, ``make_input``; ``group`` for the user's files of
``dicomframes bench``; ``default_files`` for its default set."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..pixels import PixelDescription
from ..uids import CODECS, LOSSLESS_UID, NATIVE, TransferSyntax

MB = 1e6  # everywhere in the benchmarks: MB/s of decoded output, file sizes
# Lossy data: decoders may differ by this much from the reference decode (IDCT and colour
# conversion rounding: libjpeg-turbo, GDCM's libjpeg and pydicom's YCbCr -> RGB differ by 1)
LOSSY_TOLERANCE = 2


class Skip(Exception):
    """This case cannot run here: a library is not installed, or it has no decoder for the
    syntax (reported as a note with the reason, never as an error)."""


@dataclass(frozen=True)
class Input:
    """One benchmark input: one file, or single-frame files decoded as one stack (in the
    given order), with what the reports say about it."""

    label: str
    paths: tuple[str, ...]
    syntax: TransferSyntax
    pixels: PixelDescription
    n_frames: int
    pixel_offset: int | None = None  # native data: file offset of the first pixel byte
    encoder: str = ""  # how the files were made
    truth: str = ""  # label of the native input of the same content ("": none)

    @property
    def is_series(self) -> bool:
        return len(self.paths) > 1

    @property
    def codec(self) -> str:
        """The codec key (``uids.CODECS``): "native", "rle", "jpegls", "j2k", "htj2k"."""
        return self.syntax.key

    @property
    def tolerance(self) -> int:
        """How far a correct decode's values may be from the reference: 0, or
        LOSSY_TOLERANCE for a lossy transfer syntax."""
        return LOSSY_TOLERANCE if self.syntax.lossy else 0

    @property
    def dtype(self) -> np.dtype:
        return self.pixels.dtype

    @property
    def frame_shape(self) -> tuple[int, ...]:
        return self.pixels.frame_shape

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.n_frames, *self.frame_shape)

    @property
    def frame_bytes(self) -> int:
        return int(np.prod(self.frame_shape)) * self.dtype.itemsize

    @property
    def decoded_bytes(self) -> int:
        return self.n_frames * self.frame_bytes

    @property
    def file_bytes(self) -> int:
        return sum(os.path.getsize(p) for p in self.paths)

    def describe(self) -> str:
        kind = f"{len(self.paths)} files" if self.is_series else "1 file"
        shape = "x".join(map(str, self.frame_shape))
        return (f"{self.syntax.name}, {kind}, {self.n_frames} frames of {shape} {self.dtype}, "
                f"{self.decoded_bytes / MB:.1f} MB decoded")


def make_input(paths: Sequence[str | os.PathLike], label: str | None = None, *,
               encoder: str = "", truth: str = "") -> Input:
    """The Input for one file, or for single-frame files of one geometry (a series)."""
    from .. import open as open_dicom

    paths = tuple(str(p) for p in paths)
    with open_dicom(paths[0]) as f:
        syntax, pixels, n = f.transfer_syntax, f.pixels, f.number_of_frames
        offset = None if syntax.encapsulated else f.dataset.value_offset(0x7FE00010)
    if len(paths) > 1:
        n = len(paths)
    if label is None:
        label = Path(paths[0]).name if len(paths) == 1 else \
            f"{len(paths)} files in {Path(paths[0]).parent}"
    return Input(label, paths, syntax, pixels, n, offset, encoder, truth)


def group(paths: Iterable[str | os.PathLike]) -> tuple[list[Input], list[str]]:
    """Inputs for the user's files: each multi-frame file on its own; single-frame files of
    the same syntax and geometry together, as one series (in the order given).  Also returns
    one message per file that could not be opened."""
    from .. import open as open_dicom
    from ..errors import DicomFramesError

    groups: dict[tuple, list[str]] = {}
    errors: list[str] = []
    for p in map(str, paths):
        try:
            with open_dicom(p) as f:
                syntax, pixels, n = f.transfer_syntax, f.pixels, f.number_of_frames
        except (DicomFramesError, OSError) as exc:
            errors.append(f"{p}: {exc}")
            continue
        key = (p,) if n != 1 else (syntax.uid, pixels.frame_shape, pixels.dtype.str,
                                   pixels.photometric_interpretation)
        groups.setdefault(key, []).append(p)
    multi = [make_input(members) for key, members in groups.items() if len(key) == 1]
    series = [make_input(members) for key, members in groups.items() if len(key) > 1]
    return multi + series, errors


# ---------------------------------------------------------------------------------------
# the default set of ``dicomframes bench``
# ---------------------------------------------------------------------------------------

DEFAULT_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.7.3"  # Multi-frame Grayscale Word SC


def phantom(frames: int, size: int) -> np.ndarray:
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
    """Write the phantom (`frames` of `size` x `size` int16) into `directory` as
    ``ct_{codec}.dcm`` for each lossless codec an installed encoder can write (native, RLE,
    JPEG-LS, JPEG 2000, HTJ2K), with ``dicomframes.testing``.  Returns (paths, notes on the
    codecs left out).  Raises Skip without pydicom."""
    try:
        from .. import testing
    except ImportError:
        raise Skip("pydicom (which writes the default set) is not installed") from None

    vol = phantom(frames, size)
    paths, left_out = [], []
    for codec in CODECS:
        if codec == "jpeg":  # no lossless JPEG encoder among the peers
            continue
        syntax = LOSSLESS_UID[codec]
        try:
            encoded = None if codec == NATIVE else [testing.encode_frame(f, syntax)
                                                    for f in vol]
        except NotImplementedError as exc:
            left_out.append(f"{codec}: {exc}")
            continue
        ds = testing.make_dataset(vol, frames=frames, syntax=syntax, encoded=encoded,
                                  sop_class=DEFAULT_SOP_CLASS, entropy=f"bench {codec}",
                                  extra={"Modality": "OT"})
        paths.append(str(testing.write(ds, Path(directory) / f"ct_{codec}.dcm")))
    return paths, left_out
