# Declarations of the C core (csrc/) for the Cython boundary modules, and the
# one place where a C error record becomes a Python exception. Every C constant
# the Python side needs is declared here and re-exported by _core.pyx.
from libc.stdint cimport int32_t, uint8_t, uint16_t, uint32_t, uint64_t


cdef extern from "dcf_status.h" nogil:
    ctypedef enum dcf_status:
        DCF_OK
        DCF_E_TRUNCATED
        DCF_E_MALFORMED
        DCF_E_TOO_DEEP
        DCF_E_UNSUPPORTED
        DCF_E_NO_MEMORY
        DCF_E_ARGUMENT
        DCF_E_CODEC
        DCF_E_PIXEL_DATA
        DCF_STATUS_COUNT

    const uint32_t DCF_NO_TAG
    enum:
        DCF_ERROR_MESSAGE_SIZE

    ctypedef struct dcf_error:
        dcf_status status
        uint32_t tag
        uint64_t offset
        char message[DCF_ERROR_MESSAGE_SIZE]

    void dcf_error_clear(dcf_error *err)
    const char *dcf_status_name(dcf_status status)


cdef extern from "dcf_scan.h" nogil:
    enum:
        DCF_DEFAULT_MAX_DEPTH
    const uint32_t DCF_TAG_PIXEL_DATA

    enum:
        DCF_FLAG_UNDEFINED_LENGTH
        DCF_FLAG_ITEM
        DCF_FLAG_FRAGMENT
        DCF_FLAG_ENCAPSULATED
        DCF_FLAG_TRUNCATED
        DCF_FLAG_IMPLICIT_VR
        DCF_FLAG_BIG_ENDIAN
        DCF_FLAG_FILE_META

    ctypedef enum dcf_encoding:
        DCF_ENCODING_IMPLICIT_LE
        DCF_ENCODING_EXPLICIT_LE
        DCF_ENCODING_EXPLICIT_BE
        DCF_ENCODING_DEFLATED

    enum:
        DCF_ENCODING_FROM_META
        DCF_ENCODING_GUESSED
        DCF_ENCODING_CORRECTED
        DCF_ENCODING_FORCED

    ctypedef struct dcf_element:
        uint32_t tag
        char vr[2]
        uint16_t flags
        int32_t parent
        uint32_t depth
        uint64_t offset
        uint64_t length

    ctypedef struct dcf_scan_options:
        int force_encoding
        uint32_t max_depth
        int lazy_fragments

    ctypedef struct dcf_scan_result:
        dcf_element *elements
        size_t count
        size_t capacity
        uint64_t meta_offset
        uint64_t dataset_offset
        int32_t transfer_syntax
        int32_t pixel_data
        uint8_t has_preamble
        uint8_t has_file_meta
        uint8_t encoding
        uint8_t encoding_source
        uint8_t complete
        uint64_t resume_offset
        uint8_t damaged
        dcf_error damage

    void dcf_scan_options_init(dcf_scan_options *options)
    dcf_status dcf_scan(const uint8_t *data, size_t size, const dcf_scan_options *options,
                        dcf_scan_result *result, dcf_error *err)
    void dcf_scan_result_free(dcf_scan_result *result)
    dcf_status dcf_scan_complete(const uint8_t *data, size_t size,
                                 const dcf_scan_options *options,
                                 const dcf_scan_result *partial, dcf_scan_result *full,
                                 dcf_error *err)


