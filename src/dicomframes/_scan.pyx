# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Boundary to the C element scanner: bytes in, element index out."""
from libc.string cimport memcpy

cimport numpy as cnp
import numpy as np

from dicomframes._capi cimport (
    DCF_OK, dcf_element, dcf_error, dcf_scan, dcf_scan_options, dcf_scan_options_init,
    dcf_scan_result, dcf_scan_result_free, error_from,
)

cnp.import_array()

ELEMENT_DTYPE = np.dtype(
    [
        ("tag", "=u4"),
        ("vr", "S2"),
        ("flags", "=u2"),
        ("parent", "=i4"),
        ("depth", "=u4"),
        ("offset", "=u8"),
        ("length", "=u8"),
    ],
    align=True,
)
assert ELEMENT_DTYPE.itemsize == sizeof(dcf_element)

FLAG_UNDEFINED_LENGTH = 1 << 0
FLAG_ITEM = 1 << 1
FLAG_FRAGMENT = 1 << 2
FLAG_ENCAPSULATED = 1 << 3
FLAG_TRUNCATED = 1 << 4
FLAG_IMPLICIT_VR = 1 << 5
FLAG_BIG_ENDIAN = 1 << 6
FLAG_FILE_META = 1 << 7

ENCODING_IMPLICIT_LE = 0
ENCODING_EXPLICIT_LE = 1
ENCODING_EXPLICIT_BE = 2
ENCODING_DEFLATED = 3

cdef const unsigned char EMPTY[1]


def scan(const unsigned char[::1] data not None, int force_encoding=-1, unsigned int max_depth=0):
    """Index the DICOM data in `data`.

    Returns ``(elements, header)``: the element index as an ndarray of
    ELEMENT_DTYPE and a tuple ``(meta_offset, dataset_offset,
    transfer_syntax_index, pixel_data_index, has_preamble, has_file_meta,
    encoding, encoding_source)``. Raises a DicomFramesError on bad data.
    """
    cdef dcf_scan_options options
    cdef dcf_scan_result result
    cdef dcf_error err
    cdef int status
    cdef const unsigned char *ptr = &data[0] if data.shape[0] > 0 else EMPTY
    cdef size_t size = data.shape[0]
    dcf_scan_options_init(&options)
    options.force_encoding = force_encoding
    if max_depth:
        options.max_depth = max_depth
    with nogil:
        status = dcf_scan(ptr, size, &options, &result, &err)
    if status != DCF_OK:
        raise error_from(&err)
    cdef cnp.ndarray elements
    try:
        elements = np.empty(result.count, dtype=ELEMENT_DTYPE)
        if result.count:
            memcpy(cnp.PyArray_DATA(elements), result.elements,
                   result.count * sizeof(dcf_element))
        header = (
            result.meta_offset,
            result.dataset_offset,
            result.transfer_syntax,
            result.pixel_data,
            bool(result.has_preamble),
            bool(result.has_file_meta),
            result.encoding,
            result.encoding_source,
        )
    finally:
        dcf_scan_result_free(&result)
    elements.flags.writeable = False
    return elements, header


def top_level(cnp.ndarray elements):
    """{tag: index} of the top-level elements (first occurrence wins)."""
    cdef dcf_element *e = <dcf_element *>cnp.PyArray_DATA(elements)
    cdef Py_ssize_t i, n = elements.shape[0]
    cdef dict table = {}
    for i in range(n):
        if e[i].depth == 0 and e[i].tag not in table:
            table[e[i].tag] = i
    return table


def children(cnp.ndarray elements, int parent):
    """{tag: index} of the direct children of element `parent`."""
    cdef dcf_element *e = <dcf_element *>cnp.PyArray_DATA(elements)
    cdef Py_ssize_t i, n = elements.shape[0]
    cdef dict table = {}
    for i in range(parent + 1, n):
        if e[i].parent == parent and e[i].tag not in table:
            table[e[i].tag] = i
    return table


def items_of(cnp.ndarray elements, int parent):
    """Indices of the items (or fragments) directly under element `parent`."""
    cdef dcf_element *e = <dcf_element *>cnp.PyArray_DATA(elements)
    cdef Py_ssize_t i, n = elements.shape[0]
    cdef list found = []
    for i in range(parent + 1, n):
        if e[i].parent == parent and (e[i].flags & (FLAG_ITEM | FLAG_FRAGMENT)):
            found.append(i)
    return found
