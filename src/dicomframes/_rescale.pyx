# cython: language_level=3, boundscheck=False, wraparound=False
"""Boundary to the C rescale pass (csrc/dcf_rescale.h)."""
from dicomframes._capi cimport (
    DCF_SAMPLE_F32, DCF_SAMPLE_F64, DCF_SAMPLE_I8, DCF_SAMPLE_I16, DCF_SAMPLE_I32, DCF_SAMPLE_U8,
    DCF_SAMPLE_U16, DCF_SAMPLE_U32, dcf_rescale_to_float, dcf_sample_type,
)

_TYPES = {"u1": DCF_SAMPLE_U8, "i1": DCF_SAMPLE_I8, "u2": DCF_SAMPLE_U16, "i2": DCF_SAMPLE_I16,
          "u4": DCF_SAMPLE_U32, "i4": DCF_SAMPLE_I32, "f4": DCF_SAMPLE_F32, "f8": DCF_SAMPLE_F64}


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
