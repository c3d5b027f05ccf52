/* Deflated Image Frame Compression (PS3.5 8.2.16, A.4.13): each frame is the
 * native frame's bytes (little endian, bit-packed frames start on a byte)
 * compressed with raw deflate (RFC 1951, no zlib header), one frame per
 * fragment. Decoded by inflating, then converting as native data. */
#ifndef DCF_DEFLATE_H
#define DCF_DEFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "dcf_native.h"
#include "dcf_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Deflate writes at most this many output bytes per input byte (a run of
 * 258-byte matches coded in 2 bits each, plus block overhead): a frame larger
 * than this times its codestream cannot be there, and is refused before any
 * allocation. */
#define DCF_DEFLATE_MAX_RATIO 1032u

/* Inflate one frame (`src`, `src_size` bytes: the fragments of the frame) and
 * convert it into `dst` exactly as dcf_native_decode converts native frame 0.
 * The inflated frame must hold exactly ceil(frame bits / 8) bytes; bytes after
 * the end of the deflate stream (the DICOM pad byte) are ignored. */
dcf_status dcf_deflate_frame_decode(const uint8_t *src, size_t src_size,
                                    const dcf_native_layout *layout, uint8_t *dst,
                                    size_t dst_size, dcf_error *err);

#ifdef __cplusplus
}
#endif

#endif /* DCF_DEFLATE_H */
