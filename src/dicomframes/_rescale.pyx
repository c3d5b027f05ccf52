# cython: language_level=3, boundscheck=False, wraparound=False
"""Boundary to the C rescale pass (csrc/dcf_rescale.h)."""
from dicomframes._capi cimport dcf_rescale_to_float, dcf_sample_type

_TYPES = {"u1": 0, "i1": 1, "u2": 2, "i2": 3, "u4": 4, "i4": 5, "f4": 6, "f8": 7}


def rescale_into(src, double slope, double intercept, float[::1] out not None):
    """Write ``src * slope + intercept`` as float32 into `out` (one C pass, GIL
    released). `src` is a C-contiguous little-endian numeric array of
    ``len(out)`` samples; it may be a read-only view of a mapping."""
    code = _TYPES.get(src.dtype.str[1:])
    if code is None or src.dtype.byteorder == ">":
        raise TypeError(f"cannot rescale samples of dtype {src.dtype}")
    if src.size != out.shape[0]:
        raise ValueError(f"rescale: {src.size} samples into {out.shape[0]}")
    cdef const unsigned char[::1] raw = src.reshape(-1).view("u1")
    cdef dcf_sample_type kind = <dcf_sample_type>code
    cdef size_t count = out.shape[0]
    if count == 0:
        return
    with nogil:
        dcf_rescale_to_float(&raw[0], kind, count, slope, intercept, &out[0])
