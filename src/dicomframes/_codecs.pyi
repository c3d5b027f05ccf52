# Stub for the compiled _codecs module (_codecs.pyx): the frame codecs.
from typing import Any, Final, Sequence, SupportsIndex, TypedDict

from numpy.typing import NDArray
from typing_extensions import Buffer, TypeAlias

from dicomframes._native import NativeLayout
from dicomframes.errors import DicomFramesError

# Any C-contiguous bytes-like; numpy arrays too (their stubs do not declare __buffer__).
_Bytes: TypeAlias = Buffer | NDArray[Any]

PHOTOMETRIC: Final[dict[str, int]]
BATCH_CODECS: Final[dict[str, int]]

class _JpegInfo(TypedDict):
    sof: int
    precision: int
    rows: int
    columns: int
    components: int
    component_info: list[tuple[int, int, int, int]]

class _Path(TypedDict):
    path: str

class _Library(TypedDict):
    version: str
    compiled: str
    path: str

class _HeaderOnlyLibrary(TypedDict):
    compiled: str
    path: str

class _Simd(TypedDict):
    jpeg_dct12: str
    rle_interleave: str
    cpu: str

class _EngineConfig(TypedDict):
    core: _Path
    openjpeg: _Library
    libjpeg: _HeaderOnlyLibrary
    zlib: _Library
    simd: _Simd

def codec_versions() -> dict[str, str]: ...
def engine_config() -> _EngineConfig: ...

def decode_rle(src: _Bytes, out: _Bytes, rows: SupportsIndex, columns: SupportsIndex,
               samples_per_pixel: SupportsIndex, bits_allocated: SupportsIndex,
               bits_stored: SupportsIndex, pixel_representation: SupportsIndex,
               photometric: str | SupportsIndex,
               planar_configuration: SupportsIndex = 0) -> None: ...
def decode_jls(src: _Bytes, out: _Bytes, rows: SupportsIndex, columns: SupportsIndex,
               samples_per_pixel: SupportsIndex, bits_allocated: SupportsIndex,
               bits_stored: SupportsIndex, pixel_representation: SupportsIndex,
               photometric: str | SupportsIndex,
               planar_configuration: SupportsIndex = 0) -> None: ...
def decode_j2k(src: _Bytes, out: _Bytes, rows: SupportsIndex, columns: SupportsIndex,
               samples_per_pixel: SupportsIndex, bits_allocated: SupportsIndex,
               bits_stored: SupportsIndex, pixel_representation: SupportsIndex,
               photometric: str | SupportsIndex, planar_configuration: SupportsIndex = 0,
               reduce: SupportsIndex = 0, threads: SupportsIndex = 1) -> None: ...
def decode_jpeg_own(src: _Bytes, out: _Bytes, rows: SupportsIndex, columns: SupportsIndex,
                    samples_per_pixel: SupportsIndex, bits_allocated: SupportsIndex,
                    bits_stored: SupportsIndex, pixel_representation: SupportsIndex,
                    photometric: str | SupportsIndex,
                    planar_configuration: SupportsIndex = 0) -> None: ...
def jpeg_info(src: _Bytes) -> _JpegInfo: ...
def decode_jpeg8(src: _Bytes, out: _Bytes, rows: SupportsIndex, columns: SupportsIndex,
                 samples_per_pixel: SupportsIndex, bits_allocated: SupportsIndex,
                 bits_stored: SupportsIndex, pixel_representation: SupportsIndex,
                 photometric: str | SupportsIndex, planar_configuration: SupportsIndex = 0,
                 as_rgb: bool = True, reduce: SupportsIndex = 0) -> None: ...
def decode_jpeg(src: _Bytes, out: _Bytes, rows: SupportsIndex, columns: SupportsIndex,
                samples_per_pixel: SupportsIndex, bits_allocated: SupportsIndex,
                bits_stored: SupportsIndex, pixel_representation: SupportsIndex,
                photometric: str | SupportsIndex, planar_configuration: SupportsIndex = 0,
                as_rgb: bool = True, reduce: SupportsIndex = 0) -> bool: ...
def decode_batch(codec: str, frames: Sequence[_Bytes], out: _Bytes, rows: SupportsIndex,
                 columns: SupportsIndex, samples_per_pixel: SupportsIndex,
                 bits_allocated: SupportsIndex, bits_stored: SupportsIndex,
                 pixel_representation: SupportsIndex, photometric: str | SupportsIndex,
                 threads: SupportsIndex = 1, codec_threads: SupportsIndex = 1,
                 planar_configuration: SupportsIndex = 0,
                 as_rgb: bool = True,
                 colour_done: _Bytes | None = None) -> tuple[int, DicomFramesError] | None: ...
def decode_native_batch(layout: NativeLayout, src: _Bytes, indices: Sequence[int],
                        out: _Bytes, pixel_tag: int = ..., value_offset: int = 0,
                        stream: bool = False,
                        threads: int = 1) -> tuple[int, DicomFramesError] | None: ...
def prewake(workers: SupportsIndex) -> None: ...
