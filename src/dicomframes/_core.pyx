# cython: language_level=3
"""The C core's constants for the Python modules: declared once, in _capi.pxd
(from the csrc/ headers), and re-exported here, so that no Python module
writes a status number, a flag bit or an encoding code of its own."""
from enum import IntEnum

from dicomframes._capi cimport (
    DCF_DEFAULT_MAX_DEPTH, DCF_DEFLATE_MAX_RATIO, DCF_E_ARGUMENT, DCF_E_CODEC, DCF_E_MALFORMED, DCF_E_NO_MEMORY,
    DCF_E_PIXEL_DATA, DCF_E_TOO_DEEP, DCF_E_TRUNCATED, DCF_E_UNSUPPORTED,
    DCF_ENCODING_CORRECTED, DCF_ENCODING_DEFLATED, DCF_ENCODING_EXPLICIT_BE,
    DCF_ENCODING_EXPLICIT_LE, DCF_ENCODING_FORCED, DCF_ENCODING_FROM_META,
    DCF_ENCODING_GUESSED, DCF_ENCODING_IMPLICIT_LE, DCF_ERROR_MESSAGE_SIZE,
    DCF_FLAG_BIG_ENDIAN, DCF_FLAG_ENCAPSULATED, DCF_FLAG_FILE_META, DCF_FLAG_FRAGMENT,
    DCF_FLAG_IMPLICIT_VR, DCF_FLAG_ITEM, DCF_FLAG_TRUNCATED, DCF_FLAG_UNDEFINED_LENGTH,
    DCF_FRAMES_BASIC_OFFSET_TABLE, DCF_FRAMES_EXTENDED_OFFSET_TABLE,
    DCF_FRAMES_ONE_PER_FRAGMENT, DCF_FRAMES_SINGLE_FRAME, DCF_FRAMES_START_MARKERS,
    DCF_MARKER_J2K, DCF_MARKER_JPEG, DCF_MARKER_NONE, DCF_MARKER_RLE, DCF_NO_TAG, DCF_OK,
    DCF_STATUS_COUNT, dcf_status, dcf_status_name,
)

__all__ = [
    "DEFAULT_MAX_DEPTH", "DEFLATE_MAX_RATIO", "ERROR_MESSAGE_SIZE", "Encoding", "EncodingSource", "FLAG_BIG_ENDIAN",
    "FLAG_ENCAPSULATED", "FLAG_FILE_META", "FLAG_FRAGMENT", "FLAG_IMPLICIT_VR", "FLAG_ITEM",
    "FLAG_TRUNCATED", "FLAG_UNDEFINED_LENGTH", "FrameRule", "NO_TAG", "StartMarker", "Status",
    "status_name",
]


class Status(IntEnum):
    """enum dcf_status (csrc/dcf_status.h): what a C call returned."""
    OK = DCF_OK
    TRUNCATED = DCF_E_TRUNCATED
    MALFORMED = DCF_E_MALFORMED
    TOO_DEEP = DCF_E_TOO_DEEP
    UNSUPPORTED = DCF_E_UNSUPPORTED
    NO_MEMORY = DCF_E_NO_MEMORY
    ARGUMENT = DCF_E_ARGUMENT
    CODEC = DCF_E_CODEC
    PIXEL_DATA = DCF_E_PIXEL_DATA


# Every value of the C enum has a member here (checked at import).
assert len(Status) == DCF_STATUS_COUNT, "Status is out of step with enum dcf_status"


def status_name(int status):
    """The C core's short, stable name for a status ("truncated", ...)."""
    return dcf_status_name(<dcf_status>status).decode("ascii")


NO_TAG = DCF_NO_TAG                     # the tag of an error that has none
ERROR_MESSAGE_SIZE = DCF_ERROR_MESSAGE_SIZE
DEFAULT_MAX_DEPTH = DCF_DEFAULT_MAX_DEPTH
DEFLATE_MAX_RATIO = DCF_DEFLATE_MAX_RATIO  # deflate's most output bytes per input byte

# Element flags (the `flags` field of the element index).
FLAG_UNDEFINED_LENGTH = DCF_FLAG_UNDEFINED_LENGTH
FLAG_ITEM = DCF_FLAG_ITEM
FLAG_FRAGMENT = DCF_FLAG_FRAGMENT
FLAG_ENCAPSULATED = DCF_FLAG_ENCAPSULATED
FLAG_TRUNCATED = DCF_FLAG_TRUNCATED
FLAG_IMPLICIT_VR = DCF_FLAG_IMPLICIT_VR
FLAG_BIG_ENDIAN = DCF_FLAG_BIG_ENDIAN
FLAG_FILE_META = DCF_FLAG_FILE_META


class Encoding(IntEnum):
    """enum dcf_encoding: how the data set is encoded."""
    IMPLICIT_LE = DCF_ENCODING_IMPLICIT_LE
    EXPLICIT_LE = DCF_ENCODING_EXPLICIT_LE
    EXPLICIT_BE = DCF_ENCODING_EXPLICIT_BE
    DEFLATED = DCF_ENCODING_DEFLATED


class EncodingSource(IntEnum):
    """How the scan settled on the encoding."""
    FROM_META = DCF_ENCODING_FROM_META
    GUESSED = DCF_ENCODING_GUESSED
    CORRECTED = DCF_ENCODING_CORRECTED
    FORCED = DCF_ENCODING_FORCED


class FrameRule(IntEnum):
    """enum dcf_frame_rule: how the frames of encapsulated Pixel Data were located."""
    EXTENDED_OFFSET_TABLE = DCF_FRAMES_EXTENDED_OFFSET_TABLE
    BASIC_OFFSET_TABLE = DCF_FRAMES_BASIC_OFFSET_TABLE
    ONE_PER_FRAGMENT = DCF_FRAMES_ONE_PER_FRAGMENT
    SINGLE_FRAME = DCF_FRAMES_SINGLE_FRAME
    START_MARKERS = DCF_FRAMES_START_MARKERS

    @property
    def text(self):
        """The rule as `describe()["frame location"]` names it."""
        return _RULE_TEXT[self]


_RULE_TEXT = {
    FrameRule.EXTENDED_OFFSET_TABLE: "extended offset table",
    FrameRule.BASIC_OFFSET_TABLE: "basic offset table",
    FrameRule.ONE_PER_FRAGMENT: "one fragment per frame",
    FrameRule.SINGLE_FRAME: "all fragments form the single frame",
    FrameRule.START_MARKERS: "codec start markers",
}


class StartMarker(IntEnum):
    """enum dcf_start_marker: the codestream start that begins a frame."""
    NONE = DCF_MARKER_NONE
    J2K = DCF_MARKER_J2K
    JPEG = DCF_MARKER_JPEG
    RLE = DCF_MARKER_RLE
