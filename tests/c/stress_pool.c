/* Stress test of the C worker pool and the batch decoder, meant to run under
 * ThreadSanitizer (tests/test_pool.py builds and runs it).
 *
 * Several caller threads run jobs at once (so most find the pool busy and run
 * alone), with worker counts from 1 to 9, sleeping now and then longer than a
 * worker spins (so both the spinning and the sleeping hand-overs are taken),
 * and prewakes between. Each job checks that every part ran exactly once and
 * that all its writes are visible once dcf_pool_run returns. Batches of RLE
 * frames, some corrupt, check that dcf_batch_decode decodes every frame before
 * the first corrupt one and reports exactly that one.
 *
 * Exit status 0 and "ok" on success; a message and status 1 otherwise. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dcf_batch.h"
#include "dcf_pool.h"

#define CALLERS 4
#define ROUNDS 300
#define PARTS 64

static atomic_int failures;

static void fail(const char *what, long a, long b)
{
    fprintf(stderr, "FAIL: %s (%ld, %ld)\n", what, a, b);
    atomic_fetch_add(&failures, 1);
}

typedef struct job {
    atomic_int next;          /* next part to claim */
    int parts;
    int ran[PARTS];           /* plain writes: visible to the caller only through the pool */
    int calls[DCF_POOL_MAX_WORKERS + 1];
} job;

static void job_task(void *context, unsigned worker, unsigned workers)
{
    job *j = context;
    if (worker >= workers)
        fail("worker id out of range", worker, workers);
    j->calls[worker]++;
    for (;;) {
        const int part = atomic_fetch_add(&j->next, 1);
        if (part >= j->parts)
            break;
        j->ran[part]++;
    }
}

static unsigned next_random(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return (*state >> 8) & 0xFFFFFF;
}

static void pause_us(long us)
{
    struct timespec ts = {0, us * 1000L};
    nanosleep(&ts, NULL);
}

/* One RLE frame of rows x columns 8-bit samples equal to (seed + i) & 0xFF:
 * a 64-byte header and one segment of literal runs. Returns its size. */
enum { ROWS = 16, COLUMNS = 16, FRAME = ROWS * COLUMNS, RLE_MAX = 64 + FRAME + FRAME / 128 + 2 };

static size_t encode_rle(uint8_t *out, unsigned seed)
{
    memset(out, 0, 64);
    out[0] = 1;  /* one segment, at offset 64 */
    out[4] = 64;
    size_t at = 64;
    for (int i = 0; i < FRAME; i += 128) {
        const int run = FRAME - i < 128 ? FRAME - i : 128;
        out[at++] = (uint8_t)(run - 1);
        for (int k = 0; k < run; k++)
            out[at++] = (uint8_t)(seed + (unsigned)(i + k));
    }
    return at;
}

static void run_batch(unsigned *state)
{
    enum { MAX_FRAMES = 24 };
    static const dcf_frame_spec spec = {ROWS, COLUMNS, 1, 8, 8, 0, 0, DCF_PHOTOMETRIC_MONOCHROME2};
    uint8_t encoded[MAX_FRAMES][RLE_MAX];
    dcf_batch_source frames[MAX_FRAMES];
    uint8_t *out = malloc((size_t)MAX_FRAMES * FRAME);
    const size_t count = 1 + next_random(state) % MAX_FRAMES;
    size_t first_bad = count;
    for (size_t i = 0; i < count; i++) {
        frames[i].data = encoded[i];
        frames[i].size = encode_rle(encoded[i], (unsigned)i * 7u);
        if (next_random(state) % 8 == 0) {
            encoded[i][0] = 99;  /* 99 segments: refused */
            if (i < first_bad)
                first_bad = i;
        }
    }
    memset(out, 0xEE, (size_t)MAX_FRAMES * FRAME);
    size_t failed = 12345;
    dcf_error err;
    dcf_error_clear(&err);
    const unsigned threads = 1 + next_random(state) % 9;
    const dcf_status status = dcf_batch_decode(DCF_BATCH_RLE, frames, count, &spec, out,
                                               FRAME, threads, 1, 1, NULL, &failed,
                                               &err);
    if ((status == DCF_OK) != (first_bad == count))
        fail("batch status", (long)status, (long)first_bad);
    if (failed != first_bad)
        fail("failing position", (long)failed, (long)first_bad);
    for (size_t i = 0; i < first_bad; i++)
        for (int k = 0; k < FRAME; k++)
            if (out[i * FRAME + k] != (uint8_t)(i * 7u + (unsigned)k)) {
                fail("decoded sample", (long)i, k);
                break;
            }
    free(out);
}

static void *caller(void *arg)
{
    unsigned state = (unsigned)(uintptr_t)arg * 2654435761u + 1u;
    job *j = malloc(sizeof *j);
    for (int round = 0; round < ROUNDS; round++) {
        memset(j, 0, sizeof *j);
        j->parts = 1 + (int)(next_random(&state) % PARTS);
        const unsigned workers = 1 + next_random(&state) % 9;
        if (next_random(&state) % 4 == 0)
            dcf_pool_prewake(workers);
        const unsigned took = dcf_pool_run(job_task, j, workers);
        if (took < 1 || took > workers)
            fail("threads taking part", took, workers);
        for (int p = 0; p < j->parts; p++)
            if (j->ran[p] != 1)
                fail("part ran other than once", p, j->ran[p]);
        for (unsigned w = 0; w <= DCF_POOL_MAX_WORKERS; w++)
            if (j->calls[w] != (w < took))
                fail("worker called other than once", w, j->calls[w]);
        if (round % 3 == 0)
            run_batch(&state);
        if (next_random(&state) % 8 == 0)
            pause_us(1000);  /* longer than workers spin: they go to sleep */
    }
    free(j);
    return NULL;
}

int main(void)
{
    pthread_t threads[CALLERS];
    for (int i = 0; i < CALLERS; i++)
        pthread_create(&threads[i], NULL, caller, (void *)(uintptr_t)(i + 1));
    for (int i = 0; i < CALLERS; i++)
        pthread_join(threads[i], NULL);
    if (atomic_load(&failures)) {
        fprintf(stderr, "%d failures\n", atomic_load(&failures));
        return 1;
    }
    puts("ok");
    return 0;
}
