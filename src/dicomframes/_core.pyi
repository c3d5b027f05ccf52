# Stub for the compiled _core module (_core.pyx): the C core's constants.
from enum import IntEnum
from typing import Final

__all__ = [
    "DEFAULT_MAX_DEPTH", "DEFLATE_MAX_RATIO", "ERROR_MESSAGE_SIZE", "Encoding", "EncodingSource",
    "FLAG_BIG_ENDIAN", "FLAG_ENCAPSULATED", "FLAG_FILE_META", "FLAG_FRAGMENT", "FLAG_IMPLICIT_VR",
    "FLAG_ITEM", "FLAG_TRUNCATED", "FLAG_UNDEFINED_LENGTH", "FrameRule", "NO_TAG", "StartMarker",
    "Status", "status_name",
]

class Status(IntEnum):
    OK = 0
    TRUNCATED = 1
    MALFORMED = 2
    TOO_DEEP = 3
    UNSUPPORTED = 4
    NO_MEMORY = 5
    ARGUMENT = 6
    CODEC = 7
    PIXEL_DATA = 8

def status_name(status: int) -> str: ...

NO_TAG: Final[int]
ERROR_MESSAGE_SIZE: Final[int]
DEFAULT_MAX_DEPTH: Final[int]
DEFLATE_MAX_RATIO: Final[int]

FLAG_UNDEFINED_LENGTH: Final[int]
FLAG_ITEM: Final[int]
FLAG_FRAGMENT: Final[int]
FLAG_ENCAPSULATED: Final[int]
FLAG_TRUNCATED: Final[int]
FLAG_IMPLICIT_VR: Final[int]
FLAG_BIG_ENDIAN: Final[int]
FLAG_FILE_META: Final[int]

class Encoding(IntEnum):
    IMPLICIT_LE = 0
    EXPLICIT_LE = 1
    EXPLICIT_BE = 2
    DEFLATED = 3

class EncodingSource(IntEnum):
    FROM_META = 0
    GUESSED = 1
    CORRECTED = 2
    FORCED = 3

class FrameRule(IntEnum):
    EXTENDED_OFFSET_TABLE = 1
    BASIC_OFFSET_TABLE = 2
    ONE_PER_FRAGMENT = 3
    SINGLE_FRAME = 4
    START_MARKERS = 5
    @property
    def text(self) -> str: ...

class StartMarker(IntEnum):
    NONE = 0
    J2K = 1
    JPEG = 2
    RLE = 3
