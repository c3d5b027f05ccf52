/* Decoding a batch of frames into one output, on the C pool (dcf_pool.h).
 *
 * The batch is the whole call: frame pointers (or native frame numbers) in,
 * every frame decoded into its slot of one contiguous output, with no Python
 * between frames. Each thread takes its own contiguous block of positions in
 * order (its writes stay together: two threads faulting in the same huge page
 * of a fresh output are serialised by the kernel), then helps the others from
 * the far end of the block with the most left. After a failure at position p
 * no position above p is started; once all threads have stopped, the failure
 * of the lowest failing position is reported. */
#ifndef DCF_BATCH_H
#define DCF_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "dcf_codec.h"
#include "dcf_native.h"
#include "dcf_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Decode position `position` of a batch: DCF_OK, or a failure filled into err. */
typedef dcf_status (*dcf_batch_step)(const void *context, size_t position, dcf_error *err);

/* Run step(context, i, ...) for i in [0, count) on up to `threads` threads
 * (the caller's included), as described above. On failure returns its status,
 * `*failed` = the lowest failing position and `err` its error; otherwise
 * DCF_OK with `*failed` = count. */
dcf_status dcf_batch_run(dcf_batch_step step, const void *context, size_t count,
                         unsigned threads, size_t *failed, dcf_error *err);

/* The codecs a batch of compressed frames can run: those whose frame decode
 * needs nothing but the codestream and the spec. */
typedef enum dcf_batch_codec {
    DCF_BATCH_RLE = 0,
    DCF_BATCH_JLS = 1,
    DCF_BATCH_J2K = 2, /* JPEG 2000 and HTJ2K */
    DCF_BATCH_JPEG = 3 /* the JPEG family (dcf_jpeg_any.h) */
} dcf_batch_codec;

/* One frame's codestream. */
typedef struct dcf_batch_source {
    const uint8_t *data;
    size_t size;
} dcf_batch_source;

/* Decode frames[i] into dst + i * frame_size for i in [0, count), on up to
 * `threads` threads; `codec_threads` reaches the J2K decoder, `to_rgb` the
 * JPEG one (its colour conversion: libjpeg converts YCbCr itself, our own
 * decoder never does), and `colour_done` (NULL, or `count` bytes) receives
 * for each JPEG frame whether its colour was taken care of. Failures as for
 * dcf_batch_run. */
dcf_status dcf_batch_decode(dcf_batch_codec codec, const dcf_batch_source *frames,
                            size_t count, const dcf_frame_spec *spec, uint8_t *dst,
                            size_t frame_size, unsigned threads, int codec_threads,
                            int to_rgb, uint8_t *colour_done, size_t *failed,
                            dcf_error *err);

/* Native frames: frame indices[i] of the Pixel Data value `src` decoded into
 * dst + i * frame_size (dcf_native_decode, or its streaming form with
 * `stream`) for i in [0, count), on up to `threads` threads. `pixel_tag` and
 * `value_offset` feed messages. Failures as for dcf_batch_run. */
dcf_status dcf_batch_decode_native(const uint8_t *src, size_t src_size,
                                   const uint64_t *indices, size_t count,
                                   const dcf_native_layout *layout, uint8_t *dst,
                                   size_t frame_size, int stream, uint32_t pixel_tag,
                                   uint64_t value_offset, unsigned threads, size_t *failed,
                                   dcf_error *err);

#ifdef __cplusplus
}
#endif

#endif /* DCF_BATCH_H */
