# Stub for the compiled _native module (_native.pyx): native and deflated frames.
from typing import Any

from numpy.typing import NDArray
from typing_extensions import Buffer, TypeAlias

# Any C-contiguous bytes-like; numpy arrays too (their stubs do not declare __buffer__).
_Bytes: TypeAlias = Buffer | NDArray[Any]

class NativeLayout:
    def __init__(self, rows: int, columns: int, samples_per_pixel: int, bits_allocated: int,
                 bits_stored: int, pixel_representation: int, planar_configuration: int,
                 big_endian: bool, swap_ow_bytes: bool, ybr_full_422: bool,
                 is_float: bool) -> None: ...
    @property
    def frame_size(self) -> int: ...
    @property
    def frame_bits(self) -> int: ...
    def decode(self, src: _Bytes, index: int, out: _Bytes, pixel_tag: int = ...,
               value_offset: int = 0, stream: bool = False) -> None: ...
    def decode_deflated(self, src: _Bytes, out: _Bytes) -> None: ...
    def viewable(self, src: _Bytes, index: int) -> bool: ...
