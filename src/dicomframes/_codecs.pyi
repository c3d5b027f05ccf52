# Stub for the compiled _codecs module (_codecs.pyx): the frame codecs.
from typing import Final, SupportsIndex, TypedDict

from typing_extensions import Buffer

PHOTOMETRIC: Final[dict[str, int]]

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

def decode_rle(src: Buffer, out: Buffer, rows: SupportsIndex, columns: SupportsIndex,
               samples_per_pixel: SupportsIndex, bits_allocated: SupportsIndex,
               bits_stored: SupportsIndex, pixel_representation: SupportsIndex,
               photometric: str | SupportsIndex,
               planar_configuration: SupportsIndex = 0) -> None: ...
def decode_jls(src: Buffer, out: Buffer, rows: SupportsIndex, columns: SupportsIndex,
               samples_per_pixel: SupportsIndex, bits_allocated: SupportsIndex,
               bits_stored: SupportsIndex, pixel_representation: SupportsIndex,
               photometric: str | SupportsIndex,
               planar_configuration: SupportsIndex = 0) -> None: ...
def decode_j2k(src: Buffer, out: Buffer, rows: SupportsIndex, columns: SupportsIndex,
               samples_per_pixel: SupportsIndex, bits_allocated: SupportsIndex,
               bits_stored: SupportsIndex, pixel_representation: SupportsIndex,
               photometric: str | SupportsIndex, planar_configuration: SupportsIndex = 0,
               reduce: SupportsIndex = 0, threads: SupportsIndex = 1) -> None: ...
def decode_jpeg_own(src: Buffer, out: Buffer, rows: SupportsIndex, columns: SupportsIndex,
                    samples_per_pixel: SupportsIndex, bits_allocated: SupportsIndex,
                    bits_stored: SupportsIndex, pixel_representation: SupportsIndex,
                    photometric: str | SupportsIndex,
                    planar_configuration: SupportsIndex = 0) -> None: ...
def jpeg_info(src: Buffer) -> _JpegInfo: ...
def decode_jpeg8(src: Buffer, out: Buffer, rows: SupportsIndex, columns: SupportsIndex,
                 samples_per_pixel: SupportsIndex, bits_allocated: SupportsIndex,
                 bits_stored: SupportsIndex, pixel_representation: SupportsIndex,
                 photometric: str | SupportsIndex, planar_configuration: SupportsIndex = 0,
                 as_rgb: bool = True, reduce: SupportsIndex = 0) -> None: ...
def decode_jpeg(src: Buffer, out: Buffer, rows: SupportsIndex, columns: SupportsIndex,
                samples_per_pixel: SupportsIndex, bits_allocated: SupportsIndex,
                bits_stored: SupportsIndex, pixel_representation: SupportsIndex,
                photometric: str | SupportsIndex, planar_configuration: SupportsIndex = 0,
                as_rgb: bool = True, reduce: SupportsIndex = 0) -> bool: ...
