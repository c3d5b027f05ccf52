/* Decoding a batch of frames on the C pool: see dcf_batch.h. */
#include "dcf_batch.h"

#include <pthread.h>

#include "dcf_jpeg_any.h"
#include "dcf_pool.h"

typedef struct batch {
    dcf_batch_step step;
    const void *context;
    unsigned blocks;                           /* threads the work was split for */
    pthread_mutex_t lock;                      /* guards what follows */
    size_t next[DCF_POOL_MAX_WORKERS + 1];     /* block w: next position to take ... */
    size_t end[DCF_POOL_MAX_WORKERS + 1];      /* ... and one past its last */
    size_t limit;                              /* no position at or above it is started */
    size_t failed;                             /* lowest failing position, or count */
    dcf_status status;
    dcf_error err;
} batch;

/* The next position for the thread of block `w`, or 0 with nothing left. */
static int take(batch *b, unsigned w, size_t *position)
{
    int found = 0;
    pthread_mutex_lock(&b->lock);
    if (w < b->blocks && b->next[w] < b->end[w] && b->next[w] < b->limit) {
        *position = b->next[w]++;
        found = 1;
    } else {
        unsigned victim = 0;
        size_t most = 0;
        for (unsigned v = 0; v < b->blocks; v++) {
            const size_t end = b->end[v] < b->limit ? b->end[v] : b->limit;
            const size_t left = end > b->next[v] ? end - b->next[v] : 0;
            if (left > most) {
                most = left;
                victim = v;
            }
        }
        if (most > 0) {
            const size_t end = b->end[victim] < b->limit ? b->end[victim] : b->limit;
            b->end[victim] = end - 1;
            *position = end - 1;
            found = 1;
        }
    }
    pthread_mutex_unlock(&b->lock);
    return found;
}

static void work(void *context, unsigned worker, unsigned workers)
{
    batch *b = context;
    size_t position;
    dcf_error err;
    (void)workers;
    while (take(b, worker, &position)) {
        dcf_error_clear(&err);
        const dcf_status status = b->step(b->context, position, &err);
        if (status == DCF_OK)
            continue;
        pthread_mutex_lock(&b->lock);
        if (position < b->limit)
            b->limit = position;
        if (position < b->failed) {
            b->failed = position;
            b->status = status;
            b->err = err;
        }
        pthread_mutex_unlock(&b->lock);
    }
}

dcf_status dcf_batch_run(dcf_batch_step step, const void *context, size_t count,
                         unsigned threads, size_t *failed, dcf_error *err)
{
    *failed = count;
    if (count == 0)
        return DCF_OK;
    batch *b = &(batch){0};
    b->step = step;
    b->context = context;
    if (threads > DCF_POOL_MAX_WORKERS + 1)
        threads = DCF_POOL_MAX_WORKERS + 1;
    if (threads > count)
        threads = (unsigned)count;
    if (threads == 0)
        threads = 1;
    b->blocks = threads;
    /* blocks of count / threads positions, the first count % threads one longer */
    const size_t share = count / threads, extra = count % threads;
    for (unsigned w = 0; w < threads; w++) {
        b->next[w] = share * w + (w < extra ? w : extra);
        b->end[w] = b->next[w] + share + (w < extra ? 1 : 0);
    }
    b->limit = count;
    b->failed = count;
    b->status = DCF_OK;
    pthread_mutex_init(&b->lock, NULL);
    /* Threads the pool could not give (busy, or none could be started) leave
     * their blocks to the others, which take them over through `take`. */
    dcf_pool_run(work, b, threads);
    pthread_mutex_destroy(&b->lock);
    if (b->status == DCF_OK)
        return DCF_OK;
    *failed = b->failed;
    *err = b->err;
    return b->status;
}

/* ---- compressed frames ---------------------------------------------------- */

