/* The JPEG transfer syntaxes (1.2.840.10008.1.2.4.50/.51/.57/.70): each frame
 * is routed by its frame header. 8-bit DCT (SOF0/SOF1/SOF2, arithmetic too)
 * goes to libjpeg-turbo (dcf_jpeg8.h); lossless (SOF3) and 12-bit DCT go to
 * our own decoder (dcf_jpeg.h), which Debian's libjpeg-turbo 2.1 cannot do. */
#ifndef DCF_JPEG_ANY_H
#define DCF_JPEG_ANY_H

#include <stddef.h>
#include <stdint.h>

#include "dcf_codec.h"
#include "dcf_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Decode one JPEG frame into dst. `to_rgb` and `reduce` (0..3) reach the
 * 8-bit DCT decoder only: libjpeg converts YCbCr to RGB there, and sets
 * *colour_done to 1; our own decoder does no colour conversion (*colour_done
 * 0: the caller converts YBR_FULL as for native data) and refuses reduce > 0
 * with DCF_E_UNSUPPORTED. */
dcf_status dcf_jpeg_any_decode(const uint8_t *src, size_t size, const dcf_frame_spec *spec,
                               int to_rgb, int reduce, uint8_t *dst, size_t dst_size,
                               int *colour_done, dcf_error *err);

#ifdef __cplusplus
}
#endif

#endif /* DCF_JPEG_ANY_H */
