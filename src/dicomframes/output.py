"""What one frame request produces, and how: the output shape and dtype, and
the steps from the stored frame to it (codec at a reduced resolution, YBR to
RGB, Rescale Slope/Intercept into float32).

One :class:`FrameOutput` per kind of request is kept by a DicomFile, so that
decoding many frames repeats none of the checks.
"""

from __future__ import annotations

import numpy as np

from . import _rescale
from .errors import UnsupportedError
from .frames import CODEC_COLOUR, REDUCIBLE, EncapsulatedFrames, NativeFrames
from .modality import RescaleTable
from .pixels import TAG_PIXEL_DATA, ybr_full_to_rgb

__all__ = ["FrameOutput"]

_THREADED_CODECS = ("j2k", "htj2k")


def _reduced(size: int, reduce: int) -> int:
    return -(-size // (1 << reduce))  # ceil: how JPEG 2000 sizes a reduced image


class FrameOutput:
    """Frames of one source as the caller asked for them."""

    def __init__(self, source: NativeFrames | EncapsulatedFrames, *, to_rgb: bool,
                 rescale: RescaleTable | None, reduce: int) -> None:
        codec = source.ts.key if isinstance(source, EncapsulatedFrames) else None
        self.source = source
        # The codec converts colour itself (told by `as_rgb`), or it is done here.
        self.as_rgb = to_rgb
        self.to_rgb = to_rgb and codec not in CODEC_COLOUR
        self.rescale = rescale
        self.reduce = int(reduce)
        pixels = source.pixels
        if self.reduce:
            if codec not in REDUCIBLE:
                name = (source.ts.name if isinstance(source, EncapsulatedFrames)
                        else "native (uncompressed)")
                raise UnsupportedError(
                    f"reduce={reduce}: {name} Pixel Data has no resolution levels; only "
                    f"JPEG 2000, HTJ2K and 8-bit JPEG frames can be decoded at a reduced "
                    f"size", tag=TAG_PIXEL_DATA)
            if not 0 < self.reduce <= REDUCIBLE[codec]:
                assert isinstance(source, EncapsulatedFrames)  # codec is in REDUCIBLE
                raise ValueError(f"reduce must be between 0 and {REDUCIBLE[codec]} for "
                                 f"{source.ts.name}, not {reduce}")
        rows, columns = _reduced(pixels.rows, self.reduce), _reduced(pixels.columns, self.reduce)
        self.decoded_shape = (rows, columns) + source.shape[2:]
        self.shape = self.decoded_shape
        self.dtype = np.dtype(np.float32) if rescale is not None else source.dtype
        # A plain request is the stored frame as it is: decoded straight into the target.
        self.plain = not (self.to_rgb or rescale is not None or self.reduce)
        # J2K/HTJ2K can spread one frame over threads (a batch of fewer frames than threads).
        self.threadable = codec in _THREADED_CODECS

    def codec_threads(self, workers: int, frames: int) -> int:
        """Threads for the codec within one frame when `workers` threads decode
        `frames` frames: the spare ones, for J2K/HTJ2K only."""
        return max(1, workers // frames) if frames and self.threadable else 1

    def decode_into(self, k: int, target: np.ndarray, threads: int = 1) -> None:
        """Decode frame k into `target` (shape :attr:`shape`, dtype :attr:`dtype`,
        C-contiguous). `threads` > 1 lets a J2K/HTJ2K codec use its own threads."""
        source = self.source
        source.check_present(k)
        if self.plain:
            source.decode_into(k, target, threads=threads, as_rgb=self.as_rgb)
            return
        decoded = None
        if self.rescale is not None and not self.to_rgb and not self.reduce:
            decoded = source.view(k)  # a canonical native frame is rescaled from the mapping
        if decoded is None:
            direct = self.rescale is None and not self.to_rgb
            decoded = target if direct else np.empty(self.decoded_shape, source.dtype)
            source.decode_into(k, decoded, reduce=self.reduce, threads=threads,
                               as_rgb=self.as_rgb)
        if self.to_rgb:
            decoded = ybr_full_to_rgb(decoded)
            if self.rescale is None:
                target[...] = decoded
                return
        if self.rescale is not None:
            if self.rescale.lut is not None:
                self.rescale.lut.apply(decoded, target)
                return
            slope, intercept = self.rescale(k)
            _rescale.rescale_into(decoded, slope, intercept, target.reshape(-1))

