/* 8-bit DCT JPEG (ISO/IEC 10918-1 baseline SOF0, extended SOF1 with 8-bit
 * samples, progressive SOF2; arithmetic-coded SOF9/SOF10 too) on the system
 * libjpeg (libjpeg-turbo), for DICOM JPEG Baseline (Process 1) and the 8-bit
 * part of JPEG Extended (Process 2 & 4).
 *
 * 12-bit and lossless JPEG are not for this decoder: they fail with
 * DCF_E_UNSUPPORTED (another decoder of the core handles them).
 *
 * Like the other frame codecs it keeps no global state (the libjpeg error
 * manager and source live on the stack of each call), so it may run
 * concurrently from many threads without the GIL. */
#ifndef DCF_JPEG8_H
#define DCF_JPEG8_H

#include <stddef.h>
#include <stdint.h>

#include "dcf_codec.h"
#include "dcf_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest `reduce`: libjpeg scales the IDCT by 1/1, 1/2, 1/4 or 1/8. */
#define DCF_JPEG8_MAX_REDUCE 3

/* Decode one 8-bit DCT JPEG frame into dst.
 *
 * spec: rows and columns of the output, ceil(full / 2^reduce); samples per
 *   pixel equal to the stream's components; bits allocated 8. Bits Stored
 *   < 8 keeps the low bits (sign-extended for Pixel Representation 1), as
 *   pydicom's unused-bit correction does. planar_configuration 1 writes the
 *   components as planes (JPEG itself is always colour-by-pixel).
 * to_rgb: for 3 components, libjpeg converts YCbCr to RGB (fancy
 *   upsampling, ISLOW IDCT: Pillow's settings). Without it the stored YCbCr
 *   comes out, upsampled to full size. A stream libjpeg sees as RGB (Adobe
 *   APP14 transform 0, component IDs 'R','G','B', or no JFIF/Adobe marker
 *   while the dataset says RGB) is never converted. 1 component is grey,
 *   4 components come out as stored (CMYK/YCCK, no conversion).
 * reduce: 0..3, libjpeg's scaled IDCT (1 / 2^reduce).
 *
 * Errors: DCF_E_UNSUPPORTED for 12/16-bit, lossless or hierarchical JPEG;
 * DCF_E_PIXEL_DATA when the stream's size or components differ from spec;
 * DCF_E_TRUNCATED when the stream ends before its data does; DCF_E_CODEC with
 * libjpeg's message for a corrupt stream (including libjpeg warnings that
 * mean lost data: corrupt entropy data, a premature end of a data segment,
 * a missing restart marker). */
dcf_status dcf_jpeg8_decode(const uint8_t *src, size_t size,
                            const dcf_frame_spec *spec, int to_rgb, int reduce,
                            uint8_t *dst, size_t dst_size, dcf_error *err);

/* The header of a JPEG stream as libjpeg reads it (no decoding): image size,
 * components and sample precision. DCF_OK only for a stream this decoder
 * takes (8-bit DCT); for the fuzzer and for callers that size buffers. */
dcf_status dcf_jpeg8_read_header(const uint8_t *src, size_t size,
                                 uint32_t *rows, uint32_t *columns,
                                 uint16_t *components, dcf_error *err);

/* Version of the libjpeg this was built with, e.g. "libjpeg-turbo 2.1.5"
 * or "libjpeg 62". A static string. */
const char *dcf_libjpeg_version(void);

#ifdef __cplusplus
}
#endif

#endif /* DCF_JPEG8_H */
