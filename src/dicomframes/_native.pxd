# The C fields of _native.NativeLayout, for the modules that use a layout without
# the GIL: _codecs decodes batches of native frames with it on the C pool, which
# lives in _codecs alone (each extension links its own copy of the C core).
from libc.stdint cimport uint64_t

from dicomframes._capi cimport dcf_native_layout


cdef class NativeLayout:
    cdef dcf_native_layout layout
    cdef readonly uint64_t frame_size
    cdef readonly uint64_t frame_bits
