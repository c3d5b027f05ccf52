# Stub for the compiled _frames module (_frames.pyx): frames of encapsulated Pixel Data.
import numpy as np
from numpy.typing import NDArray
from typing_extensions import Buffer

from ._core import FrameRule

def locate_frames(data: Buffer, offsets: NDArray[np.uint64] | Buffer,
                  lengths: NDArray[np.uint64] | Buffer, eot: Buffer | None,
                  eot_big_endian: bool, frames: int,
                  marker: int) -> tuple[NDArray[np.uint32], NDArray[np.uint32], FrameRule]: ...
def check_offset_table(table: Buffer, entry_size: int, big_endian: bool, frames: int) -> str: ...
def walk_frame(data: Buffer, first_item: int, table: Buffer, entry_size: int, big_endian: bool,
               k: int, items_big_endian: bool = False) -> tuple[list[int], list[int]] | None: ...
