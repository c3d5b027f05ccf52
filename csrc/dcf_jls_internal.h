/* Shared internals of our JPEG-LS decoder (dcf_jls*.c), ITU-T T.87 /
 * ISO/IEC 14495-1: the frame and scan headers, the coding parameters, the
 * context state and the bit reader over entropy-coded data. Not part of the
 * public C API (that is dcf_jls_decode in dcf_codec.h). */
#ifndef DCF_JLS_INTERNAL_H
#define DCF_JLS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dcf_codec.h"

#define JLS_INLINE static inline __attribute__((always_inline))

#define JLS_MAX_COMPONENTS 4u
#define JLS_CONTEXTS 365u          /* regular-mode contexts, T.87 A.3.4 */
#define JLS_MAX_PRECISION 16u

/* ---- headers (dcf_jls_header.c) ---- */

/* LSE id 1 preset coding parameters; 0 = "use the default" (T.87 C.2.4.1.1). */
typedef struct jls_preset {
    uint32_t maxval, t1, t2, t3, reset;
} jls_preset;

typedef struct jls_frame {
    int have_sof;
    size_t sof_offset;
    unsigned precision;            /* P: 2..16 */
    uint32_t rows, columns;        /* Y, X */
    unsigned components;           /* Nf: 1..4 */
    uint8_t ids[JLS_MAX_COMPONENTS];
    jls_preset preset;             /* the latest LSE id 1, all 0 when none */
    uint32_t restart_interval;     /* DRI, in lines; 0 = none */
    unsigned transform;            /* APP8 "mrfx": 0 none, 1..3 = HP1..HP3 */
} jls_frame;

typedef struct jls_scan {
    size_t sos_offset;             /* of the SOS marker */
    size_t data;                   /* first byte of entropy-coded data */
    unsigned count;                /* Ns */
    unsigned index[JLS_MAX_COMPONENTS];  /* frame component index of each */
    unsigned near;                 /* NEAR */
    unsigned ilv;                  /* 0 none, 1 line, 2 sample */
} jls_scan;

/* Read marker segments from *pos up to and including the next SOS, updating
 * `frame` (SOF55, LSE, DRI, APP8 on the way) and filling `scan`. The first
 * call starts at SOI. Sets *ended (and returns DCF_OK) when EOI or the end
 * of the data comes before another SOS. */
dcf_status jls_next_scan(const uint8_t *src, size_t size, size_t *pos, jls_frame *frame,
                         jls_scan *scan, int *ended, dcf_error *err);

/* Offset of the next marker (0xFF then a byte >= 0x80 other than 0xFF) at or
 * after `pos`, skipping whatever comes before it; `size` if there is none. */
size_t jls_find_marker(const uint8_t *src, size_t size, size_t pos);

/* ---- coding parameters and state (dcf_jls_scan.c) ---- */

/* Derived parameters of one scan (T.87 A.2.1, C.2.4.1.1). */
typedef struct jls_params {
    int32_t maxval, near, range, qbpp, limit, reset, t1, t2, t3;
} jls_params;

/* Resolve presets and NEAR into the scan's parameters, checking that they
 * are those the standard allows. */
dcf_status jls_resolve_params(const jls_frame *frame, unsigned near, size_t offset,
                              jls_params *params, dcf_error *err);

typedef struct jls_ctx {
    int64_t a;                     /* 64 bits: RESET * RANGE can pass 2^31 */
    int32_t b, c, n;
    int32_t nn;                    /* run-interruption contexts only */
    int32_t k;                     /* the Golomb k of the next sample, computed at
                                    * the update: off the decoding's critical path */
    int32_t unused;
} jls_ctx;

/* Where decoded lines go: the caller's buffer, in its layout. */
typedef struct jls_output {
    uint8_t *dst;
    size_t bytes;                  /* per sample: 1, 2 or 4 */
    size_t row_stride, pixel_stride, comp_stride;   /* in samples */
    unsigned precision;
    int sign_extend;               /* store the P-bit values sign-extended */
} jls_output;

/* Decode one scan from scan->data into `out` (lines of `frame->columns`
 * samples). `lines` is scratch for 2 * (columns + 2) * scan->count int32.
 * On success *next is where to look for the marker after the scan. */
dcf_status jls_decode_scan(const uint8_t *src, size_t size, const jls_frame *frame,
                           const jls_scan *scan, const jls_params *params, int32_t *lines,
                           int8_t *quant, const jls_output *out, size_t *next,
                           dcf_error *err);

/* ---- bit reader over entropy-coded data ---- */

/* T.87 byte stuffing: after a 0xFF data byte, the next byte carries 7 bits
 * (its top bit is a stuffed 0); 0xFF followed by a byte >= 0x80 is a marker,
 * where the data ends. Bits are kept MSB first at the top of `buf`; bits
 * below the `count` valid ones are zero or the leading bits of the next byte
 * (never 0xFF), so running off the end reads zeros, counted in `pad`. */
typedef struct jls_bits {
    const uint8_t *p;              /* next byte to load */
    const uint8_t *end;            /* end of the data, or the marker found */
    uint64_t buf;
    int count;
    int after_ff;                  /* the last byte loaded was 0xFF */
    uint64_t pad;                  /* zero bits appended past `end` */
} jls_bits;

void jls_bits_init(jls_bits *b, const uint8_t *p, const uint8_t *end);
void jls_bits_fill_slow(jls_bits *b);

/* Top the buffer up to 56..63 bits. Fast path, without a data-dependent
 * branch: 8 bytes loaded and as many whole ones taken as fit, when none of
 * them is 0xFF (when the buffer is full it takes none: w >> count then only
 * rewrites the bits below count with what they already hold). */
JLS_INLINE void jls_bits_fill(jls_bits *b)
{
    if (__builtin_expect(b->end - b->p >= 8 && !b->after_ff, 1)) {
        uint64_t w;
        memcpy(&w, b->p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        w = __builtin_bswap64(w);
#endif
        /* No byte of w is 0xFF <=> no byte of ~w is zero. */
        const uint64_t inv = ~w;
        if (__builtin_expect(((inv - 0x0101010101010101ull) & ~inv & 0x8080808080808080ull) == 0, 1)) {
            const int take = (63 - b->count) >> 3;
            b->buf |= w >> b->count;
            b->p += take;
            b->count += take * 8;
            /* The bits below count now hold the top of the next byte, which
             * the next load ORs in again at the same place: no mask needed. */
            return;
        }
    }
    jls_bits_fill_slow(b);
}

/* Consume n bits, 0 <= n <= min(count, 63). */
JLS_INLINE void jls_bits_skip(jls_bits *b, int n)
{
    b->buf <<= n;
    b->count -= n;
}

/* Read n bits, 0 <= n <= 32. */
JLS_INLINE uint32_t jls_bits_read(jls_bits *b, int n)
{
    if (b->count < n)
        jls_bits_fill(b);
    const uint32_t v = (uint32_t)((b->buf >> 1) >> (63 - n));  /* n = 0 reads 0 */
    b->buf <<= n;
    b->count -= n;
    return v;
}

#endif /* DCF_JLS_INTERNAL_H */
