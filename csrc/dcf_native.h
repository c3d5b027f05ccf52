/* Uncompressed ("native") Pixel Data: locating frame k and converting it
 * into the caller's buffer in one pass.
 *
 * The output is always colour-by-pixel (rows, columns, samples), native byte
 * order, one value per pixel (1-bit data unpacked to uint8), with the bits
 * above Bits Stored cleared (unsigned) or filled with the sign bit (signed),
 * as pydicom 3 does. YBR_FULL_422 is upsampled to full resolution; any
 * colour-space conversion is left to the caller. */
#ifndef DCF_NATIVE_H
#define DCF_NATIVE_H

#include <stddef.h>
#include <stdint.h>

#include "dcf_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dcf_native_layout {
    uint32_t rows;
    uint32_t columns;
    uint32_t samples_per_pixel;
    uint32_t bits_allocated;      /* 1, 8, 16, 32 or 64 */
    uint32_t bits_stored;         /* == bits_allocated for float data */
    uint8_t pixel_representation; /* 1: two's complement */
    uint8_t planar_configuration; /* 1: colour-by-plane in the source */
    uint8_t big_endian;           /* source values are big endian */
    uint8_t swap_ow_bytes;        /* 8-bit big endian data stored as OW: bytes swapped in pairs */
    uint8_t ybr_full_422;         /* source is YBR_FULL_422: 2 luma + 2 chroma per 2 pixels */
    uint8_t is_float;             /* Float / Double Float Pixel Data: no bit correction */
} dcf_native_layout;

/* Bytes of one decoded frame (what `dst_size` must be). */
uint64_t dcf_native_frame_size(const dcf_native_layout *layout);

/* Bits one frame occupies in the source (Pixel Data may be bit-packed). */
uint64_t dcf_native_frame_bits(const dcf_native_layout *layout);

/* Check `layout` for values this module cannot handle. */
dcf_status dcf_native_validate(const dcf_native_layout *layout, dcf_error *err);

/* Decode frame `index` of the Pixel Data value at `src` (`src_size` bytes
 * available) into `dst`. Fails naming the shortfall when the value is too
 * short for the frame. `pixel_tag` and `value_offset` only feed messages. */
dcf_status dcf_native_decode(const uint8_t *src, size_t src_size, uint64_t index,
                             const dcf_native_layout *layout, uint8_t *dst, size_t dst_size,
                             uint32_t pixel_tag, uint64_t value_offset, dcf_error *err);

/* dcf_native_decode with the output written around the cache (non-temporal
 * stores, on x86-64; elsewhere the same as dcf_native_decode): the same
 * values, for batches of frames larger than the caches, where it saves the
 * read of each output line before it is written. */
dcf_status dcf_native_decode_streaming(const uint8_t *src, size_t src_size, uint64_t index,
                                       const dcf_native_layout *layout, uint8_t *dst,
                                       size_t dst_size, uint32_t pixel_tag,
                                       uint64_t value_offset, dcf_error *err);

/* 1 if frame `index` can be handed out as a view of the source: byte
 * aligned, little endian, colour-by-pixel, not 4:2:2, and every value already
 * has its unused high bits in canonical form (this reads the frame, up to the
 * first block of 2048 samples holding a value that is not). */
int dcf_native_viewable(const uint8_t *src, size_t src_size, uint64_t index,
                        const dcf_native_layout *layout);

#ifdef __cplusplus
}
#endif

#endif /* DCF_NATIVE_H */
