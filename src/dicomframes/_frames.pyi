# Stub for the compiled _frames module (_frames.pyx): frames of encapsulated Pixel Data.
import numpy as np
from typing import Any

from numpy.typing import NDArray
from typing_extensions import Buffer, TypeAlias

from ._core import FrameRule

# Any C-contiguous bytes-like; numpy arrays too (their stubs do not declare __buffer__).
_Bytes: TypeAlias = Buffer | NDArray[Any]

def locate_frames(data: _Bytes, offsets: _Bytes,
                  lengths: _Bytes, eot: _Bytes | None,
                  eot_big_endian: bool, frames: int,
                  marker: int) -> tuple[NDArray[np.uint32], NDArray[np.uint32], FrameRule]: ...
def check_offset_table(table: _Bytes, entry_size: int, big_endian: bool, frames: int) -> str: ...
def walk_frame(data: _Bytes, first_item: int, table: _Bytes, entry_size: int, big_endian: bool,
               k: int, items_big_endian: bool = False) -> tuple[list[int], list[int]] | None: ...
