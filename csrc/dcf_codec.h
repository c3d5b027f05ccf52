/* Frame codecs of the C core: RLE Lossless and JPEG-LS (our own) and
 * JPEG 2000 / HTJ2K (OpenJPEG).
 *
 * Each decoder turns one compressed frame into native-endian integers in a
 * caller-owned buffer of exactly the frame's size. They keep no global state,
 * so they may run concurrently from many threads. On failure they fill the
 * caller's dcf_error and return its status; dst may then hold partial data.
 *
 * Values follow pydicom 3.0.2's pixel_array (with its default decoders):
 *   RLE      Bits Stored < Bits Allocated: the unused high bits are cleared
 *            (Pixel Representation 0) or filled with the sign bit (1).
 *   JPEG-LS  Pixel Representation 1: samples are sign-extended from bit
 *            (P - 1), P being the codestream's bits per sample. No masking
 *            for Pixel Representation 0.
 *   JPEG2000 Samples are truncated to the codestream precision's container
 *            (8, 16 or 32 bits) and read with the dataset's signedness. For
 *            MONOCHROME1/2 whose codestream signedness differs from Pixel
 *            Representation, they are instead sign-extended (or masked) from
 *            the codestream precision. YBR_RCT/YBR_ICT come out as RGB. */
#ifndef DCF_CODEC_H
#define DCF_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "dcf_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Photometric Interpretation, as far as the codecs need to know it. */
typedef enum dcf_photometric {
    DCF_PHOTOMETRIC_MONOCHROME1 = 0,
    DCF_PHOTOMETRIC_MONOCHROME2 = 1,
    DCF_PHOTOMETRIC_RGB = 2,
    DCF_PHOTOMETRIC_YBR_FULL = 3,
    DCF_PHOTOMETRIC_YBR_FULL_422 = 4,
    DCF_PHOTOMETRIC_YBR_RCT = 5,
    DCF_PHOTOMETRIC_YBR_ICT = 6,
    DCF_PHOTOMETRIC_PALETTE = 7,
    DCF_PHOTOMETRIC_OTHER = 8
} dcf_photometric;

/* The decoded frame the caller wants, from the Image Pixel module. */
typedef struct dcf_frame_spec {
    uint32_t rows, columns;        /* of the output (after any J2K reduce) */
    uint16_t samples_per_pixel;    /* >= 1; RLE: samples * bytes <= 15 */
    uint16_t bits_allocated;       /* 1, 8, 16, 32 (RLE: 8, 16, 32) */
    uint16_t bits_stored;          /* 1 .. bits_allocated */
    uint8_t pixel_representation;  /* 0 unsigned, 1 signed */
    uint8_t planar_configuration;  /* of the output: 0 (rows, cols, samples), 1 planar */
    uint8_t photometric;           /* enum dcf_photometric */
} dcf_frame_spec;

/* Bytes per output sample: 1 for Bits Allocated 1 and 8, else bits / 8. */
static inline size_t dcf_sample_bytes(const dcf_frame_spec *spec)
{
    return spec->bits_allocated <= 8 ? 1u : (size_t)spec->bits_allocated / 8u;
}

/* Keep the low `width` bits of `value` (1 <= width <= 32), then either
 * clear the bits above them or fill those with bit (width - 1). The result is
 * the two's complement pattern, ready to be truncated to the output size. */
static inline uint32_t dcf_extend_bits(uint32_t value, unsigned width, int is_signed)
{
    const uint32_t mask = width >= 32u ? 0xFFFFFFFFu : (1u << width) - 1u;
    const uint32_t sign = 1u << (width - 1u);
    value &= mask;
    /* Unsigned wrap-around gives the sign extension without shifting
     * negative numbers, which C leaves implementation-defined. */
    return is_signed ? (value ^ sign) - sign : value;
}

/* Check the spec (dimensions, bit depths, flags) and that dst_size is exactly
 * the frame size rows * columns * samples * dcf_sample_bytes(). */
dcf_status dcf_frame_spec_check(const dcf_frame_spec *spec, size_t dst_size,
                                dcf_error *err);

/* DICOM RLE Lossless, PS3.5 Annex G. */
dcf_status dcf_rle_decode(const uint8_t *src, size_t src_size,
                          const dcf_frame_spec *spec, uint8_t *dst,
                          size_t dst_size, dcf_error *err);

/* JPEG-LS lossless and near-lossless (ITU-T T.87 / ISO/IEC 14495-1), our own
 * decoder: 2-16 bits, 1-4 components, every interleave mode, preset coding
 * parameters, restart intervals and CharLS's HP colour transforms. */
dcf_status dcf_jls_decode(const uint8_t *src, size_t src_size,
                          const dcf_frame_spec *spec, uint8_t *dst,
                          size_t dst_size, dcf_error *err);

/* JPEG 2000 Part 1 and HTJ2K (Part 15), raw codestream or JP2 file format.
 * `reduce` discards that many resolution levels (spec->rows/columns are then
 * the reduced size, ceil(full / 2^reduce)); `threads` > 1 lets OpenJPEG
 * decode code blocks in parallel when it was built with thread support. */
dcf_status dcf_j2k_decode(const uint8_t *src, size_t src_size,
                          const dcf_frame_spec *spec, uint8_t *dst,
                          size_t dst_size, int reduce, int threads,
                          dcf_error *err);

/* Versions of the codec libraries, e.g. "2.5.0". Static strings. */
const char *dcf_openjpeg_version(void);

#ifdef __cplusplus
}
#endif

#endif /* DCF_CODEC_H */
