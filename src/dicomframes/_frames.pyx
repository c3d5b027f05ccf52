# cython: language_level=3, boundscheck=False, wraparound=False
"""Boundary to the C frame locator for encapsulated Pixel Data."""
from libc.stdint cimport uint32_t, uint64_t

cimport numpy as cnp
import numpy as np

from dicomframes._capi cimport DCF_OK, dcf_error, dcf_fragments, dcf_locate_frames, error_from

cnp.import_array()

MARKER_NONE = 0
MARKER_J2K = 1
MARKER_JPEG = 2
MARKER_RLE = 3

RULES = {
    1: "extended offset table",
    2: "basic offset table",
    3: "one fragment per frame",
    4: "all fragments form the single frame",
    5: "codec start markers",
}


def locate_frames(const unsigned char[::1] data not None, const uint64_t[::1] offsets not None,
                  const uint64_t[::1] lengths not None, object eot, bint eot_big_endian,
                  uint64_t frames, int marker):
    """(first, count, rule): per frame, the index of its first fragment (the
    offset table being item 0) and how many fragments it spans; `rule` names
    how they were found. `eot` is the Extended Offset Table value or None."""
    cdef dcf_fragments fragments
    cdef dcf_error err
    cdef int status, rule = 0
    cdef const unsigned char[::1] table
    cdef const unsigned char *eot_ptr = NULL
    cdef size_t eot_size = 0
    if offsets.shape[0] != lengths.shape[0] or offsets.shape[0] == 0:
        raise ValueError("offsets and lengths must be non-empty and the same size")
    if eot is not None:
        table = eot
        eot_size = table.shape[0]
        if eot_size:
            eot_ptr = &table[0]
    # The C side rejects more frames than fragments before writing, so a bogus
    # Number of Frames never sizes an allocation.
    cdef size_t room = max(min(frames, <uint64_t>offsets.shape[0]), 1)
    cdef cnp.ndarray first = np.zeros(room, np.uint32)
    cdef cnp.ndarray count = np.zeros(room, np.uint32)
    fragments.data = &data[0]
    fragments.size = data.shape[0]
    fragments.offsets = &offsets[0]
    fragments.lengths = &lengths[0]
    fragments.count = offsets.shape[0]
    with nogil:
        status = dcf_locate_frames(&fragments, eot_ptr, eot_size, eot_big_endian, frames,
                                   marker, <uint32_t *>cnp.PyArray_DATA(first),
                                   <uint32_t *>cnp.PyArray_DATA(count), &rule, &err)
    if status != DCF_OK:
        raise error_from(&err)
    return first[:frames], count[:frames], RULES.get(rule, "?")