typedef struct codec_batch {
    dcf_batch_codec codec;
    const dcf_batch_source *frames;
    const dcf_frame_spec *spec;
    uint8_t *dst;
    size_t frame_size;
    int codec_threads;
    int to_rgb;
    uint8_t *colour_done;
} codec_batch;

static dcf_status codec_step(const void *context, size_t position, dcf_error *err)
{
    const codec_batch *b = context;
    const dcf_batch_source *src = &b->frames[position];
    uint8_t *dst = b->dst + position * b->frame_size;
    switch (b->codec) {
    case DCF_BATCH_RLE:
        return dcf_rle_decode(src->data, src->size, b->spec, dst, b->frame_size, err);
    case DCF_BATCH_JLS:
        return dcf_jls_decode(src->data, src->size, b->spec, dst, b->frame_size, err);
    case DCF_BATCH_J2K:
        return dcf_j2k_decode(src->data, src->size, b->spec, dst, b->frame_size, 0,
                              b->codec_threads, err);
    case DCF_BATCH_JPEG: {
        int colour_done = 0;
        const dcf_status status = dcf_jpeg_any_decode(src->data, src->size, b->spec,
                                                      b->to_rgb, 0, dst, b->frame_size,
                                                      &colour_done, err);
        if (b->colour_done != NULL)
            b->colour_done[position] = (uint8_t)(colour_done != 0);
        return status;
    }
    }
    return dcf_fail(err, DCF_E_ARGUMENT, DCF_NO_TAG, 0, "unknown batch codec %d",
                    (int)b->codec);
}

dcf_status dcf_batch_decode(dcf_batch_codec codec, const dcf_batch_source *frames,
                            size_t count, const dcf_frame_spec *spec, uint8_t *dst,
                            size_t frame_size, unsigned threads, int codec_threads,
                            int to_rgb, uint8_t *colour_done, size_t *failed,
                            dcf_error *err)
{
    *failed = count;
    if (frame_size != 0 && count > SIZE_MAX / frame_size)
        return dcf_fail(err, DCF_E_ARGUMENT, DCF_NO_TAG, 0,
                        "%zu frames of %zu bytes overflow the address space", count, frame_size);
    const codec_batch b = {codec, frames, spec, dst, frame_size, codec_threads, to_rgb,
                           colour_done};
    return dcf_batch_run(codec_step, &b, count, threads, failed, err);
}

/* ---- native frames --------------------------------------------------------- */

typedef struct native_batch {
    const uint8_t *src;
    size_t src_size;
    const uint64_t *indices;
    const dcf_native_layout *layout;
    uint8_t *dst;
    size_t frame_size;
    int stream;
    uint32_t pixel_tag;
    uint64_t value_offset;
} native_batch;

static dcf_status native_step(const void *context, size_t position, dcf_error *err)
{
    const native_batch *b = context;
    uint8_t *dst = b->dst + position * b->frame_size;
    return (b->stream ? dcf_native_decode_streaming : dcf_native_decode)(
        b->src, b->src_size, b->indices[position], b->layout, dst, b->frame_size,
        b->pixel_tag, b->value_offset, err);
}

dcf_status dcf_batch_decode_native(const uint8_t *src, size_t src_size,
                                   const uint64_t *indices, size_t count,
                                   const dcf_native_layout *layout, uint8_t *dst,
                                   size_t frame_size, int stream, uint32_t pixel_tag,
                                   uint64_t value_offset, unsigned threads, size_t *failed,
                                   dcf_error *err)
{
    *failed = count;
    if (frame_size != 0 && count > SIZE_MAX / frame_size)
        return dcf_fail(err, DCF_E_ARGUMENT, pixel_tag, value_offset,
                        "%zu frames of %zu bytes overflow the address space", count, frame_size);
    const native_batch b = {src, src_size, indices, layout, dst, frame_size, stream,
                            pixel_tag, value_offset};
    return dcf_batch_run(native_step, &b, count, threads, failed, err);
}
