# Declarations of the frame codecs of the C core (csrc/dcf_codec.h), for
# _codecs.pyx and any other boundary module that calls them without the GIL.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t

from dicomframes._capi cimport dcf_error, dcf_status


cdef extern from "dcf_codec.h" nogil:
    ctypedef enum dcf_photometric:
        DCF_PHOTOMETRIC_MONOCHROME1
        DCF_PHOTOMETRIC_MONOCHROME2
        DCF_PHOTOMETRIC_RGB
        DCF_PHOTOMETRIC_YBR_FULL
        DCF_PHOTOMETRIC_YBR_FULL_422
        DCF_PHOTOMETRIC_YBR_RCT
        DCF_PHOTOMETRIC_YBR_ICT
        DCF_PHOTOMETRIC_PALETTE
        DCF_PHOTOMETRIC_OTHER

    ctypedef struct dcf_frame_spec:
        uint32_t rows
        uint32_t columns
        uint16_t samples_per_pixel
        uint16_t bits_allocated
        uint16_t bits_stored
        uint8_t pixel_representation
        uint8_t planar_configuration
        uint8_t photometric

    size_t dcf_sample_bytes(const dcf_frame_spec *spec)
    dcf_status dcf_frame_spec_check(const dcf_frame_spec *spec, size_t dst_size,
                                    dcf_error *err)
    dcf_status dcf_rle_decode(const uint8_t *src, size_t src_size,
                              const dcf_frame_spec *spec, uint8_t *dst,
                              size_t dst_size, dcf_error *err)
    dcf_status dcf_jls_decode(const uint8_t *src, size_t src_size,
                              const dcf_frame_spec *spec, uint8_t *dst,
                              size_t dst_size, dcf_error *err)
    dcf_status dcf_j2k_decode(const uint8_t *src, size_t src_size,
                              const dcf_frame_spec *spec, uint8_t *dst,
                              size_t dst_size, int reduce, int threads,
                              dcf_error *err)
    const char *dcf_openjpeg_version()


cdef extern from "dcf_jpeg.h" nogil:
    ctypedef struct dcf_jpeg_component_info:
        uint8_t id
        uint8_t h
        uint8_t v
        uint8_t tq

    ctypedef struct dcf_jpeg_info:
        uint8_t sof
        uint8_t precision
        uint16_t rows
        uint16_t columns
        uint8_t components
        dcf_jpeg_component_info component[4]
        uint64_t sof_offset

    dcf_status dcf_jpeg_peek(const uint8_t *src, size_t size, dcf_jpeg_info *info,
                             dcf_error *err)
    dcf_status dcf_jpeg_decode(const uint8_t *src, size_t size,
                               const dcf_frame_spec *spec, uint8_t *dst,
                               size_t dst_size, dcf_error *err)


# ---- 8-bit DCT JPEG on libjpeg(-turbo) (csrc/dcf_jpeg8.h) ----------------------------
cdef extern from "dcf_jpeg8.h" nogil:
    enum:
        DCF_JPEG8_MAX_REDUCE
    dcf_status dcf_jpeg8_decode(const uint8_t *src, size_t size,
                                const dcf_frame_spec *spec, int to_rgb, int reduce,
                                uint8_t *dst, size_t dst_size, dcf_error *err)
    const char *dcf_libjpeg_version()


cdef extern from "dcf_jpeg_any.h" nogil:
    dcf_status dcf_jpeg_any_decode(const uint8_t *src, size_t size, const dcf_frame_spec *spec,
                                   int to_rgb, int reduce, uint8_t *dst, size_t dst_size,
                                   int *colour_done, dcf_error *err)


# ---- what this build runs with (csrc/dcf_config.h), for show_config() ---------------
cdef extern from "dcf_config.h" nogil:
    enum dcf_library:
        DCF_LIBRARY_OPENJPEG
        DCF_LIBRARY_LIBJPEG
        DCF_LIBRARY_ZLIB
        DCF_LIBRARY_CORE
    const char *dcf_library_path(int library)
    const char *dcf_zlib_version()
    const char *dcf_zlib_header_version()
    const char *dcf_openjpeg_header_version()
    const char *dcf_dct12_variant()
    const char *dcf_rle_variant()
    const char *dcf_cpu_features()


cdef extern from "dcf_batch.h" nogil:
    ctypedef enum dcf_batch_codec:
        DCF_BATCH_RLE
        DCF_BATCH_JLS
        DCF_BATCH_J2K
        DCF_BATCH_JPEG

    ctypedef struct dcf_batch_source:
        const uint8_t *data
        size_t size

    dcf_status dcf_batch_decode(dcf_batch_codec codec, const dcf_batch_source *frames,
                                size_t count, const dcf_frame_spec *spec, uint8_t *dst,
                                size_t frame_size, unsigned threads, int codec_threads,
                                int to_rgb, uint8_t *colour_done, size_t *failed,
                                dcf_error *err)


cdef extern from "dcf_pool.h" nogil:
    void dcf_pool_prewake(unsigned workers)