cdef extern from "dcf_native.h" nogil:
    ctypedef struct dcf_native_layout:
        uint32_t rows
        uint32_t columns
        uint32_t samples_per_pixel
        uint32_t bits_allocated
        uint32_t bits_stored
        uint8_t pixel_representation
        uint8_t planar_configuration
        uint8_t big_endian
        uint8_t swap_ow_bytes
        uint8_t ybr_full_422
        uint8_t is_float

    uint64_t dcf_native_frame_size(const dcf_native_layout *layout)
    uint64_t dcf_native_frame_bits(const dcf_native_layout *layout)
    dcf_status dcf_native_validate(const dcf_native_layout *layout, dcf_error *err)
    dcf_status dcf_native_decode(const uint8_t *src, size_t src_size, uint64_t index,
                                 const dcf_native_layout *layout, uint8_t *dst, size_t dst_size,
                                 uint32_t pixel_tag, uint64_t value_offset, dcf_error *err)
    dcf_status dcf_native_decode_streaming(const uint8_t *src, size_t src_size, uint64_t index,
                                           const dcf_native_layout *layout, uint8_t *dst,
                                           size_t dst_size, uint32_t pixel_tag,
                                           uint64_t value_offset, dcf_error *err)
    int dcf_native_viewable(const uint8_t *src, size_t src_size, uint64_t index,
                            const dcf_native_layout *layout)


cdef extern from "dcf_batch.h" nogil:
    dcf_status dcf_batch_decode_native(const uint8_t *src, size_t src_size,
                                       const uint64_t *indices, size_t count,
                                       const dcf_native_layout *layout, uint8_t *dst,
                                       size_t frame_size, int stream, uint32_t pixel_tag,
                                       uint64_t value_offset, unsigned threads, size_t *failed,
                                       dcf_error *err)


cdef extern from "dcf_deflate.h" nogil:
    enum:
        DCF_DEFLATE_MAX_RATIO

    dcf_status dcf_deflate_frame_decode(const uint8_t *src, size_t src_size,
                                        const dcf_native_layout *layout, uint8_t *dst,
                                        size_t dst_size, dcf_error *err)


cdef inline object error_from(dcf_error *err, object frame=None):
    """The dicomframes exception for a failed C call (raised by the caller)."""
    from dicomframes.errors import from_status
    return from_status(<int>err.status, err.tag, err.offset,
                       err.message.decode("utf-8", "replace"), frame=frame)


cdef extern from "dcf_frames.h" nogil:
    ctypedef enum dcf_frame_rule:
        DCF_FRAMES_EXTENDED_OFFSET_TABLE
        DCF_FRAMES_BASIC_OFFSET_TABLE
        DCF_FRAMES_ONE_PER_FRAGMENT
        DCF_FRAMES_SINGLE_FRAME
        DCF_FRAMES_START_MARKERS

    ctypedef enum dcf_start_marker:
        DCF_MARKER_NONE
        DCF_MARKER_J2K
        DCF_MARKER_JPEG
        DCF_MARKER_RLE

    ctypedef struct dcf_fragments:
        const uint8_t *data
        size_t size
        const uint64_t *offsets
        const uint64_t *lengths
        size_t count

    ctypedef struct dcf_offset_table:
        const uint8_t *data
        size_t size
        size_t entry_size
        int big_endian

    int dcf_offset_table_check(const dcf_offset_table *table, uint64_t frames, char *why,
                               size_t why_size)
    dcf_status dcf_walk_frame(const uint8_t *data, size_t size, uint64_t first_item,
                              const dcf_offset_table *table, uint64_t k, int big_endian,
                              uint64_t *offsets, uint64_t *lengths, size_t capacity,
                              size_t *count, dcf_error *err)

    dcf_status dcf_locate_frames(const dcf_fragments *fragments, const uint8_t *eot,
                                 size_t eot_size, int eot_big_endian, uint64_t frames,
                                 int marker, uint32_t *first, uint32_t *count,
                                 int *rule, dcf_error *err)


cdef extern from "dcf_rescale.h" nogil:
    ctypedef enum dcf_sample_type:
        DCF_SAMPLE_U8
        DCF_SAMPLE_I8
        DCF_SAMPLE_U16
        DCF_SAMPLE_I16
        DCF_SAMPLE_U32
        DCF_SAMPLE_I32
        DCF_SAMPLE_F32
        DCF_SAMPLE_F64

    int dcf_rescale_to_float(const void *src, dcf_sample_type type, size_t count,
                             double slope, double intercept, float *dst)
