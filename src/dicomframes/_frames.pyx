# cython: language_level=3, boundscheck=False, wraparound=False
"""Boundary to the C frame locator for encapsulated Pixel Data."""
from libc.stdint cimport uint32_t, uint64_t

cimport numpy as cnp
import numpy as np

from dicomframes._capi cimport (
    DCF_OK, dcf_error, dcf_fragments, dcf_locate_frames, dcf_offset_table, dcf_offset_table_check,
    dcf_walk_frame, error_from,
)

from dicomframes._core import FrameRule

cnp.import_array()



def locate_frames(const unsigned char[::1] data not None, const uint64_t[::1] offsets not None,
                  const uint64_t[::1] lengths not None, object eot, bint eot_big_endian,
                  uint64_t frames, int marker):
    """(first, count, rule): per frame, the index of its first fragment (the
    offset table being item 0) and how many fragments it spans; `rule` (a
    FrameRule) says how they were found. `eot` is the Extended Offset Table
    value or None; `marker` a StartMarker."""
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
    return first[:frames], count[:frames], FrameRule(rule)


# Fragments per frame that a walk returns without a second pass.
cdef enum:
    WALK_ROOM = 16


cdef int _table(dcf_offset_table *t, const unsigned char[::1] table, int entry_size,
                bint big_endian) except -1:
    if entry_size != 4 and entry_size != 8:
        raise ValueError("entry_size must be 4 or 8")
    t.data = &table[0] if table.shape[0] > 0 else NULL
    t.size = table.shape[0]
    t.entry_size = entry_size
    t.big_endian = big_endian
    return 0


def check_offset_table(const unsigned char[::1] table not None, int entry_size,
                       bint big_endian, uint64_t frames):
    """'' when the offset table can place `frames` frames as far as the table
    alone can tell (one entry per frame, the first 0, increasing), else why not."""
    cdef dcf_offset_table t
    cdef char why[160]
    _table(&t, table, entry_size, big_endian)
    if t.size and dcf_offset_table_check(&t, frames, why, sizeof(why)):
        return ""
    return why.decode("utf-8", "replace") if t.size else "it is empty"


def walk_frame(const unsigned char[::1] data not None, uint64_t first_item,
               const unsigned char[::1] table not None, int entry_size, bint big_endian,
               uint64_t k, bint items_big_endian=False):
    """([value offsets], [lengths]) of frame k's fragments, found by walking
    its items from table entry k (offsets count from `first_item`, the first
    fragment's item tag); None when the items disagree with the table (the
    caller then indexes every fragment). Reads only frame k's item headers."""
    cdef dcf_offset_table t
    cdef dcf_error err
    cdef int status
    cdef uint64_t offsets[WALK_ROOM]
    cdef uint64_t lengths[WALK_ROOM]
    cdef size_t count = 0
    cdef cnp.ndarray more_offsets, more_lengths
    _table(&t, table, entry_size, big_endian)
    if data.shape[0] == 0:
        return None
    with nogil:
        status = dcf_walk_frame(&data[0], data.shape[0], first_item, &t, k, items_big_endian,
                                offsets, lengths, WALK_ROOM, &count, &err)
    if status != DCF_OK:
        return None
    if count <= WALK_ROOM:
        return [offsets[i] for i in range(count)], [lengths[i] for i in range(count)]
    # Many fragments (each at least 8 bytes, so count <= size / 8): walk again.
    more_offsets = np.empty(count, np.uint64)
    more_lengths = np.empty(count, np.uint64)
    with nogil:
        status = dcf_walk_frame(&data[0], data.shape[0], first_item, &t, k, items_big_endian,
                                <uint64_t *>cnp.PyArray_DATA(more_offsets),
                                <uint64_t *>cnp.PyArray_DATA(more_lengths), count, &count, &err)
    if status != DCF_OK:
        return None
    return more_offsets.tolist(), more_lengths.tolist()
