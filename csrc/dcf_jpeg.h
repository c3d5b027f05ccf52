/* Our own decoder for the JPEG processes libjpeg-turbo's 8-bit DCT path does
 * not cover (ITU-T T.81 | ISO/IEC 10918-1):
 *   - lossless, process 14 (SOF3): predictors 1-7, point transform, precision
 *     2-16, 1-4 components, interleaved and non-interleaved scans;
 *   - 12-bit sequential DCT with Huffman coding (SOF0/SOF1, process 4): an
 *     integer IDCT equal to IJG's "islow" (jidctint), clamped to 0..4095.
 * Everything else (8-bit DCT, progressive, arithmetic coding, hierarchical)
 * is DCF_E_UNSUPPORTED here.
 *
 * Output: interleaved (rows, columns, samples) or planar per the spec, in the
 * container of spec->bits_allocated (8 or 16). Components with sampling
 * factors below the frame's maximum are upsampled as libjpeg-turbo does by
 * default: interpolated ("fancy") for 12-bit DCT components subsampled 2:1
 * (h2v1, h2v2, h1v2), replicated otherwise and in lossless frames. No
 * colour conversion: components come out as stored (YCbCr stays YCbCr).
 * Values as pydicom 3 returns them for JPEG: the decoded word (lossless:
 * modulo 2^16, shifted back by the point transform), then the bits above
 * Bits Stored cleared (Pixel Representation 0) or sign-filled (1).
 *
 * No global state; safe to call concurrently and without the GIL. */
#ifndef DCF_JPEG_H
#define DCF_JPEG_H

#include <stddef.h>
#include <stdint.h>

#include "dcf_codec.h"
#include "dcf_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DCF_JPEG_MAX_COMPONENTS 4

typedef struct dcf_jpeg_component_info {
    uint8_t id;      /* component identifier Ci */
    uint8_t h, v;    /* sampling factors, 1..4 */
    uint8_t tq;      /* quantisation table selector (0 for lossless) */
} dcf_jpeg_component_info;

typedef struct dcf_jpeg_info {
    uint8_t sof;              /* second byte of the SOF marker, 0xC0..0xCF */
    uint8_t precision;        /* P, bits per sample */
    uint16_t rows;            /* Y (0 if left to a DNL marker) */
    uint16_t columns;         /* X */
    uint8_t components;       /* Nf as in the frame header (1..255) */
    dcf_jpeg_component_info component[DCF_JPEG_MAX_COMPONENTS]; /* first 4 */
    uint64_t sof_offset;      /* byte offset of the SOF marker */
} dcf_jpeg_info;

/* Find the frame header (SOFn) and describe it. Skips APPn, COM, DHT, DQT,
 * DRI and other marker segments before it. */
dcf_status dcf_jpeg_peek(const uint8_t *src, size_t size, dcf_jpeg_info *info,
                         dcf_error *err);

/* Decode a SOF3 lossless or a 12-bit SOF0/SOF1 frame into dst
 * (dst_size = rows * columns * samples * bytes per sample). Anything else is
 * DCF_E_UNSUPPORTED naming the SOF. */
dcf_status dcf_jpeg_decode(const uint8_t *src, size_t size,
                           const dcf_frame_spec *spec, uint8_t *dst,
                           size_t dst_size, dcf_error *err);

#ifdef __cplusplus
}
#endif

#endif /* DCF_JPEG_H */
