# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Boundary to the C native (uncompressed) frame decoder, and to Deflated Image
Frame Compression, whose frames are native frames once inflated."""
from libc.stdint cimport uint32_t, uint64_t

from dicomframes._capi cimport (
    DCF_OK, DCF_TAG_PIXEL_DATA, dcf_deflate_frame_decode, dcf_error, dcf_native_decode,
    dcf_native_decode_streaming, dcf_native_frame_bits, dcf_native_frame_size,
    dcf_native_layout, dcf_native_validate, dcf_native_viewable, error_from,
)

cdef const unsigned char EMPTY[1]


cdef class NativeLayout:
    """How the frames of one native Pixel Data value are laid out (its C
    fields are declared in _native.pxd: _codecs decodes batches with them)."""

    def __init__(self, uint32_t rows, uint32_t columns, uint32_t samples_per_pixel,
                 uint32_t bits_allocated, uint32_t bits_stored, int pixel_representation,
                 int planar_configuration, bint big_endian, bint swap_ow_bytes,
                 bint ybr_full_422, bint is_float):
        cdef dcf_error err
        self.layout.rows = rows
        self.layout.columns = columns
        self.layout.samples_per_pixel = samples_per_pixel
        self.layout.bits_allocated = bits_allocated
        self.layout.bits_stored = bits_stored
        self.layout.pixel_representation = pixel_representation
        self.layout.planar_configuration = planar_configuration
        self.layout.big_endian = big_endian
        self.layout.swap_ow_bytes = swap_ow_bytes
        self.layout.ybr_full_422 = ybr_full_422
        self.layout.is_float = is_float
        if dcf_native_validate(&self.layout, &err) != DCF_OK:
            raise error_from(&err)
        self.frame_size = dcf_native_frame_size(&self.layout)
        self.frame_bits = dcf_native_frame_bits(&self.layout)

    def decode(self, const unsigned char[::1] src not None, uint64_t index,
               unsigned char[::1] out not None, uint32_t pixel_tag=DCF_TAG_PIXEL_DATA,
               uint64_t value_offset=0, bint stream=False):
        """Decode frame `index` of the Pixel Data value `src` into `out` (bytes);
        `stream`: write around the cache (for batches larger than the caches)."""
        cdef dcf_error err
        cdef int status
        cdef const unsigned char *s = &src[0] if src.shape[0] > 0 else EMPTY
        with nogil:
            if stream:
                status = dcf_native_decode_streaming(s, src.shape[0], index, &self.layout,
                                                     &out[0], out.shape[0], pixel_tag,
                                                     value_offset, &err)
            else:
                status = dcf_native_decode(s, src.shape[0], index, &self.layout, &out[0],
                                           out.shape[0], pixel_tag, value_offset, &err)
        if status != DCF_OK:
            raise error_from(&err, frame=index)

    def decode_deflated(self, const unsigned char[::1] src not None,
                        unsigned char[::1] out not None):
        """Inflate one Deflated Image Frame Compression frame `src` and decode it
        into `out` (bytes) as native frame 0 of this layout."""
        cdef dcf_error err
        cdef int status
        cdef const unsigned char *s = &src[0] if src.shape[0] > 0 else EMPTY
        with nogil:
            status = dcf_deflate_frame_decode(s, src.shape[0], &self.layout, &out[0],
                                              out.shape[0], &err)
        if status != DCF_OK:
            raise error_from(&err)

    def viewable(self, const unsigned char[::1] src not None, uint64_t index):
        """True if frame `index` can be returned as a view of `src` unchanged."""
        cdef int ok
        cdef const unsigned char *s = &src[0] if src.shape[0] > 0 else EMPTY
        with nogil:
            ok = dcf_native_viewable(s, src.shape[0], index, &self.layout)
        return bool(ok)
